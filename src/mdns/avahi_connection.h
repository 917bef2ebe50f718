#pragma once
// avahi_connection: one client of the avahi-daemon (Avahi's D-Bus API) with its own thread
// (an AvahiThreadedPoll), kept connected across daemon restarts. mdns_publisher and
// mdns_browser each own one.
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
// - The state callback runs on the avahi thread with the poll lock held — the first time
//   within open(), before open() returns. It must not call lock() or destroy the connection.
// - Any other thread that touches Avahi objects of this connection holds a guard (lock()).
// - The destructor stops and joins the avahi thread, then frees the client (which frees what
//   the owner left). Never call it on the avahi thread.
#include <avahi-client/client.h>
#include <avahi-common/thread-watch.h>

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"

namespace nvmfd {

class avahi_connection {
 public:
  using state_callback = std::function<void(AvahiClient* client, AvahiClientState state)>;

  static result<std::unique_ptr<avahi_connection>> open(state_callback on_state);
  ~avahi_connection();
  avahi_connection(const avahi_connection&) = delete;
  avahi_connection& operator=(const avahi_connection&) = delete;

  // Holds the poll lock: the avahi thread runs no callback meanwhile.
  class guard {
   public:
    explicit guard(avahi_connection& c) : poll_(c.poll_) { avahi_threaded_poll_lock(poll_); }
    ~guard() { avahi_threaded_poll_unlock(poll_); }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;

   private:
    AvahiThreadedPoll* poll_;
  };
  guard lock() { return guard(*this); }

  // The current client (may be in any state). Under lock() or on the avahi thread.
  AvahiClient* client() const { return client_; }

 private:
  explicit avahi_connection(state_callback on_state);
  static void on_client_state(AvahiClient* c, AvahiClientState s, void* self);
  static void on_reconnect_timer(AvahiTimeout* t, void* self);
  void reconnect();

  state_callback on_state_;
  AvahiThreadedPoll* poll_ = nullptr;
  AvahiClient* client_ = nullptr;
  AvahiTimeout* reconnect_timer_ = nullptr;
};

// "mDNS unavailable: <avahi_strerror(avahi_error)>" as errc::io_error / ECONNREFUSED.
error mdns_unavailable(int avahi_error);

}  // namespace nvmfd
