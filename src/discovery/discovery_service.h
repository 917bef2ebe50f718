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
// Threading: start()/stop()/get_info() on a thread that may block (the RPC thread, an mDNS
// discovery's); the service itself is a state machine on the pool's control reactor, with no
// thread of its own: states connecting, idle, refreshing (the discovery log, then each
// referral's, connecting missing referral controllers, all asynchronously), reconciling
// (waiting for, then holding, the registry's control token across its asynchronous detaches
// and attaches), delayed (the reconnect delay or the referral retry, a reactor timer) and
// stopping. Controllers' events are posted to it with the generation of the connection they
// came from (stale ones are dropped); there is no periodic wake-up.
#include <memory>
#include <string>
#include <vector>

#include "host/discovery_client.h"
#include "host/nvme_attach_request.h"

namespace nvmfd {

class nvme_controller_registry;
class discovery_machine;

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
  // Connects to the discovery controller and starts the service. Errors: the
  // connect's (the discovery controller must be reachable at start, as SPDK requires),
  // timed_out when wait_for_attach did not finish within attach_timeout_ms.
  static result<std::unique_ptr<discovery_service>> start(reactor_pool& pool, nvme_controller_registry& registry,
                                                          discovery_service_params p);
  ~discovery_service();  // stop()
  discovery_service(const discovery_service&) = delete;
  discovery_service& operator=(const discovery_service&) = delete;

  // Stops the machine, disconnects the discovery (and referral) controllers and detaches
  // every controller path this service attached. A thread that may block, holding the
  // registry's control token (RPC handlers) or alone with the registry (teardown). A request
  // of the service for the token still queued is cancelled, so stop() returns at once; a
  // registry change the service has under way (it holds the token: teardown only) ends first.
  // Idempotent.
  void stop();

  const discovery_service_params& params() const { return p_; }
  const std::string& owner() const { return owner_; }

  struct info {
    transport_id trid;
    std::vector<transport_id> referrals;
    std::vector<std::string> controllers;  // names it attached, in order
    bool connected = false;
    std::string last_error;
    uint64_t refreshes = 0;  // reads of the discovery controller's log begun (diagnostics)
  };
  info get_info() const;

 private:
  // The state machine on the control reactor (discovery_machine.h).
  discovery_service(reactor_pool& pool, nvme_controller_registry& registry, discovery_service_params p);

  reactor_pool& pool_;
  nvme_controller_registry& registry_;
  discovery_service_params p_;
  std::string owner_;
  std::string findings_source_;  // "discovery:<name>": unique, unlike the owner (mdns:<browser>)
  std::shared_ptr<discovery_machine> m_;
  bool stopped_ = false;  // the caller's thread only
};

}  // namespace nvmfd
