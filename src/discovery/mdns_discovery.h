#pragma once
// mdns_discovery: one bdev_nvme_start_mdns_discovery. It browses _nvme-disc._tcp; every
// discovery controller announced (TXT p=tcp or no p=) gets a discovery service "<name><n>_nvme"
// owned by "mdns:<name>/<name><n>_nvme" that attaches what it offers; when the announcement goes (goodbye,
// expiry, or the daemon's loss) that discovery service stops and detaches exactly what it
// attached. An address:port seen again (another interface, another IP protocol) is ignored.
//
// Threads: no thread of its own. The browser's callbacks (any thread) post the events to
// `loop`, a loop that may block (loop_thread.h: the RPC thread in nvmfd), where they are
// handled one at a time: a found controller is connected there (blocking, without the
// registry's control lock, as a start_discovery RPC), a removed one stopped under the control
// lock. start(), stop() and the accessors from any thread but a reactor of the pool.
// Lifetime: held by shared_ptr; posted events hold a weak_ptr, so an event that comes after
// the owner let go is dropped.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>

#include "discovery/service_browser.h"
#include "discovery/discovery_service.h"
#include "host/nvme_controller_registry.h"
#include "reactor/reactor.h"

namespace nvmfd {

struct mdns_discovery_params {
  std::string name;     // base of the discovery services' names and owners
  std::string svcname;  // the DNS-SD type browsed ("_nvme-disc._tcp")
  std::string hostnqn;  // empty: the registry's default
};

class mdns_discovery : public std::enable_shared_from_this<mdns_discovery> {
 public:
  // Starts browsing through browsers; its errors (e.g. "mDNS unavailable: ...") are start's.
  static result<std::shared_ptr<mdns_discovery>> start(reactor& loop, nvme_controller_registry& registry,
                                                       mdns_discovery_params p, const browser_factory& browsers);
  ~mdns_discovery();  // stop()
  mdns_discovery(const mdns_discovery&) = delete;
  mdns_discovery& operator=(const mdns_discovery&) = delete;

  // Stops browsing, drops the events not handled yet, and stops every discovery service it
  // started (detaching what they attached). The caller holds the registry's control lock, or
  // nothing else runs; an event being handled meanwhile gives the lock up to it (stopping:
  // the service it would have stopped is stopped here). Idempotent.
  void stop();

  const mdns_discovery_params& params() const { return p_; }
  // Calls fn for each running discovery service (key "address:port"), under the internal
  // lock: fn must not call back into this object. The caller holds the control lock.
  void for_each_service(const std::function<void(const std::string& key, const discovery_service&)>& fn) const;

 private:
  mdns_discovery(reactor& loop, nvme_controller_registry& registry, mdns_discovery_params p);
  void post_event(const mdns_discovered_service& s, bool found);
  // On the loop.
  void found(const mdns_discovered_service& s);
  void removed(const mdns_discovered_service& s);

  reactor& loop_;
  nvme_controller_registry& reg_;
  const mdns_discovery_params p_;
  std::unique_ptr<service_browser> browser_;
  std::atomic<bool> stopping_{false};
  std::stop_source stop_;  // ends a removal's wait for the control token
  unsigned next_index_ = 0;  // loop only
  mutable std::mutex mu_;     // services_: changed on the loop, read by the accessors
  std::map<std::string, std::unique_ptr<discovery_service>> services_;  // by address:port
};

}  // namespace nvmfd
