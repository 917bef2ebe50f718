// qos_bucket with controlled time: a made-up counter of 1,000,000 ticks per second.
#include "bdev/qos_bucket.h"

#include <gtest/gtest.h>

namespace nvmfd {
namespace {

constexpr uint64_t hz = 1'000'000;          // ticks per second
constexpr uint64_t ms = hz / 1000;          // ticks per millisecond
constexpr uint64_t start = 1000 * hz;       // an arbitrary, late point in time

TEST(qos_bucket, unlimited_always_grants) {
  qos_bucket b;
  EXPECT_FALSE(b.limited());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.take(1'000'000, start, hz));
}

TEST(qos_bucket, grant_is_a_quarter_millisecond_at_least_one) {
  qos_bucket b;
  b.set_rate(1000);
  EXPECT_EQ(b.grant(), 1u);
  b.set_rate(100'000);
  EXPECT_EQ(b.grant(), 25u);
}

// Takes grants of size g as fast as the bucket allows over `seconds`, time moving in 100 us
// steps; returns the tokens taken.
uint64_t drain(qos_bucket& b, uint64_t g, uint64_t from, double seconds) {
  uint64_t taken = 0;
  for (uint64_t t = from; t < from + static_cast<uint64_t>(seconds * hz); t += ms / 10)
    while (b.take(g, t, hz)) taken += g;
  return taken;
}

TEST(qos_bucket, long_run_rate_is_the_set_rate_plus_one_burst) {
  qos_bucket b;
  b.set_rate(100'000);
  uint64_t taken = drain(b, b.grant(), start, 10.0);
  // 10 s at 100k/s; on top at most the burst window (10 ms: 1000) and one grant of debt.
  EXPECT_GE(taken, 1'000'000u);
  EXPECT_LE(taken, 1'000'000u + 1000 + 2 * b.grant());
}

TEST(qos_bucket, idle_time_saves_no_more_than_the_burst_window) {
  qos_bucket b;
  b.set_rate(1'000'000);
  EXPECT_TRUE(b.take(1, start, hz));
  // An hour idle: then only the burst window's tokens (10 ms = 10000) plus one grant's debt.
  uint64_t t = start + 3600 * hz, taken = 0;
  while (b.take(250, t, hz)) taken += 250;
  EXPECT_GE(taken, 10000u);
  EXPECT_LE(taken, 10250u);
}

TEST(qos_bucket, a_take_larger_than_the_window_passes_and_later_ones_wait_for_its_debt) {
  qos_bucket b;
  b.set_rate(1000);  // e.g. bytes per second
  uint64_t t = start;
  while (b.take(1, t, hz)) {}  // spend the burst
  t += ms;  // 1 token's time
  EXPECT_TRUE(b.take(1'000'000, t, hz));  // 1000 s worth: passes, into debt
  EXPECT_FALSE(b.take(1, t + 999 * hz, hz));
  EXPECT_TRUE(b.take(1, t + 1001 * hz, hz));
}

TEST(qos_bucket, rate_change_applies_to_later_takes) {
  qos_bucket b;
  b.set_rate(1000);
  uint64_t first = drain(b, 1, start, 1.0);
  EXPECT_NEAR(static_cast<double>(first), 1000.0, 20.0);  // + the burst window
  b.set_rate(10'000);
  uint64_t second = drain(b, 2, start + hz, 1.0);
  EXPECT_NEAR(static_cast<double>(second), 10'000.0, 60.0);
  b.set_rate(0);
  EXPECT_TRUE(b.take(1'000'000'000, start + 2 * hz, hz));
}

TEST(qos_bucket, no_overflow_with_a_fast_counter_and_big_takes) {
  qos_bucket b;
  const uint64_t ghz = 3'000'000'000;
  b.set_rate(10ull << 30);  // 10 GiB/s
  uint64_t t = 1ull << 60;
  EXPECT_TRUE(b.take(64ull << 30, t, ghz));  // 6.4 s worth
  EXPECT_FALSE(b.take(1, t + 6 * ghz, ghz));
  EXPECT_TRUE(b.take(1, t + 7 * ghz, ghz));
}

}  // namespace
}  // namespace nvmfd
