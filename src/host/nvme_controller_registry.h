#pragma once
// nvme_controller_registry: the remote NVM subsystems this process has attached (SPDK's
// bdev_nvme controllers), by name. A name holds one or more paths to one subsystem
// (nvme_path; "multipath" adds an active path, "failover" an alternate transport ID of the
// first path) and one nvme_bdev ("<name>n<nsid>") per namespace, published in a
// bdev_registry.
//
// Whenever a path changes (connection lost or back, ANA states), the registry rebuilds the
// path tables of that name's bdevs, publishes them, has every reactor take them, and only
// then disconnects controllers that paths stopped using: a job on the pool's control reactor
// (registry_publisher.h), which coalesces changes that come while it runs.
//
// Threading: callers of the public methods hold the control token (lock_control(): RPC
// handlers, config loading; control(): discovery services on the control reactor, through
// the *_async forms). The *_async forms run on the control reactor as completion chains
// (connect, publish, stop: nothing blocks it); the blocking forms are blocking_calls of
// them, for threads that may block, never a reactor. find()/list() results stay valid while
// the caller holds the token.
// Ownership: each path records its owner (nvme_attach_request::owner); removals name the
// owner and never take another owner's paths.
// Lifetime: destroy the registry before its reactor_pool stops, with no *_async call under
// way (their callers, discovery services, stop first); it disconnects everything.
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <source_location>
#include <stop_token>
#include <string>
#include <vector>

#include "base/result.h"
#include "bdev/bdev_registry.h"
#include "host/discovery_client.h"
#include "host/multipath_policy.h"
#include "host/nvme_attach_request.h"
#include "host/nvme_bdev.h"
#include "host/nvme_path.h"
#include "host/registry_publisher.h"
#include "reactor/completion.h"
#include "reactor/control_queue.h"
#include "reactor/reactor.h"

namespace nvmfd {

// Optional fields of bdev_nvme_detach_controller: each one given must match the path.
struct nvme_path_filter {
  std::optional<std::string> trtype, adrfam, traddr, trsvcid, subnqn, hostaddr, hostsvcid;
  bool names_a_path() const { return traddr || trsvcid || trtype || adrfam || subnqn || hostaddr || hostsvcid; }
};

// Module-wide defaults (bdev_nvme_set_options), used by attaches that do not say otherwise.
struct nvme_host_defaults {
  uint32_t keep_alive_timeout_ms = 10000;
  uint32_t io_timeout_ms = 30000;
  reconnect_policy reconnect;
  multipath_policy policy;
  // DH-HMAC-CHAP: what each attach offers (bdev_nvme_set_options dhchap_digests/dhgroups).
  auth::hash_set dhchap_digests = auth::every_hash();
  auth::dh_group_set dhchap_dhgroups = auth::every_dh_group();
};

struct nvme_controller_entry {
  std::string name;
  std::string subnqn;
  uint64_t id = 0;
  std::vector<std::unique_ptr<nvme_path>> paths;  // in attach order
  std::vector<std::shared_ptr<nvme_bdev>> bdevs;  // by NSID
};

class nvme_controller_registry {
 public:
  nvme_controller_registry(reactor_pool& pool, bdev_registry& bdevs);
  ~nvme_controller_registry();
  nvme_controller_registry(const nvme_controller_registry&) = delete;
  nvme_controller_registry& operator=(const nvme_controller_registry&) = delete;

  reactor_pool& pool() { return pool_; }
  // Serializes the public methods between the threads that call them (see above): a FIFO
  // turn on the control reactor (control_queue.h), held while the token lives. From a thread
  // that may block, never the control reactor's. With a stop token (an mDNS discovery's
  // thread, which a caller holding the turn may be stopping), the wait ends as soon as stop
  // is requested and the token is then empty.
  control_queue::token lock_control(std::stop_token stop = {},
                                    std::source_location where = std::source_location::current()) {
    return control_.lock_blocking(stop, where);
  }
  // The same turn for state machines on the control reactor (acquire/cancel).
  control_queue& control() { return control_; }

  const nvme_host_defaults& defaults() const { return defaults_; }
  const std::string& default_hostnqn() const { return hostnqn_; }
  // Errors: busy (EPERM) once a controller is attached, as SPDK.
  result<void> set_defaults(const nvme_host_defaults& d);

  // Attaches a path; returns the names of the name's bdevs in NSID order. Nothing is left
  // behind on failure. Errors:
  //  - already_exists (EALREADY): the name is taken and multipath is absent or "disable", or
  //    the same network path is attached under that name already;
  //  - invalid_argument: a second path leads to another subsystem, to the same controller
  //    (cntlid), or shows a namespace unlike the first path's;
  //  - the connect's error, its message prefixed with the name and address;
  //  - io_error (ERANGE): more namespaces than max_bdevs;
  //  - already_exists (EEXIST): a bdev "<name>n<nsid>" exists already.
  result<std::vector<std::string>> attach(nvme_attach_request req);

  // Without path fields: removes the name, its bdevs and every path. With them: removes the
  // matching path (or failover transport ID) only, the name going with its last path.
  // Only paths of `owner` go. Errors: not_found (no such name, or no path matches);
  // busy (EBUSY) naming the first claimed bdev and its user when the bdevs would go;
  // busy (EPERM) naming the owner when the name (or the path) belongs to another; nothing
  // is changed then.
  result<void> detach(const std::string& name, const nvme_path_filter& filter = {}, const std::string& owner = "rpc");
  // One path of a name, by address, if owner made it.
  result<void> detach_path(const std::string& name, const std::string& traddr, const std::string& trsvcid,
                           const std::string& owner);
  // Every path owner made (claimed bdevs stay, with a warning). Returns what went.
  std::vector<std::string> detach_owned(const std::string& owner);

  // The cores of the blocking forms, for state machines on the control reactor (discovery
  // services): called there, holding the control token (acquired through control()) until
  // done runs, later (posted, never inline) on the control reactor, with the result and the
  // error messages of the blocking form.
  void attach_async(nvme_attach_request req, completion<std::vector<std::string>> done);
  void detach_async(const std::string& name, const nvme_path_filter& filter, const std::string& owner,
                    completion<void> done);
  void detach_path_async(std::string name, std::string traddr, std::string trsvcid, std::string owner,
                         completion<void> done);
  void detach_owned_async(std::string owner, completion<std::vector<std::string>> done);

  // bdev_nvme_disconnect: every path matching all given fields (owner empty: any owner).
  struct path_match {
    std::optional<std::string> subnqn, traddr, trsvcid;
    std::string owner;
  };
  // Returns "<name> <traddr>:<trsvcid> (<owner>)" for each path removed. Errors: not_found
  // when nothing matches (naming other owners' paths that did); busy as detach().
  result<std::vector<std::string>> detach_matching(const path_match& m);
  void detach_matching_async(const path_match& m, completion<std::vector<std::string>> done);

  // bdev_nvme_set_multipath_policy / bdev_nvme_set_preferred_path, by bdev name. Errors:
  // not_found (no such nvme bdev, or no path of it with that cntlid).
  result<void> set_multipath_policy(const std::string& bdev_name, const multipath_policy& p);
  result<void> set_preferred_path(const std::string& bdev_name, cntlid_t cntlid);
  // The same by the path's address (what save_config writes: cntlids change on reconnect).
  result<void> set_preferred_path(const std::string& bdev_name, const std::string& traddr, const std::string& trsvcid);

  // What discovery services found (for a Centralized Discovery Controller). Each service
  // reports its whole current view (NVM entries, and the discovery controller it came from)
  // under a source name of its own (never shared: one owner, e.g. an mDNS browser, may run
  // many services) after every refresh, and an empty one when it stops; the sink, when set,
  // gets each report and, when set, every view held so far. Any thread (the services' own);
  // the sink runs on the reporting thread with no registry lock held.
  using findings_sink = std::function<void(const std::string& source, const std::vector<discovery_entry>& entries,
                                           const transport_id& reporter)>;
  void set_findings_sink(findings_sink sink);
  void report_findings(const std::string& source, std::vector<discovery_entry> entries, const transport_id& reporter);
  std::vector<std::string> finding_sources() const;

  const nvme_controller_entry* find(const std::string& name) const;
  std::vector<const nvme_controller_entry*> list() const;  // in attach order
  // The entry and bdev of an nvme bdev name, or nullptrs.
  std::pair<const nvme_controller_entry*, nvme_bdev*> find_bdev(const std::string& bdev_name) const;

 private:
  nvme_controller_entry* find_mutable(const std::string& name);
  // The steps of attach_async (control reactor, token held). A connected path that is not
  // kept is stopped before done gets the error.
  void add_entry(std::unique_ptr<nvme_controller_entry> entry, std::unique_ptr<nvme_path> path,
                 completion<std::vector<std::string>> done);
  void add_path(nvme_controller_entry& e, nvme_attach_request req, completion<std::vector<std::string>> done);
  void add_connected_path(uint64_t entry_id, std::unique_ptr<nvme_path> path,
                          completion<std::vector<std::string>> done);
  result<void> check_same_namespaces(const nvme_controller_entry& e, const host_controller& c,
                                     std::vector<const remote_namespace*>& added) const;
  // Removal (control reactor, token held): the entry leaves entries_ at once; its bdevs go
  // quiet on every reactor, then its paths stop, then done. busy (EBUSY) while a bdev of it
  // is claimed (check_unclaimed), nothing changed then.
  result<void> check_unclaimed(const nvme_controller_entry& e) const;
  void remove_entry(std::vector<std::unique_ptr<nvme_controller_entry>>::iterator it, completion<void> done);
  // Removes path i of *it (the name with its last path): republished without it, then stopped.
  void remove_path(std::vector<std::unique_ptr<nvme_controller_entry>>::iterator it, size_t i,
                   completion<void> done);
  struct matching_sweep;
  void next_matching(std::shared_ptr<matching_sweep> sweep);
  struct owned_sweep;
  void next_owned(std::shared_ptr<owned_sweep> sweep);
  // Rebuilds, publishes and syncs the tables of e's bdevs, then disconnects retired
  // controllers: a round of the publisher, waited for. Caller holds no lock.
  void republish(nvme_controller_entry& e);
  // A publisher round's first step (registry_publisher::build_fn): takes mu_.
  registry_publisher::published publish_tables(const std::set<uint64_t>& ids);
  std::shared_ptr<const nvme_bdev_paths> build_table(const nvme_controller_entry& e, nvme_bdev& b,
                                                     const std::vector<nvme_path::status>& statuses);
  result<void> set_preferred(const std::string& bdev_name, const std::function<bool(const nvme_path::status&)>& is_it,
                             const std::string& what);
  void mark_dirty(uint64_t entry_id);
  // Namespaces that became active after attach (a path's Namespace Attribute Changed event
  // identified them) and have no bdev. mu_ held.
  std::vector<std::pair<std::shared_ptr<const remote_namespace>, std::shared_ptr<host_controller>>> unadopted_locked(
      const nvme_controller_entry& e, const std::vector<nvme_path::status>& statuses) const;
  // Makes them bdevs "<name>n<nsid>" (control reactor, the token held until they are
  // published), as SPDK's bdev_nvme populates a namespace that appears.
  void adopt_namespaces(uint64_t entry_id, control_queue::token turn);

  reactor_pool& pool_;
  bdev_registry& bdevs_;
  nvme_host_defaults defaults_;
  // This process's host identity, for attaches that name none: every path of every
  // controller presents the same host (allow lists, reservations and the target's view of
  // "one host over two paths" depend on it).
  uuid hostid_;
  std::string hostnqn_;
  uint64_t next_entry_id_ = 1;

  control_queue control_;
  std::mutex mu_;  // entries_ changes and table building
  std::vector<std::unique_ptr<nvme_controller_entry>> entries_;

  mutable std::mutex findings_mu_;
  findings_sink findings_sink_;
  std::map<std::string, std::pair<std::vector<discovery_entry>, transport_id>> findings_;

  std::shared_ptr<registry_publisher> publisher_;
  std::set<uint64_t> adopting_;  // under mu_: entries with an adoption queued
  // Expires (under the control token) when the registry goes: adoption jobs still queued
  // then do nothing.
  std::shared_ptr<int> life_ = std::make_shared<int>(0);
};

// "TCP", "IPv4"/"IPv6": SPDK's spellings in RPC results and saved configs.
std::string spdk_trtype(const transport_id& t);
std::string spdk_adrfam(const transport_id& t);

}  // namespace nvmfd
