#pragma once
// manual_time: a time_source for tests whose time moves only through advance(). It starts
// at an arbitrary fixed point (not the epoch, so that "now - 1 h" is still a valid time).
//
// Threading: now() and advance() from any thread; advance() wakes every subscribed reactor,
// which then runs the timers that became due on its own thread.
#include <atomic>
#include <mutex>
#include <vector>

#include "reactor/time_source.h"

namespace nvmfd {

class manual_time final : public time_source {
 public:
  manual_time();
  time_point now() const override;
  bool moves_by_itself() const override { return false; }
  void subscribe(time_listener& l) override;
  void unsubscribe(time_listener& l) override;

  // Moves the time forward by d (d >= 0) and tells the listeners.
  void advance(duration d);

 private:
  std::atomic<int64_t> ns_;
  std::mutex mu_;
  std::vector<time_listener*> listeners_;
};

}  // namespace nvmfd
