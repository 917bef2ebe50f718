#pragma once
// avahi_connection: one client of the avahi-daemon (Avahi's D-Bus API) on an event loop we
// own (reactor_avahi_poll on a reactor: in nvmfd the RPC thread's loop_thread), kept
// connected across daemon restarts. mdns_publisher and mdns_browser each own one.
//
// Contract:
// - open() checks that a daemon is reachable now: without a D-Bus system bus, or without an
//   avahi-daemon on it, it returns errc::io_error (sys_errno ECONNREFUSED) with the message
//   "mDNS unavailable: <Avahi's error text>", at once; it never waits for a daemon.
// - After open() the connection outlives the daemon: when the daemon goes away (or the bus
//   does) the owner's state callback sees AVAHI_CLIENT_CONNECTING or AVAHI_CLIENT_FAILURE and
//   must drop every entry group, browser and resolver it made; when a daemon is back it sees
//   AVAHI_CLIENT_S_RUNNING again and re-creates them. (After a FAILURE the client is freed and
//   a new one is made one second later: a callback must use the AvahiClient* it is passed.)
// - Threads: open(), every use of the connection and of the Avahi objects made on it, and the
//   destructor run on the loop's thread only (asserted); so do all of Avahi's callbacks, the
//   state callback the first time within open(). No lock: one thread. Avahi's calls are
//   synchronous D-Bus round trips (up to 25 s when the daemon hangs): the loop must be one
//   that may stall (loop_thread.h), never a reactor of the pool.
// - The state callback must not destroy the connection. The destructor frees the client
//   (which frees what the owner left) and then the poll.
#include <avahi-client/client.h>

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "mdns/reactor_avahi_poll.h"
#include "reactor/reactor.h"

namespace nvmfd {

class avahi_connection {
 public:
  using state_callback = std::function<void(AvahiClient* client, AvahiClientState state)>;

  static result<std::unique_ptr<avahi_connection>> open(reactor& loop, state_callback on_state);
  ~avahi_connection();
  avahi_connection(const avahi_connection&) = delete;
  avahi_connection& operator=(const avahi_connection&) = delete;

  // The current client (may be in any state).
  AvahiClient* client() const { return client_; }
  reactor& loop() const { return poll_.owner(); }

 private:
  avahi_connection(reactor& loop, state_callback on_state);
  static void on_client_state(AvahiClient* c, AvahiClientState s, void* self);
  static void on_reconnect_timer(AvahiTimeout* t, void* self);
  void reconnect();

  state_callback on_state_;
  reactor_avahi_poll poll_;
  AvahiClient* client_ = nullptr;
  AvahiTimeout* reconnect_timer_ = nullptr;
};

// "mDNS unavailable: <avahi_strerror(avahi_error)>" as errc::io_error / ECONNREFUSED.
error mdns_unavailable(int avahi_error);

// Runs fn on loop's thread and returns when it has run: at once when called there, else
// through blocking_call (so never from a reactor of the pool). For the public calls of the
// mDNS objects, whose state lives on the loop.
void run_on_loop(reactor& loop, const std::function<void()>& fn);

}  // namespace nvmfd
