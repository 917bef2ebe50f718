// QoS in bdev::submit with real reactors and the real clock: closed loops of I/O on two
// reactors against a null bdev, the achieved rate within 5 % of the limit, nothing failed.
#include "bdev/bdev_qos.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "bdev/bdev_registry.h"
#include "bdev/null_bdev.h"
#include "bdev_harness.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Keeps `depth` I/Os of one kind in flight on one reactor until the deadline; counts those
// that completed before it.
class closed_loop final : public bdev_io_callback {
 public:
  closed_loop(bdev& b, reactor& r, unsigned depth, bdev_op op, uint64_t blocks)
      : b_(b), r_(r), ios_(depth), buf_(depth * blocks * b.block_size()) {
    for (unsigned i = 0; i < depth; ++i) {
      bdev_io& io = ios_[i];
      io.buf = buf_.data() + i * blocks * b.block_size();
      io.op = op;
      io.num_blocks = blocks;
      io.owner = &r;
      io.done = this;
    }
  }
  void start(steady::time_point deadline) {
    deadline_ = deadline;
    outstanding_ = ios_.size();
    r_.post([this] {
      for (auto& io : ios_) b_.submit(io);
    });
  }
  void on_bdev_io_done(bdev_io& io) override {
    if (io.status != 0) ++errors_;
    if (steady::now() < deadline_) {
      ++completed_;
      b_.submit(io);
      return;
    }
    std::lock_guard lk(mu_);
    if (--outstanding_ == 0) cv_.notify_all();
  }
  bool wait(std::chrono::seconds limit) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, limit, [&] { return outstanding_ == 0; });
  }
  uint64_t completed() const { return completed_; }
  uint64_t errors() const { return errors_; }

 private:
  bdev& b_;
  reactor& r_;
  std::vector<bdev_io> ios_;
  test::aligned_buffer buf_;
  steady::time_point deadline_;
  uint64_t completed_ = 0, errors_ = 0;  // this loop's reactor only, read after wait()
  std::mutex mu_;
  std::condition_variable cv_;
  size_t outstanding_ = 0;
};

// Runs 32-deep loops on two reactors for `seconds`; returns completed I/Os per second.
double run_two_reactors(bdev& b, bdev_op op, uint64_t blocks, double seconds) {
  reactor_pool pool(2);
  closed_loop a(b, pool.at(0), 32, op, blocks), c(b, pool.at(1), 32, op, blocks);
  auto t0 = steady::now();
  auto deadline = t0 + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
  a.start(deadline);
  c.start(deadline);
  EXPECT_TRUE(a.wait(30s));
  EXPECT_TRUE(c.wait(30s));
  pool.stop();
  EXPECT_EQ(a.errors() + c.errors(), 0u);
  EXPECT_GT(a.completed(), 0u);  // both reactors got their share
  EXPECT_GT(c.completed(), 0u);
  return static_cast<double>(a.completed() + c.completed()) / seconds;
}

std::shared_ptr<null_bdev> make_null() { return null_bdev::create("Null0", 4096, 1 << 20, std::nullopt).value(); }

TEST(bdev_qos, iops_limit_holds_across_two_reactors_and_latency_includes_the_wait) {
  auto b = make_null();
  b->set_qos_limits({.rw_ios_per_sec = 20'000});
  double rate = run_two_reactors(*b, bdev_op::read, 1, 2.0);
  EXPECT_NEAR(rate / 20'000, 1.0, 0.05) << rate;
  // 64 I/Os in flight at 20k/s wait about 3.2 ms each: the stamp of the first submit stayed.
  auto t = b->io_stats().sum();
  ASSERT_GT(t.read.ops, 0u);
  double avg_ms = static_cast<double>(tick_clock::to_ns(t.read.latency_ticks / t.read.ops)) / 1e6;
  EXPECT_GT(avg_ms, 1.5);
}

TEST(bdev_qos, write_bandwidth_limit_holds_and_reads_pass) {
  auto b = make_null();
  b->set_qos_limits({.w_mbytes_per_sec = 20});  // 32 KiB writes: 640 per second
  double rate = run_two_reactors(*b, bdev_op::write, 8, 2.0);
  EXPECT_NEAR(rate * 32 * 1024 / (20 << 20), 1.0, 0.05) << rate;
  double reads = run_two_reactors(*b, bdev_op::read, 8, 0.5);
  EXPECT_GT(reads, 10 * 640.0);
}

TEST(bdev_qos, flush_is_not_limited) {
  auto b = make_null();
  b->set_qos_limits({.rw_ios_per_sec = 1000});
  test::bdev_harness h;
  std::vector<bdev_io> ios(2000);
  for (auto& io : ios) io.op = bdev_op::flush;
  auto t0 = steady::now();
  ASSERT_TRUE(h.run_all(*b, ios));
  EXPECT_LT(steady::now() - t0, 1s);
}

TEST(bdev_qos, writes_held_by_their_limit_do_not_hold_reads_back) {
  auto b = make_null();
  b->set_qos_limits({.w_mbytes_per_sec = 1});
  test::bdev_harness h;
  test::aligned_buffer buf(16 * 4096);
  std::vector<bdev_io> writes(100);  // 6.4 MB: about 6 s at 1 MiB/s
  for (auto& io : writes) {
    io.op = bdev_op::write;
    io.num_blocks = 16;
    io.buf = buf.data();
  }
  h.submit_on(0, *b, writes);
  auto t0 = steady::now();
  for (int i = 0; i < 100; ++i) ASSERT_EQ(h.read(*b, 0, 16, buf.data()), 0);
  EXPECT_LT(steady::now() - t0, 1s);
  b->set_qos_limits({});
  ASSERT_TRUE(h.wait(2s));
  for (auto& io : writes) EXPECT_EQ(io.status, 0);
}

TEST(bdev_qos, clearing_the_limit_releases_waiting_ios_and_deleting_the_bdev_clears_it) {
  for (bool remove : {false, true}) {
    auto b = make_null();
    bdev_registry reg;
    ASSERT_TRUE(reg.add(b));
    b->set_qos_limits({.rw_ios_per_sec = 1000});
    test::bdev_harness h;
    std::vector<bdev_io> ios(5000);  // 5 s worth
    test::aligned_buffer buf(4096);
    for (auto& io : ios) {
      io.num_blocks = 1;
      io.buf = buf.data();
    }
    h.submit_on(0, *b, ios);
    std::this_thread::sleep_for(50ms);
    if (remove) ASSERT_TRUE(reg.remove("Null0"));
    else b->set_qos_limits({});
    EXPECT_EQ(b->get_qos_limits(), qos_limits{});
    ASSERT_TRUE(h.wait(2s));
    for (auto& io : ios) EXPECT_EQ(io.status, 0);
    EXPECT_EQ(h.inline_completions(), 0);
  }
}

}  // namespace
}  // namespace nvmfd
