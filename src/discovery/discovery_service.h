#pragma once
// discovery_service: SPDK's bdev_nvme_start_discovery. A persistent connection to one
// discovery controller that keeps the host's controllers in line with its Discovery Log:
//  - every NVM subsystem entry (TCP) is attached, subsystem by subsystem, as controller
//    "<name><index>" (index in order of first sight, as SPDK) with bdevs "<name><index>n<nsid>";
//    further entries of the same subsystem become more paths of it (multipath);
//  - referral entries are followed (their logs read at each refresh, one hop);
//  - a Discovery Log Page Change event makes it read the log again and attach or detach
//    what changed;
//  - when the discovery controller goes away it reconnects (every reconnect_delay_sec);
//    the subsystems it attached keep their own connections meanwhile.
// Everything it attaches is owned by it (owner "discovery:<name>", or the owner given), and
// stop() detaches exactly that.
//
// Threading: start()/stop()/info() on a thread that may block (the RPC thread); the
// service's own thread talks to the discovery controller and calls the registry holding its
// control token (nvme_controller_registry::lock_control), a wait that stop() ends at once.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "host/discovery_client.h"
#include "host/nvme_attach_request.h"

namespace nvmfd {

class nvme_controller_registry;

struct discovery_service_params {
  std::string name;             // base of the controller names
  transport_id trid;            // the discovery controller (subnqn: the discovery NQN)
  controller_options opts;      // for it and for what it attaches (hostnqn, KATO, ...)
  reconnect_policy reconnect;   // for the controllers it attaches, and its own reconnect delay
  std::string owner;            // empty: "discovery:<name>"
  bool wait_for_attach = false; // start() returns once the first log is attached
  uint64_t attach_timeout_ms = 0;  // with wait_for_attach; 0: no limit
};

class discovery_service {
 public:
  // Connects to the discovery controller and starts the service's thread. Errors: the
  // connect's (the discovery controller must be reachable at start, as SPDK requires),
  // timed_out when wait_for_attach did not finish within attach_timeout_ms.
  static result<std::unique_ptr<discovery_service>> start(reactor_pool& pool, nvme_controller_registry& registry,
                                                          discovery_service_params p);
  ~discovery_service();  // stop()
  discovery_service(const discovery_service&) = delete;
  discovery_service& operator=(const discovery_service&) = delete;

  // Stops the thread, disconnects the discovery controller and detaches every controller
  // path this service attached. A thread that may block, holding the registry's control
  // token (RPC handlers) or alone with the registry (teardown); the service's thread, if it
  // waits for the token, gives up at once.
  void stop();

  const discovery_service_params& params() const { return p_; }
  const std::string& owner() const { return owner_; }

  struct info {
    transport_id trid;
    std::vector<transport_id> referrals;
    std::vector<std::string> controllers;  // names it attached, in order
    bool connected = false;
    std::string last_error;
  };
  info get_info() const;

 private:
  discovery_service(reactor_pool& pool, nvme_controller_registry& registry, discovery_service_params p);
  result<void> connect();
  // A persistent connection to the referral's discovery controller, whose change events
  // refresh this service too; errors when it cannot be reached.
  result<std::shared_ptr<host_controller>> connect_referral(const transport_id& r);
  void run();
  void refresh();
  void reconcile(const std::vector<discovery_entry>& entries);

  // One path the log asks for: subsystem NQN and address.
  struct path_key {
    std::string subnqn, traddr, trsvcid;
    auto operator<=>(const path_key&) const = default;
  };

  reactor_pool& pool_;
  nvme_controller_registry& registry_;
  discovery_service_params p_;
  std::string owner_;
  std::string findings_source_;  // "discovery:<name>": unique, unlike the owner (mdns:<browser>)

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<host_controller> ctrl_;
  uint64_t ctrl_generation_ = 0;
  bool refresh_pending_ = true;
  bool failure_pending_ = false;
  bool stopping_ = false;
  std::stop_source stop_;  // requested by stop(): ends the thread's wait for the control token
  bool first_done_ = false;
  std::string last_error_;
  std::vector<transport_id> referrals_;
  // Referrals followed (one hop): a persistent discovery controller each, by "traddr:trsvcid".
  std::map<std::string, std::shared_ptr<host_controller>> referral_ctrls_;
  bool referral_retry_ = false;  // a referral controller failed: refresh after the reconnect delay
  std::map<std::string, std::string> name_of_subsystem_;  // subnqn -> controller name
  std::vector<std::string> names_;                        // in order of first sight
  std::map<path_key, transport_id> attached_;             // paths this service attached
  unsigned next_index_ = 0;
  std::thread thread_;
};

}  // namespace nvmfd
