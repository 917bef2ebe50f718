#include "reactor/reactor_timer.h"

#include "reactor/reactor_assert.h"

namespace nvmfd {

reactor_timer::~reactor_timer() {
  if (armed()) cancel();
}

void reactor_timer::arm(clock_type::duration delay, std::function<void()> fn) {
  assert_on(r_, "reactor_timer::arm");
  if (armed()) r_.cancel(id_);
  // The reactor moves the closure out before it calls it: fn outlives a destruction of this
  // timer inside fn.
  id_ = r_.schedule(delay, [this, fn = std::move(fn)] {
    id_ = 0;
    fn();
  });
}

void reactor_timer::cancel() {
  assert_on(r_, "reactor_timer::cancel");
  if (!armed()) return;
  r_.cancel(id_);
  id_ = 0;
}

}  // namespace nvmfd
