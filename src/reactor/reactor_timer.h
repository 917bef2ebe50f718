#pragma once
// reactor_timer: a one-shot timer of one reactor, owned by the object it wakes. Arming it
// again replaces the pending shot; destroying it cancels the pending shot, so a callback
// never runs for an object that is gone. The callback runs on the reactor, after the timer
// has become disarmed: it may arm it again, or destroy it (and its owner).
//
// Threads: every member function (the destructor of an armed timer included) on the
// reactor's own thread only; asserted. Time: the reactor's time_source (reactor::now()).
#include <functional>

#include "reactor/reactor.h"

namespace nvmfd {

class reactor_timer {
 public:
  explicit reactor_timer(reactor& r) : r_(r) {}
  ~reactor_timer();
  reactor_timer(const reactor_timer&) = delete;
  reactor_timer& operator=(const reactor_timer&) = delete;

  // Calls fn once, delay from now, unless cancelled or armed again first.
  void arm(clock_type::duration delay, std::function<void()> fn);
  void cancel();
  bool armed() const { return id_ != 0; }
  reactor& owner() const { return r_; }

 private:
  reactor& r_;
  timer_id id_ = 0;  // the pending shot, 0 when disarmed
};

}  // namespace nvmfd
