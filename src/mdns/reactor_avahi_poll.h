#pragma once
// reactor_avahi_poll: Avahi's main-loop interface (AvahiPoll) on a reactor, so that Avahi
// runs on an event loop we own instead of a thread of its own (avahi_threaded_poll).
//
// - Watches: an AvahiWatch is an fd and the events it wants. Several watches may share an
//   fd (libdbus makes one for reading and one for writing); the reactor watches each fd once,
//   for the union of its watches' events, and an fd nobody wants events of is not watched at
//   all (so a hung-up fd whose watches all asked for 0 does not wake the loop).
//   watch_get_events returns what the last dispatch reported to that watch.
// - Timeouts: reactor timers; Avahi's absolute timeval (gettimeofday's clock) becomes a delay
//   from now; a null timeval is a disabled timeout. Equal deadlines fire in creation order.
// - Avahi may update or free a watch or a timeout (its own or another) from inside any
//   callback: a freed object is unhooked at once and deleted once no callback runs on it.
//
// Threads: every AvahiPoll function, the constructor's use and the destructor on the
// reactor's thread only (asserted), which is the only thread that may call into the Avahi
// objects (client, browsers, entry groups) made on this poll. The owner frees those before
// the adapter; the destructor frees the watches and timeouts Avahi left behind.
#include <avahi-common/watch.h>

#include <map>
#include <memory>

#include "reactor/reactor.h"

namespace nvmfd {

class reactor_avahi_poll {
 public:
  explicit reactor_avahi_poll(reactor& r);
  ~reactor_avahi_poll();
  reactor_avahi_poll(const reactor_avahi_poll&) = delete;
  reactor_avahi_poll& operator=(const reactor_avahi_poll&) = delete;

  const AvahiPoll* api() const { return &api_; }
  reactor& owner() const { return r_; }

  struct fd_entry;  // the reactor's handler for one fd, shared by its watches

 private:
  static AvahiWatch* watch_new(const AvahiPoll* api, int fd, AvahiWatchEvent events, AvahiWatchCallback cb,
                               void* userdata);
  static void watch_update(AvahiWatch* w, AvahiWatchEvent events);
  static AvahiWatchEvent watch_get_events(AvahiWatch* w);
  static void watch_free(AvahiWatch* w);
  static AvahiTimeout* timeout_new(const AvahiPoll* api, const struct timeval* tv, AvahiTimeoutCallback cb,
                                   void* userdata);
  static void timeout_update(AvahiTimeout* t, const struct timeval* tv);
  static void timeout_free(AvahiTimeout* t);

  friend struct fd_entry;
  // Makes the reactor watch e's fd for the union of its live watches' events (or not at all),
  // and drops e when it has no watch left. Not while e dispatches.
  void sync(fd_entry& e);

  reactor& r_;
  AvahiPoll api_;
  std::map<int, std::unique_ptr<fd_entry>> fds_;
  std::map<AvahiTimeout*, std::unique_ptr<AvahiTimeout>> timeouts_;
};

}  // namespace nvmfd
