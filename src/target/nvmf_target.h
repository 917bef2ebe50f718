#pragma once
// nvmf_target: the NVMe-oF target of one nvmfd process: its transports (target_transport:
// NVMe/TCP today), subsystems, listeners and live connections (target_queue).
//
// Threading: the configuration methods (create_*, add_*, remove_*, delete_*) are called on
// the control thread (RPC). Configuration is guarded by mu(); reactors take it only on the
// control path (Connect, Identify, log pages), never per I/O. Each connection (a
// transport's target_queue) lives on one reactor and is owned by that reactor's connection set. The methods that
// disconnect controllers (delete_subsystem, remove_listener, remove_host) wait for the
// reactors, so they must never be called on a reactor thread.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "auth/controller_auth.h"
#include "base/strong_id.h"
#include "reactor/loop_thread.h"
#include "reactor/reactor.h"
#include "target/poll_group_stats.h"
#include "target/discovery_filter.h"
#include "target/discovery_referral.h"
#include "target/discovery_registration.h"
#include "target/subsystem.h"
#include "target/target_queue.h"
#include "target/target_transport.h"

namespace nvmfd {

class controller;
class countdown;

struct subsystem_params {
  std::string nqn;
  std::string serial_number;
  std::string model_number;
  uint32_t max_namespaces = 32;
  bool allow_any_host = false;
  bool ana_reporting = false;
  cntlid_t min_cntlid{1};
  cntlid_t max_cntlid{0xffef};
};

struct namespace_params {
  std::shared_ptr<bdev> dev;
  nsid_t nsid;                                    // 0: lowest free
  std::optional<uuid> id;
  std::optional<std::array<uint8_t, 16>> nguid;
  std::optional<std::array<uint8_t, 8>> eui64;
  uint32_t anagrpid = 0;                          // 0: same as nsid; at most max_namespaces
  // Reservations persist through power loss in this file (SPDK's ptpl_file): read when the
  // namespace is added (an unusable file refuses the namespace), written durably on every
  // change while PTPL is on. Empty: they do not persist.
  std::string ptpl_file;
  // Visible to no host until nvmf_ns_add_host names it (SPDK's no_auto_visible).
  bool no_auto_visible = false;
};

struct controller_info {
  cntlid_t cntlid;
  std::string hostnqn;
  uuid hostid;
  size_t num_io_qpairs;
  std::string secure_channel;  // controller::secure_channel
};

class nvmf_target {
 public:
  explicit nvmf_target(reactor_pool& reactors);
  ~nvmf_target();
  nvmf_target(const nvmf_target&) = delete;
  nvmf_target& operator=(const nvmf_target&) = delete;

  std::mutex& mu() const { return mu_; }
  reactor_pool& reactors() { return reactors_; }

  // --- control thread ---
  // Adds a transport (nvmf_create_transport makes the TCP one): one per name, a second is
  // already_exists. Transports stay until the target is destroyed.
  result<void> add_transport(std::unique_ptr<target_transport> t);
  // The transport named trtype (any case), or nullptr.
  target_transport* find_transport(std::string_view trtype) const;
  // Every transport, in the order added.
  std::vector<target_transport*> transports() const;
  result<std::shared_ptr<subsystem>> create_subsystem(const subsystem_params& p);
  result<void> delete_subsystem(const std::string& nqn);
  result<void> add_listener(const std::string& nqn, const listen_address& a);
  // Removes the listener and, as SPDK and Linux nvmet do, disconnects the subsystem's
  // controllers whose admin queue connected through it (a wildcard listener: those that
  // matched it); controllers on other listeners, and other subsystems' controllers on the
  // same address, stay. When it returns, every queue of those controllers is closed.
  result<void> remove_listener(const std::string& nqn, const listen_address& a);
  result<nsid_t> add_namespace(const std::string& nqn, const namespace_params& p);
  result<void> remove_namespace(const std::string& nqn, nsid_t nsid);
  // Per-host visibility of a namespace added with no_auto_visible (SPDK's nvmf_ns_add_host /
  // nvmf_ns_remove_host): the host sees it in Identify, may use it for I/O, and its
  // controllers (only theirs) get a Namespace Attribute Changed notice. invalid_argument on
  // an auto-visible namespace or a bad NQN; already_exists / not_found for the host.
  result<void> ns_add_host(const std::string& nqn, nsid_t nsid, const std::string& hostnqn);
  result<void> ns_remove_host(const std::string& nqn, nsid_t nsid, const std::string& hostnqn);
  // With psk: the host's TLS PSK for this subsystem's secure listeners (subsystem::host_psk).
  result<void> add_host(const std::string& nqn, const std::string& hostnqn,
                        std::optional<subsystem::host_psk> psk = std::nullopt);
  result<void> remove_host(const std::string& nqn, const std::string& hostnqn);
  result<void> set_allow_any_host(const std::string& nqn, bool allow);
  // DH-HMAC-CHAP keys of a host on the subsystem's allow list (SPDK's nvmf_subsystem_set_keys;
  // the discovery subsystem too): replaces its key names, empty ones clear them (the host
  // then connects without authentication). They apply from the host's next authentication.
  // invalid_argument for a controller key without a host key; not_found for a host not on the
  // list, or a key the resolver does not know.
  result<void> set_host_keys(const std::string& nqn, const std::string& hostnqn, const host_dhchap_keys& keys);
  // What nvmf_set_config allows; applies to authentications that start from now on.
  void set_dhchap_policy(const dhchap_policy& p);
  dhchap_policy current_dhchap_policy() const;
  // Wiring, before any Connect: where key names are resolved (the daemon's keyring).
  void set_dhchap_key_resolver(dhchap_key_resolver r);
  // The authentication a host must pass on subsystem s: nullopt when it has no key.
  // not_found when a key name no longer resolves (the key was removed from the keyring).
  // Any thread, without mu() held.
  result<std::optional<auth::controller_auth_config>> dhchap_config_for(const subsystem& s,
                                                                       const std::string& hostnqn) const;
  // The thread for the target's slow work, so that it never stalls the I/O of a reactor: the
  // arithmetic of authentication (DH-HMAC-CHAP's FFDHE) and the durable writes of
  // reservation (ptpl) files. One loop, made at first use, so that however many hosts
  // authenticate at once, they take one core at most (the writes of one file keep the
  // order of its changes by ptpl_writer, not by this loop's order). Any thread.
  reactor& worker();
  // ANA state of listener a (exact address) for group anagrpid, or for every group
  // 1..max_namespaces when anagrpid is empty. Controllers connected through it get an ANA
  // change notice when anything changed.
  // Refuses (invalid_argument, naming the manager) a group that an ana_manager manages;
  // without anagrpid it sets every group that none manages.
  result<void> set_ana_state(const std::string& nqn, const listen_address& a, ana_state st,
                             std::optional<uint32_t> anagrpid);
  // ANA groups whose state something other than RPCs decides (a gateway group, src/gateway):
  // state_of(nqn, anagrpid) is the state every listener of that subsystem must show for a
  // managed group, nullopt for a group it does not manage. New listeners start with it,
  // set_ana_state refuses to change it, save_config leaves it out (nvmf_rpc.cc); the manager
  // changes it with apply_managed_ana_state. state_of is called under mu(): it must not call
  // the target. One manager (set before the listeners it covers are added; nullopt removes it).
  struct ana_manager {
    std::string name;  // for messages: "gateway group 'gw'"
    std::function<std::optional<ana_state>(const std::string& nqn, uint32_t anagrpid)> state_of;
    // May a namespace on dev be in group anagrpid (add_namespace, set_ns_ana_group)? Its error
    // is theirs. Empty: any. Called under mu().
    std::function<result<void>(const std::string& nqn, uint32_t anagrpid, const bdev& dev)> admit;
  };
  void set_ana_manager(std::optional<ana_manager> m);
  std::optional<ana_state> managed_ana_state_locked(const std::string& nqn, uint32_t anagrpid) const;
  result<void> admit_locked(const std::string& nqn, uint32_t anagrpid, const bdev& dev) const;
  // The manager's own change: group anagrpid on every listener of every NVM subsystem becomes
  // st; controllers get an ANA change notice where something changed. Returns how many
  // listeners changed.
  size_t apply_managed_ana_state(uint32_t anagrpid, ana_state st);
  // Moves namespace nsid to ANA group anagrpid (1..max_namespaces); every controller of
  // the subsystem gets an ANA change notice.
  result<void> set_ns_ana_group(const std::string& nqn, nsid_t nsid, uint32_t anagrpid);
  // Referrals in the discovery log, after the subsystems' entries, in the order added.
  // Adding one that exists (same address, service and NQN) succeeds and changes nothing,
  // as in SPDK; removing one that does not exist is not_found; a bad NQN is invalid_argument.
  result<void> add_referral(const discovery_referral& r);
  result<void> remove_referral(const discovery_referral& r);
  std::vector<discovery_referral> referrals() const;

  // Registrations of other targets' subsystems (discovery_registration.h). add: idempotent
  // per (source, subnqn, address); remove: not_found when that source has no such entry;
  // set_registrations: replaces every entry of one source (a discovery service's latest
  // findings). Each real change is one new log generation and one change notice.
  result<void> add_registration(const discovery_registration& r);
  result<void> remove_registration(const discovery_registration& r);
  void set_registrations(const std::string& source, std::vector<discovery_registration> regs);
  std::vector<discovery_registration> registrations() const;
  // Referrals a CDC in referral mode derives from one source (a discovery service): replaces
  // that source's set; listed after the RPC-made ones, each address/NQN once. Not in
  // referrals() or the config (they come back with the source).
  void set_found_referrals(const std::string& source, std::vector<discovery_referral> refs);
  std::vector<std::string> found_referral_sources() const;
  // Which listeners the discovery log shows (see discovery_filter.h). A change that
  // changes the filter is a discovery log change.
  void set_discovery_filter(const discovery_filter& f);
  discovery_filter current_discovery_filter() const;
  // The listeners of a subsystem, with their ANA states.
  result<std::vector<listen_address>> listeners(const std::string& nqn) const;
  result<std::vector<controller_info>> controllers(const std::string& nqn) const;
  // Every subsystem, the discovery subsystem first. Read fields under mu().
  std::vector<std::shared_ptr<subsystem>> subsystems() const;
  // Statistics (target_stats.cc), gathered on each reactor in turn (run_on): off reactors
  // only. Every reactor's poll group, in reactor order; a subsystem's connected queues.
  std::vector<poll_group_info> poll_groups();
  result<std::vector<qpair_info>> qpairs(const std::string& nqn);
  // Reactor i's counters: written by reactor i only (poll_group_stats.h).
  poll_group_stats& poll_group(unsigned i) { return stats_[i]; }
  // Closes every listener and connection, and returns once every connection has been
  // released (its bdev I/O back), or after shutdown_drain_limit with an error logged (a
  // stuck device). Off reactors only (aborts on one). Called again by the destructor.
  void shutdown();
  static constexpr std::chrono::seconds shutdown_drain_limit{30};

  // Observers of the discovery subsystem's listeners (mDNS publishes them): each is called
  // after add_listener / remove_listener changed that subsystem's listener list (once the
  // new listener is listening), on the thread that made the change (the control thread),
  // without mu() held, so it may call listeners(). Register them before the control thread
  // runs (wiring); they must stay callable for as long as listeners may change.
  using discovery_listener_observer = std::function<void()>;
  void add_discovery_listener_observer(discovery_listener_observer o);

  // --- any thread, under mu() ---
  std::shared_ptr<subsystem> find_subsystem_locked(const std::string& nqn) const;
  const std::vector<std::shared_ptr<subsystem>>& subsystems_locked() const { return subsystems_; }
  uint64_t discovery_genctr_locked() const { return genctr_; }
  const std::vector<discovery_referral>& referrals_locked() const { return referrals_; }
  const std::vector<discovery_registration>& registrations_locked() const { return registrations_; }
  const std::map<std::string, std::vector<discovery_referral>>& found_referrals_locked() const {
    return found_referrals_;
  }
  const discovery_filter& discovery_filter_locked() const { return disc_filter_; }
  // Port ID of a listen address, stable for the life of the process.
  uint16_t port_id_locked(const listen_address& a);
  target_transport* find_transport_locked(std::string_view trtype) const;

  // --- reactor side ---
  // A transport's new queue (a connection it accepted), on the queue's reactor (q->owner()):
  // the target owns it from now on, and closes it on shutdown or when its controller goes.
  void adopt_queue(std::shared_ptr<target_queue> q);
  // Called on the queue's reactor when it has closed and may be destroyed.
  void release_queue(target_queue* q);

 private:
  std::shared_ptr<subsystem> find_locked(const std::string& nqn) const;
  // Every change of what the discovery log shows (subsystems, listeners, hosts,
  // allow_any_host, referrals, the filter; not namespaces): new generation, and a Discovery
  // Log Page Change notice posted to every discovery controller (each sends it if enabled
  // and not masked; see controller::notice_discovery_log_changed).
  void changed_locked();
  result<void> ensure_listening(const listen_address& a);
  void stop_listening_if_unused(const listen_address& a);
  // Closes every queue (admin and I/O) of these controllers and returns when they are
  // closed; their bdev I/O in flight completes later. Control thread, without mu().
  void disconnect_controllers(const std::vector<std::shared_ptr<controller>>& ctrls, const char* why);
  // Namespace Attribute Changed for nsid to the subsystem's controllers whose host NQN
  // `concerns` accepts (the hosts that see, or saw, the namespace).
  void notify_namespace_change(const std::shared_ptr<subsystem>& s, nsid_t nsid,
                               const std::function<bool(const std::string& hostnqn)>& concerns);
  // Under mu(): subsystem nqn and its active namespace nsid, or not_found naming either.
  struct found_namespace {
    std::shared_ptr<subsystem> s;
    std::shared_ptr<const target_namespace> ns;
  };
  result<found_namespace> find_namespace_locked(const std::string& nqn, nsid_t nsid) const;
  // Namespace Attribute Changed to the hosts that see namespace nsid of s (its bdev was
  // resized). Any thread but with mu() not held.
  void notify_resized(const std::shared_ptr<subsystem>& s, nsid_t nsid);
  // Watches ns's bdev for size changes / stops (outside mu(): the observer takes it).
  void watch_size(const std::shared_ptr<subsystem>& s, nsid_t nsid, const std::shared_ptr<bdev>& dev);
  void unwatch_size(const subsystem* s, nsid_t nsid);
  result<void> change_visibility(const std::string& nqn, nsid_t nsid, const std::string& hostnqn, bool add);
  // Reads ns's reservation from its ptpl file (add_namespace, under mu()).
  static result<void> restore_reservation(target_namespace& ns, const std::string& ptpl_file);
  // already_exists when another namespace (of any subsystem) keeps its reservations in that
  // file (the same path after resolving links and dots): two writers would overwrite each other.
  result<void> check_ptpl_file_unused_locked(const std::string& ptpl_file) const;
  // Posts an ANA change notice to the subsystem's controllers connected through listener a
  // (all of them when a is null).
  void notify_ana_change_locked(subsystem& s, const listen_address* a);
  void notify_discovery_listener_observers(const std::string& nqn);
  // Reactor i only: a copy of its connection set, to close them from (closing may change it).
  std::vector<std::shared_ptr<target_queue>> connections_on(unsigned i) const;
  // Reactor i only: arrives at drain_[i] if a shutdown waits and conns_[i] is empty.
  void arrive_if_drained(unsigned i);

  reactor_pool& reactors_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<target_transport>> transports_;  // outlive listeners_ and conns_
  std::vector<std::shared_ptr<subsystem>> subsystems_;
  uint64_t genctr_ = 0;
  std::vector<discovery_referral> referrals_;
  std::vector<discovery_registration> registrations_;
  std::map<std::string, std::vector<discovery_referral>> found_referrals_;
  discovery_filter disc_filter_;
  dhchap_policy dhchap_policy_;
  dhchap_key_resolver dhchap_resolver_;  // set at wiring
  std::optional<ana_manager> ana_manager_;
  std::map<std::pair<std::string, std::string>, uint16_t> port_ids_;
  // Listening ports by (trtype, traddr, trsvcid).
  std::map<std::tuple<std::string, std::string, std::string>, std::unique_ptr<transport_listener>> listeners_;
  std::vector<discovery_listener_observer> discovery_listener_observers_;  // set at wiring
  // Per reactor: the connections it owns. Touched only by that reactor.
  std::vector<std::unordered_map<target_queue*, std::shared_ptr<target_queue>>> conns_;
  // Per reactor, while a shutdown waits for it: the shutdown's countdown, which that reactor
  // arrives at (once) when its conns_ is empty. Touched only by that reactor.
  std::vector<std::shared_ptr<countdown>> drain_;
  std::unique_ptr<poll_group_stats[]> stats_;  // per reactor
  // Resize observers of namespaces' bdevs, by (subsystem, nsid).
  std::mutex size_watch_mu_;
  std::map<std::pair<const subsystem*, uint32_t>, std::pair<std::shared_ptr<bdev>, uint64_t>> size_watches_;
  std::once_flag worker_once_;
  // Last: stopped and joined first, before anything its work points at goes.
  std::unique_ptr<loop_thread> worker_;
};

}  // namespace nvmfd
