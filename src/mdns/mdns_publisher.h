#pragma once
// mdns_publisher: advertises discovery listeners as DNS-SD services _nvme-disc._tcp with TXT
// p=tcp and nqn=nqn.2014-08.org.nvmexpress.discovery (nvme_disc_service.h), through the
// avahi-daemon, on an event loop that may block (avahi_connection.h).
//
// Where: a listener on a specific address is published only on the interface that holds that
// address (and only over its IP version); a wildcard listener (0.0.0.0 / ::) on every
// interface. One service (one entry group) per listener, named "<prefix> <host> <addr>:<port>"
// (at most 63 bytes, the DNS-SD limit); on a name collision with another host, Avahi's
// alternative name ("... #2") is taken and the service registered again.
//
// Daemon restarts: while the daemon is away nothing is published; when it is back every
// listener is registered again. publish() works at any time (it only records the wanted set
// when the daemon is away).
//
// Threads: start(), publish(), established() and the destructor from any thread but a
// reactor of the pool: on the loop they run at once, elsewhere they wait for the loop to run
// them. The destructor withdraws every service (goodbye packets: browsers see them removed
// at once).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "reactor/reactor.h"

namespace nvmfd {

// A listener to advertise: numeric IPv4/IPv6 address (or a wildcard) and TCP port.
struct mdns_listener {
  std::string traddr;
  uint16_t port = 0;
  bool operator==(const mdns_listener&) const = default;
};

class mdns_publisher {
 public:
  // Connects to the avahi-daemon on loop (a loop that may block: loop_thread.h); without one,
  // "mDNS unavailable: ..." (avahi_connection.h). prefix starts each service name ("nvmfd").
  static result<std::unique_ptr<mdns_publisher>> start(reactor& loop, std::string prefix = "nvmfd");
  ~mdns_publisher();
  mdns_publisher(const mdns_publisher&) = delete;
  mdns_publisher& operator=(const mdns_publisher&) = delete;

  // Makes the advertised set exactly `listeners`: new ones are registered, missing ones
  // withdrawn, unchanged ones left alone. Duplicates are ignored.
  void publish(const std::vector<mdns_listener>& listeners);

  // Names of the services Avahi reports established (registered and not in collision), for
  // logs and tests.
  std::vector<std::string> established() const;

 private:
  struct service;
  class impl;
  mdns_publisher(reactor& loop, std::unique_ptr<impl> i);
  reactor& loop_;
  std::unique_ptr<impl> impl_;  // lives on loop_
};

}  // namespace nvmfd
