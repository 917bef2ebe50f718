// bdev_io_stats: per-reactor slots summed on read, resets, and the counting that
// bdev::submit and the completion do (per reactor, once per I/O at the outermost bdev).
#include "bdev/bdev_io_stats.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "bdev/fault_bdev.h"
#include "bdev/ram_bdev.h"
#include "bdev_harness.h"

namespace nvmfd::test {
namespace {

TEST(bdev_io_stats, latency_histogram_buckets_reads_and_writes_by_upper_bound) {
  bdev_io_stats s;
  const double rate = static_cast<double>(tick_clock::rate());
  auto ticks = [&](double seconds) { return static_cast<uint64_t>(seconds * rate); };
  s.record(0, bdev_op::read, 4096, ticks(5e-6), 0);     // <= 10 us
  s.record(1, bdev_op::read, 4096, ticks(9e-6), 0);     // <= 10 us, another reactor
  s.record(0, bdev_op::read, 4096, ticks(3e-3), 0);     // <= 5 ms
  s.record(0, bdev_op::read, 4096, ticks(2.0), 0);      // over 100 ms
  s.record(0, bdev_op::write, 4096, ticks(40e-6), 0);   // <= 50 us
  s.record(0, bdev_op::unmap, 4096, ticks(40e-6), 0);   // not in either histogram
  s.record(0, bdev_op::read, 4096, ticks(40e-6), -EIO); // errors neither
  auto r = s.histogram(bdev_op::read);
  EXPECT_EQ(r.counts[0], 2u);
  EXPECT_EQ(r.counts[8], 1u);  // latency_bucket_bounds_s[8] is 5 ms
  EXPECT_EQ(r.counts.back(), 1u);
  uint64_t n = 0;
  for (auto c : r.counts) n += c;
  EXPECT_EQ(n, 4u);
  EXPECT_EQ(r.sum_ticks, ticks(5e-6) + ticks(9e-6) + ticks(3e-3) + ticks(2.0));
  auto w = s.histogram(bdev_op::write);
  EXPECT_EQ(w.counts[2], 1u);  // 50 us
  EXPECT_EQ(w.sum_ticks, ticks(40e-6));
  s.reset_slot(0, stats_reset::all);  // the histogram feeds counters that only grow
  EXPECT_EQ(s.histogram(bdev_op::read).counts[0], 2u);
}

TEST(bdev_io_stats, slots_sum_with_max_and_min_over_slots) {
  bdev_io_stats s;
  EXPECT_FALSE(s.slot(0).has_value());
  s.record(0, bdev_op::read, 4096, 100, 0);
  s.record(0, bdev_op::read, 8192, 300, 0);
  s.record(1, bdev_op::read, 512, 50, 0);
  s.record(1, bdev_op::write, 1024, 70, 0);
  s.record(1, bdev_op::unmap, 1 << 20, 10, 0);
  s.record(1, bdev_op::write, 1024, 70, -EIO);  // an error counts as that, nothing else
  auto t = s.sum();
  EXPECT_EQ(t.read.ops, 3u);
  EXPECT_EQ(t.read.bytes, 4096u + 8192u + 512u);
  EXPECT_EQ(t.read.latency_ticks, 450u);
  EXPECT_EQ(t.read.max_latency_ticks, 300u);
  EXPECT_EQ(t.read.min_latency_ticks, 50u);
  EXPECT_EQ(t.write.ops, 1u);
  EXPECT_EQ(t.write.bytes, 1024u);
  EXPECT_EQ(t.unmap.bytes, 1u << 20);
  EXPECT_EQ(t.flush.ops, 0u);
  EXPECT_EQ(t.flush.min_latency_ticks, 0u);
  EXPECT_EQ(t.errors, 1u);
  ASSERT_TRUE(s.slot(1).has_value());
  EXPECT_EQ(s.slot(1)->read.ops, 1u);
  EXPECT_EQ(s.slot(0)->write.ops, 0u);
  EXPECT_FALSE(s.slot(2).has_value());
}

TEST(bdev_io_stats, resets_clear_a_slot_all_or_only_max_and_min) {
  bdev_io_stats s;
  s.record(0, bdev_op::write, 4096, 100, 0);
  s.record(1, bdev_op::write, 4096, 900, 0);
  s.reset_slot(1, stats_reset::maxmin);
  auto t = s.sum();
  EXPECT_EQ(t.write.ops, 2u);
  EXPECT_EQ(t.write.max_latency_ticks, 100u);  // slot 1's maximum is gone
  EXPECT_EQ(t.write.min_latency_ticks, 100u);
  s.record(1, bdev_op::write, 4096, 40, 0);
  EXPECT_EQ(s.sum().write.min_latency_ticks, 40u);
  s.reset_slot(0, stats_reset::all);
  s.reset_slot(1, stats_reset::all);
  t = s.sum();
  EXPECT_EQ(t.write.ops, 0u);
  EXPECT_EQ(t.write.bytes, 0u);
  EXPECT_EQ(t.write.latency_ticks, 0u);
  EXPECT_EQ(t.write.max_latency_ticks, 0u);
  s.reset_slot(7, stats_reset::all);  // a slot never used: nothing to do
}

TEST(bdev_io_stats, a_reactor_past_the_last_slot_is_not_counted) {
  bdev_io_stats s;
  s.record(bdev_io_stats::max_slots, bdev_op::read, 1, 1, 0);
  EXPECT_EQ(s.sum().read.ops, 0u);
}

TEST(bdev_io_stats, submit_counts_each_completed_io_in_its_reactors_slot) {
  auto b = *ram_bdev::create("Malloc0", 512, 1024, std::nullopt);
  bdev_harness h(2);
  aligned_buffer buf(8 * 512);
  std::vector<bdev_io> on0, on1;
  for (int i = 0; i < 5; ++i) on0.push_back(h.make(bdev_op::write, i * 8, 8, buf.data()));
  for (int i = 0; i < 3; ++i) on1.push_back(h.make(bdev_op::read, i * 8, 2, buf.data()));
  on1.push_back(h.make(bdev_op::unmap, 100, 10, nullptr));
  on1.push_back(h.make(bdev_op::read, 1024, 1, buf.data()));  // past the end: an error
  h.submit_on(0, *b, on0);
  h.submit_on(1, *b, on1);
  ASSERT_TRUE(h.wait());
  auto s0 = b->io_stats().slot(0), s1 = b->io_stats().slot(1);
  ASSERT_TRUE(s0 && s1);
  EXPECT_EQ(s0->write.ops, 5u);
  EXPECT_EQ(s0->write.bytes, 5u * 8 * 512);
  EXPECT_EQ(s0->read.ops, 0u);
  EXPECT_EQ(s1->read.ops, 3u);
  EXPECT_EQ(s1->read.bytes, 3u * 2 * 512);
  EXPECT_EQ(s1->unmap.ops, 1u);
  EXPECT_EQ(s1->unmap.bytes, 10u * 512);
  EXPECT_EQ(s1->errors, 1u);
  auto t = b->io_stats().sum();
  EXPECT_EQ(t.write.ops + t.read.ops + t.unmap.ops, 9u);
  EXPECT_GT(t.write.latency_ticks, 0u);
  EXPECT_GE(t.write.max_latency_ticks, t.write.min_latency_ticks);
  EXPECT_GT(t.write.min_latency_ticks, 0u);
  for (auto& io : on0) EXPECT_EQ(io.counted_by, nullptr);  // cleared for reuse
}

TEST(bdev_io_stats, a_wrapper_that_passes_the_io_on_counts_it_once_as_its_own) {
  auto inner = *ram_bdev::create("Malloc0", 512, 1024, std::nullopt);
  auto f = *fault_bdev::create("Fault0", inner);
  bdev_harness h;
  aligned_buffer buf(512);
  ASSERT_EQ(h.write(*f, 0, 1, buf.data()), 0);
  f->fail_nth(bdev_op::read, 1, EIO);
  ASSERT_EQ(h.read(*f, 0, 1, buf.data()), -EIO);
  ASSERT_EQ(h.read(*inner, 0, 1, buf.data()), 0);
  auto ft = f->io_stats().sum(), it = inner->io_stats().sum();
  EXPECT_EQ(ft.write.ops, 1u);
  EXPECT_EQ(ft.errors, 1u);
  EXPECT_EQ(it.write.ops, 0u);  // the wrapper's I/O is not counted again below it
  EXPECT_EQ(it.read.ops, 1u);
}

}  // namespace
}  // namespace nvmfd::test
