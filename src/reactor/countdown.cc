#include "reactor/countdown.h"

#include <cassert>

namespace nvmfd {

countdown::countdown(unsigned n, reactor& home, std::function<void()> done)
    : left_(n), home_(home), done_(std::move(done)) {
  if (n == 0) home_.post(std::move(done_));
}

void countdown::arrive() {
  unsigned before = left_.fetch_sub(1, std::memory_order_acq_rel);
  assert(before > 0);
  if (before == 1) home_.post(std::move(done_));
}

}  // namespace nvmfd
