#pragma once
// mdns_advertisement: the target's mDNS advertisement (TP8009, nvmf_publish_mdns_prr): while
// on, every listener of the discovery subsystem is published as _nvme-disc._tcp through an
// mdns_publisher on `loop` (a loop that may block: loop_thread.h, the RPC thread in nvmfd),
// kept in line with the listeners as they change.
//
// Errors of publish(): already_exists (EEXIST) "mDNS is already published"; not_supported
// (EINVAL) "Discovery subsystem has no listeners"; the publisher's "mDNS unavailable: ..."
// (ECONNREFUSED) without a daemon, or without a loop.
//
// Threads: any but a reactor of the pool; one mutex orders them (the RPC thread, the config
// loader before it, and the target's discovery listener observer).
#include <memory>
#include <mutex>
#include <vector>

#include "base/result.h"
#include "mdns/mdns_publisher.h"
#include "reactor/reactor.h"
#include "target/nvmf_target.h"

namespace nvmfd {

class mdns_advertisement {
 public:
  // loop: where Avahi runs; null: publish() answers "mDNS unavailable".
  mdns_advertisement(nvmf_target& target, reactor* loop) : target_(target), loop_(loop) {}

  result<void> publish();
  void stop();  // withdraws every service; a no-op when not published
  bool published() const;
  // The discovery listeners changed: publish the new set (when published).
  void listeners_changed();

 private:
  std::vector<mdns_listener> discovery_listeners() const;

  nvmf_target& target_;
  reactor* loop_;
  mutable std::mutex mu_;
  std::unique_ptr<mdns_publisher> publisher_;  // on while set
};

}  // namespace nvmfd
