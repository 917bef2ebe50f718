#pragma once
// target_namespace: one namespace of a subsystem, and the immutable table of a subsystem's
// namespaces that the I/O path reads (a new table is published on every change).
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/strong_id.h"
#include "base/uuid.h"
#include "bdev/bdev.h"
#include "target/reservation_state.h"

namespace nvmfd {

class ptpl_writer;

struct target_namespace {
  nsid_t nsid;
  std::shared_ptr<bdev> dev;
  uuid id;                              // NIDT 3
  std::array<uint8_t, 16> nguid{};      // NIDT 2
  std::optional<std::array<uint8_t, 8>> eui64;  // NIDT 1, when configured
  uint32_t anagrpid = 1;
  // Its reservation (mutable, guarded by the target mutex; the copies of this namespace in
  // later tables share it) and the view of it that commands check: null while no
  // reservation is held, so that the I/O path tests one pointer.
  std::shared_ptr<reservation_state> reservations = std::make_shared<reservation_state>();
  std::shared_ptr<const reservation_view> reservation;
  // The file its reservation persists in through power loss (nvmf_subsystem_add_ns
  // --ptpl-file), shared by the copies; null when it does not persist.
  std::shared_ptr<ptpl_writer> ptpl;
  // Per-host visibility (nvmf_subsystem_add_ns no_auto_visible, nvmf_ns_add_host): a host
  // sees the namespace when it is visible to every host, or when its NQN is listed.
  bool auto_visible = true;
  std::vector<std::string> visible_hosts;  // sorted
  bool visible_to(const std::string& hostnqn) const {
    return auto_visible || std::binary_search(visible_hosts.begin(), visible_hosts.end(), hostnqn);
  }
  // The bdev's UUID as a ptpl file names it (the namespace's when the bdev has none).
  uuid bdev_identity() const { return dev->id().is_zero() ? id : dev->id(); }
};

class namespace_table {
 public:
  explicit namespace_table(uint32_t max_namespaces) : slots_(max_namespaces) {}

  // The highest valid NSID (MNAN/NN): IDs are 1 .. max_nsid().
  nsid_t max_nsid() const { return nsid_t{static_cast<uint32_t>(slots_.size())}; }
  bool in_range(nsid_t nsid) const { return nsid.value != 0 && nsid <= max_nsid(); }
  // The slot of an in-range NSID (slots() and per-namespace arrays are indexed by it).
  static size_t slot_of(nsid_t nsid) { return nsid.value - 1; }
  // The active namespace with this id, or nullptr (inactive or out of range).
  const target_namespace* find(nsid_t nsid) const {
    if (!in_range(nsid)) return nullptr;
    return slots_[slot_of(nsid)].get();
  }
  std::vector<nsid_t> active_nsids() const {
    std::vector<nsid_t> ids;
    for (auto& s : slots_)
      if (s) ids.push_back(s->nsid);
    return ids;
  }
  bool any_volatile_cache() const {
    for (auto& s : slots_)
      if (s && s->dev->has_volatile_cache()) return true;
    return false;
  }
  std::vector<std::shared_ptr<const target_namespace>>& slots() { return slots_; }
  const std::vector<std::shared_ptr<const target_namespace>>& slots() const { return slots_; }

 private:
  std::vector<std::shared_ptr<const target_namespace>> slots_;
};

}  // namespace nvmfd
