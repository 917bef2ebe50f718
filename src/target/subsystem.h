#pragma once
// subsystem: an NVM subsystem (or the discovery subsystem) of the target.
//
// Threading: every field is guarded by the owning nvmf_target's mutex (nvmf_target::mu()),
// except the namespace-table generation, which the I/O path reads without the lock to learn
// that it must take a fresh snapshot (namespaces_snapshot(), under the lock).
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "proto/ana_log.h"
#include "proto/nqn.h"
#include "target/dhchap_config.h"
#include "target/queue_endpoint.h"
#include "target/target_namespace.h"
#include "tls/tls_psk.h"

namespace nvmfd {

class controller;

enum class subsystem_kind : uint8_t { nvme, discovery };

struct listen_address {
  std::string trtype = "TCP";  // a target_transport's name (add_listener normalises it)
  std::string adrfam = "IPv4";
  std::string traddr;
  std::string trsvcid;
  // TLS 1.3 with a PSK only (TP 8011; SPDK's secure_channel): the listener refuses clear text.
  bool secure_channel = false;
  // ANA state of each ANA group through this listener; groups not listed are optimized.
  std::map<uint32_t, ana_state> ana_states;
  // ANA change count of this port: bumped on every change of what its ANA log shows.
  uint64_t ana_chgcnt = 0;
  ana_state state_of(uint32_t anagrpid) const {
    auto it = ana_states.find(anagrpid);
    return it == ana_states.end() ? ana_state::optimized : it->second;
  }
  bool operator==(const listen_address& o) const { return traddr == o.traddr && trsvcid == o.trsvcid; }
};

// 0.0.0.0 or ::
bool is_wildcard_address(const std::string& traddr);

class subsystem {
 public:
  subsystem(std::string nqn, subsystem_kind type, uint32_t max_namespaces)
      : nqn_(std::move(nqn)), type_(type), table_(std::make_shared<namespace_table>(max_namespaces)) {}

  const std::string& nqn() const { return nqn_; }
  subsystem_kind type() const { return type_; }

  // --- configuration (guarded by the target mutex) ---
  std::string serial_number = "00000000000000000000";
  std::string model_number = "nvmfd Controller";
  bool allow_any_host = false;
  bool ana_reporting = false;
  cntlid_t min_cntlid{1};
  cntlid_t max_cntlid{0xffef};
  std::set<std::string> hosts;
  // DH-HMAC-CHAP key names of the hosts that must authenticate (each one in `hosts`).
  std::map<std::string, host_dhchap_keys> host_keys;
  // The TLS PSK of a host on the allow list that has one (nvmf_subsystem_add_host --psk):
  // the key's name as configured (shown by nvmf_get_subsystems, kept by save_config) and
  // its material, resolved when the host was added. A secure listener's handshake looks it
  // up by the PSK identity's host NQN and this subsystem's NQN.
  struct host_psk {
    std::string key_name;
    std::shared_ptr<const tls::configured_psk> key;
  };
  std::map<std::string, host_psk> host_psks;
  std::vector<listen_address> listeners;

  bool host_allowed(const std::string& hostnqn) const { return allow_any_host || hosts.count(hostnqn) > 0; }
  // Exactly this listener is configured.
  bool listens_on(const std::string& traddr, const std::string& trsvcid) const;
  // A connection that arrived on local endpoint `local` may reach this subsystem (a listener
  // of the same transport: an exact one, or a wildcard one on that port).
  bool accepts_connection_on(const queue_endpoint& local) const;
  // The listener a connection on local endpoint `local` came through (same transport): the
  // exact one, else a wildcard one on that port; nullptr if none.
  listen_address* listener_for(const queue_endpoint& local);
  // Exactly this listener (address and port), or nullptr.
  listen_address* find_listener(const std::string& traddr, const std::string& trsvcid);
  // Bumps the namespace generation without changing the table, so that every queue pair
  // takes a fresh snapshot (ANA states changed).
  void republish() { generation_.fetch_add(1, std::memory_order_release); }
  uint32_t max_namespaces() const { return table_->max_nsid().value; }

  // Namespaces: the current table (immutable) and its generation.
  std::shared_ptr<const namespace_table> namespaces_snapshot() const { return table_; }
  uint64_t ns_generation() const { return generation_.load(std::memory_order_acquire); }
  // The counter itself, for a queue to read without reaching the subsystem each command.
  const std::atomic<uint64_t>& ns_generation_counter() const { return generation_; }
  // Publishes a new table (copy-on-write by the caller).
  void publish(std::shared_ptr<const namespace_table> t) {
    table_ = std::move(t);
    generation_.fetch_add(1, std::memory_order_release);
  }
  // Publishes a table in which slot nsid holds ns (nullptr: no namespace there).
  void set_namespace(nsid_t nsid, std::shared_ptr<const target_namespace> ns);
  // Publishes a table in which namespace nsid (active) carries its reservation's current
  // view; returns the new generation. Commands that take a snapshot from then on see it.
  uint64_t publish_reservation(nsid_t nsid);

  // Controllers of this subsystem, by cntlid.
  std::map<cntlid_t, std::weak_ptr<controller>>& controllers() { return controllers_; }
  // The next free cntlid in [min_cntlid, max_cntlid], or none if all are in use.
  std::optional<cntlid_t> allocate_cntlid();

 private:
  std::string nqn_;
  subsystem_kind type_;
  std::shared_ptr<const namespace_table> table_;
  std::atomic<uint64_t> generation_{1};
  std::map<cntlid_t, std::weak_ptr<controller>> controllers_;
  uint16_t next_cntlid_ = 0;  // offset from min_cntlid where the next search starts
};

}  // namespace nvmfd
