#include "reactor/manual_time.h"

#include <algorithm>
#include <cassert>

namespace nvmfd {

namespace {

class steady_time_source final : public time_source {
 public:
  time_point now() const override { return clock::now(); }
  bool moves_by_itself() const override { return true; }
};

// A day into the clock's range: far from its zero, which some code takes as "never".
constexpr int64_t manual_start_ns = 86'400'000'000'000;

}  // namespace

time_source& steady_time() {
  static steady_time_source s;
  return s;
}

manual_time::manual_time() : ns_(manual_start_ns) {}

time_source::time_point manual_time::now() const {
  return time_point(std::chrono::nanoseconds(ns_.load(std::memory_order_acquire)));
}

void manual_time::subscribe(time_listener& l) {
  std::lock_guard lk(mu_);
  listeners_.push_back(&l);
}

void manual_time::unsubscribe(time_listener& l) {
  std::lock_guard lk(mu_);
  listeners_.erase(std::remove(listeners_.begin(), listeners_.end(), &l), listeners_.end());
}

void manual_time::advance(duration d) {
  assert(d >= duration::zero());
  ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(), std::memory_order_acq_rel);
  std::lock_guard lk(mu_);
  for (time_listener* l : listeners_) l->on_time_moved();
}

}  // namespace nvmfd
