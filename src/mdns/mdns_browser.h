#pragma once
// mdns_browser: browses DNS-SD services of one type (_nvme-disc._tcp by default) through the
// avahi-daemon, resolves each one to address, port and TXT (p, nqn), and reports them.
//
// Callbacks (contract):
// - found(svc): a service instance was resolved. Reported once per instance per interface and
//   IP protocol (one host may show up on several), until it is removed.
// - removed(svc): a reported instance is gone — its goodbye packet, the expiry of its records
//   (Avahi's AVAHI_BROWSER_REMOVE), or the loss of the avahi-daemon (every reported instance is
//   removed then; they are found again when the daemon is back). svc is what found() reported.
// - Both run on the browser's loop (avahi_connection.h), one at a time: they must be quick
//   (the loop serves RPC too), must not wait for the loop, and must not destroy the browser.
//   Services whose resolution fails are logged and never reported.
//
// Threads: start() and the destructor from any thread but a reactor of the pool: on the loop
// they run at once, elsewhere they wait for the loop to run them. No callback runs after the
// destructor returns.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "mdns/nvme_disc_service.h"
#include "reactor/reactor.h"

namespace nvmfd {

struct mdns_discovered_service {
  std::string name;       // instance name ("nvmfd host 10.0.0.1:8009")
  std::string type;       // "_nvme-disc._tcp"
  std::string domain;     // "local"
  int interface = -1;     // interface index it was seen on
  std::string adrfam;     // "IPv4" or "IPv6"
  std::string traddr;     // resolved address, numeric
  uint16_t port = 0;
  std::string transport;  // TXT p= ("tcp"); empty when absent
  std::string nqn;        // TXT nqn=; empty when absent
  bool local = false;     // published by this host
};

class mdns_browser {
 public:
  struct callbacks {
    std::function<void(const mdns_discovered_service&)> found;
    std::function<void(const mdns_discovered_service&)> removed;
  };

  // Connects and starts browsing on loop (a loop that may block: loop_thread.h); without a
  // daemon, "mDNS unavailable: ..." (avahi_connection.h).
  static result<std::unique_ptr<mdns_browser>> start(reactor& loop, callbacks cb,
                                                     std::string type = std::string(nvme_disc_service_type));
  ~mdns_browser();
  mdns_browser(const mdns_browser&) = delete;
  mdns_browser& operator=(const mdns_browser&) = delete;

 private:
  class impl;
  mdns_browser(reactor& loop, std::unique_ptr<impl> i);
  reactor& loop_;
  std::unique_ptr<impl> impl_;  // lives on loop_
};

}  // namespace nvmfd
