#include "base/tick_clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace nvmfd {
namespace {

TEST(TickClock, RateIsStableAndPlausible) {
  uint64_t r = tick_clock::rate();
  EXPECT_EQ(tick_clock::rate(), r);  // measured once
  if (tick_clock::uses_tsc())
    EXPECT_GT(r, 100'000'000u);  // no invariant TSC runs below 100 MHz
  else
    EXPECT_EQ(r, 1'000'000'000u);
  EXPECT_LT(r, 10'000'000'000u);
}

TEST(TickClock, TicksMeasureTimeAtRate) {
  (void)tick_clock::rate();
  auto t0 = std::chrono::steady_clock::now();
  uint64_t k0 = tick_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  uint64_t k1 = tick_clock::now();
  auto t1 = std::chrono::steady_clock::now();
  auto wall = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
  auto ticks_ns = static_cast<int64_t>(tick_clock::to_ns(k1 - k0));
  // The tick interval lies inside the steady-clock one; allow 2 % for the rate's error.
  EXPECT_LE(ticks_ns, wall + wall / 50);
  EXPECT_GE(ticks_ns, 50'000'000 - 50'000'000 / 50);
}

TEST(TickClock, BatchNowIsTheBatchStartUntilTheNextOne) {
  std::thread([] {
    uint64_t before = tick_clock::now();
    EXPECT_GE(tick_clock::batch_now(), before);  // no batch yet: it reads the clock
    tick_clock::start_batch();
    uint64_t b = tick_clock::batch_now();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(tick_clock::batch_now(), b);  // the same batch: the same tick
    tick_clock::start_batch();
    EXPECT_GT(tick_clock::batch_now(), b);
    tick_clock::end_batches();
    uint64_t after = tick_clock::now();
    EXPECT_GE(tick_clock::batch_now(), after);  // back to reading the clock
  }).join();
}

}  // namespace
}  // namespace nvmfd
