#pragma once
// reservation_state: the NVMe reservation of one namespace (NVMe Base 2.0 8.19): its
// registrants, identified by Host Identifier (so one registration covers every controller
// and path of a host), the reservation type and holder, the generation, and whether it
// persists through power loss. The rules of Register, Acquire, Release and Report live
// here, as pure logic: each operation returns the command's status and says what follows
// (notices to send, hosts whose commands must drain, whether anything changed).
//
// reservation_view is the immutable part the I/O path checks: null while no reservation is
// held, so that a namespace without one costs a null pointer test per command.
//
// Threading: a reservation_state is guarded by the target's mutex; a view is immutable.
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/uuid.h"
#include "proto/nvme_command.h"
#include "proto/reservations.h"

namespace nvmfd {

struct reservation_registrant {
  uuid hostid;
  uint64_t rkey = 0;
  bool operator==(const reservation_registrant&) const = default;
};

// What a held reservation allows; made by reservation_state::view().
class reservation_view {
 public:
  reservation_view(reservation_type type, uuid holder, std::vector<uuid> registrants)
      : type_(type), holder_(holder), registrants_(std::move(registrants)) {}
  // May host run a command of this access group on the namespace (Base 2.0 Figure 531)?
  bool allows(const uuid& host, reservation_access access) const;
  reservation_type type() const { return type_; }

 private:
  bool registered(const uuid& host) const;
  reservation_type type_;
  uuid holder_;  // unused by the all-registrants types
  std::vector<uuid> registrants_;
};

// What an operation leads to, beyond its status.
struct reservation_effects {
  bool changed = false;                                       // publish a new view; persist
  std::vector<std::pair<uuid, reservation_notice>> notices;   // to every controller of that host
  std::vector<uuid> preempted_and_aborted;                    // their commands must drain first
};

class reservation_state {
 public:
  // At most this many registrants per namespace (each a distinct Host Identifier).
  static constexpr size_t max_registrants = 256;

  // Reservation Register from host. ptpl_capable: the namespace has a ptpl file (CPTPL
  // "set" needs one).
  nvme_status register_key(const uuid& host, const reservation_register_fields& f, const reservation_register_data& d,
                           bool ptpl_capable, reservation_effects& fx);
  nvme_status acquire(const uuid& host, const reservation_acquire_fields& f, const reservation_acquire_data& d,
                      reservation_effects& fx);
  nvme_status release(const uuid& host, const reservation_release_fields& f, const reservation_release_data& d,
                      reservation_effects& fx);
  // The Reservation Status data structure, whole (the command sends what fits); EDS = 0 is
  // Host Identifier Inconsistent Format, as host IDs are 128-bit on fabrics.
  std::optional<std::vector<std::byte>> report(bool eds) const;

  // The view for the I/O path: null while no reservation is held.
  std::shared_ptr<const reservation_view> view() const;

  // --- state, for persistence and tests ---
  uint32_t generation() const { return generation_; }
  reservation_type type() const { return type_; }
  // The holder; for the all-registrants types the first registrant, as SPDK keeps it.
  std::optional<uuid> holder() const;
  const std::vector<reservation_registrant>& registrants() const { return registrants_; }
  bool ptpl() const { return ptpl_; }
  // Set Features Reservation Persistence.
  void set_ptpl(bool on) { ptpl_ = on; }
  // State read back from a ptpl file (already checked: the holder, if any, is a
  // registrant; at most max_registrants, no host twice).
  void restore(std::vector<reservation_registrant> regs, reservation_type type, std::optional<uuid> holder,
               bool ptpl);

 private:
  reservation_registrant* find(const uuid& host);
  bool is_holder(const uuid& host) const;
  // Removes host's registration; the reservation goes with it as the rules say. Sends
  // "reservation released" to the others when a registrants-only reservation ends so.
  void unregister(const uuid& host, reservation_effects& fx);
  nvme_status add_registrant(const uuid& host, uint64_t rkey, reservation_effects& fx);
  // Removes every registrant but `keep` (only those with rkey, when given), each told
  // "registration preempted" (and its commands drained first when abort); returns how many.
  size_t preempt(const uuid& keep, std::optional<uint64_t> rkey, bool abort, reservation_effects& fx);
  void notify_others(const uuid& host, reservation_notice n, reservation_effects& fx) const;
  void bump() { ++generation_; }

  std::vector<reservation_registrant> registrants_;  // in registration order
  reservation_type type_ = reservation_type::none;
  uuid holder_{};  // meaningful while type_ != none and not all-registrants
  uint32_t generation_ = 0;
  bool ptpl_ = false;
};

}  // namespace nvmfd
