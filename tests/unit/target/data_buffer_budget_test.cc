// data_buffer_budget: the limit holds over all reactors, credit held by one reactor never
// makes another wait while the total in use is under the limit, and concurrent takes and
// gives from several threads balance out.
#include "target/data_buffer_budget.h"

#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <vector>

namespace nvmfd {
namespace {

constexpr uint64_t KiB = 1024;

TEST(data_buffer_budget, never_hands_out_more_than_the_limit) {
  data_buffer_budget b(256 * KiB, 2);
  uint64_t taken = 0;
  for (unsigned i = 0; b.try_take(i % 2, 8 * KiB); ++i) taken += 8 * KiB;
  EXPECT_EQ(taken, 256 * KiB);
  EXPECT_EQ(b.in_use(), 256 * KiB);
  EXPECT_FALSE(b.try_take(0, 1));
  EXPECT_FALSE(b.try_take(1, 1));
}

TEST(data_buffer_budget, a_take_after_a_give_is_served_from_the_reactors_credit) {
  data_buffer_budget b(64 * 1024 * KiB, 2);
  ASSERT_GT(b.batch(), 4 * KiB);
  ASSERT_TRUE(b.try_take(0, 4 * KiB));
  EXPECT_EQ(b.in_use(), 4 * KiB);  // the batch that came with it is credit, not use
  b.give(0, 4 * KiB);
  EXPECT_EQ(b.in_use(), 0u);
}

TEST(data_buffer_budget, idle_credit_of_another_reactor_is_reclaimed_when_the_remainder_is_short) {
  data_buffer_budget b(128 * KiB, 2);
  // Reactor 0 takes everything and gives it back: it now holds credit, not the remainder.
  ASSERT_TRUE(b.try_take(0, 128 * KiB));
  b.give(0, 128 * KiB);
  EXPECT_EQ(b.in_use(), 0u);
  // Reactor 1 needs the whole limit at once (one max_io_size command): it must get it.
  ASSERT_TRUE(b.try_take(1, 128 * KiB));
  EXPECT_EQ(b.in_use(), 128 * KiB);
  EXPECT_FALSE(b.try_take(0, 4 * KiB));
  b.give(1, 128 * KiB);
  EXPECT_TRUE(b.try_take(0, 128 * KiB));
}

TEST(data_buffer_budget, a_reactor_keeps_at_most_two_batches_of_credit) {
  data_buffer_budget b(64 * 1024 * KiB, 4);
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(b.try_take(2, 128 * KiB));
  for (int i = 0; i < 64; ++i) b.give(2, 128 * KiB);
  EXPECT_EQ(b.in_use(), 0u);
  // Everything but the credit of reactor 2 (<= 2 batches) is back in the remainder: reactor 3
  // can take the limit minus that without reclaiming, and the limit itself with it.
  EXPECT_TRUE(b.try_take(3, b.limit() - 2 * b.batch()));
  EXPECT_TRUE(b.try_take(3, 2 * b.batch()));
  EXPECT_EQ(b.in_use(), b.limit());
}

TEST(data_buffer_budget, concurrent_takes_and_gives_stay_under_the_limit_and_balance) {
  constexpr unsigned threads = 4;
  const uint64_t limit = 512 * KiB;
  data_buffer_budget b(limit, threads);
  std::atomic<uint64_t> outstanding{0};
  std::atomic<bool> over{false};
  std::vector<std::thread> ts;
  for (unsigned t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<uint64_t> mine;
      for (int i = 0; i < 200000; ++i) {
        if (mine.size() < 8 && (rng() & 1)) {
          uint64_t n = (1 + rng() % 32) * 4 * KiB;
          if (b.try_take(t, n)) {
            if (outstanding.fetch_add(n) + n > limit) over = true;
            mine.push_back(n);
          }
        } else if (!mine.empty()) {
          outstanding.fetch_sub(mine.back());
          b.give(t, mine.back());
          mine.pop_back();
        }
      }
      for (uint64_t n : mine) {
        outstanding.fetch_sub(n);
        b.give(t, n);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_FALSE(over.load());
  EXPECT_EQ(b.in_use(), 0u);
  EXPECT_TRUE(b.try_take(0, limit));  // every byte is reachable again
}

}  // namespace
}  // namespace nvmfd
