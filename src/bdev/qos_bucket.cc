#include "bdev/qos_bucket.h"

#include <algorithm>

namespace nvmfd {

uint64_t qos_bucket::grant() const { return std::max<uint64_t>(1, rate() / 4000); }

bool qos_bucket::take(uint64_t n, uint64_t now, uint64_t tick_rate) {
  const uint64_t r = rate();
  if (r == 0) return true;
  // Rounded up: a limit is never exceeded by rounding. 128 bits: n * tick_rate overflows
  // 64 bits for a grant of a few GB at a GHz counter.
  const auto cost = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(n) * tick_rate + r - 1) / r);
  const uint64_t burst = tick_rate * burst_window.count() / 1000;
  const uint64_t floor = now > burst ? now - burst : 0;
  uint64_t t = paid_until_.load(std::memory_order_relaxed);
  uint64_t next;
  do {
    const uint64_t base = std::max(t, floor);
    if (base > now) return false;  // in debt
    next = base + cost;
  } while (!paid_until_.compare_exchange_weak(t, next, std::memory_order_relaxed));
  return true;
}

}  // namespace nvmfd
