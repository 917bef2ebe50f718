#pragma once
// time_source: the clock that a reactor's timers, and the code running on the reactor, read.
// Production runs on the steady clock (steady_time()); tests use manual_time, which moves
// only when the test advances it, so that a 10 s keep-alive timeout is tested in
// microseconds and can neither fire early nor be late on a loaded machine.
//
// What it does not govern: how long a reactor polls before it sleeps (poll_window) is about
// the CPU, and stays on the steady clock.
//
// Threading: now() from any thread. Listeners are told from the thread that moves the time.
#include <chrono>

namespace nvmfd {

class time_listener {
 public:
  // The time moved (a manual source was advanced): deadlines may have passed.
  virtual void on_time_moved() = 0;

 protected:
  ~time_listener() = default;
};

class time_source {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = clock::duration;

  virtual ~time_source() = default;
  virtual time_point now() const = 0;
  // True when time moves by itself: a reactor may sleep until its next timer's deadline.
  // False for a manual source: a reactor then waits for events only, and is woken through
  // time_listener when the time is advanced.
  virtual bool moves_by_itself() const = 0;
  // Listeners of a manual source (no-ops for the steady clock). A listener unsubscribes
  // before it is destroyed.
  virtual void subscribe(time_listener&) {}
  virtual void unsubscribe(time_listener&) {}
};

// The process-wide steady clock.
time_source& steady_time();

}  // namespace nvmfd
