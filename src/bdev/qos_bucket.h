#pragma once
// qos_bucket: one rate limit of a bdev (bdev_set_qos_limit), a token bucket shared by all
// reactors that submit to the bdev. It holds no tokens of its own: its state is one atomic
// "theoretical arrival time" (GCRA): the tick at which everything taken so far will have been
// paid for by time at the set rate. The bucket refills continuously, not in 1 ms steps, and
// keeps at most burst_window of unused time (an idle bucket does not save up for ever).
//
// Reactors take tokens in grants (bdev_qos.h), one compare-exchange per grant (retried only
// when another reactor took a grant at the same moment), never per I/O.
//
// take() succeeds whenever the bucket is not in debt, and may then put it into debt by up to
// the amount taken: an I/O larger than a whole window still passes, and later takers wait
// until time has repaid it. So the long-run rate is the set rate, and nobody starves.
//
// Threads: any, lock-free. Time is passed in (tick_clock ticks in production), so tests
// control it.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace nvmfd {

class qos_bucket {
 public:
  // Unused time a bucket keeps: the burst an idle bdev allows, and the slack that covers a
  // reactor whose resubmission timer fires late (1 ms timers fire after 1-2 ms, later on a
  // busy machine: budget beyond the window is lost).
  static constexpr std::chrono::milliseconds burst_window{10};

  // Tokens per second; 0 is unlimited. Any thread; applies from the next take.
  void set_rate(uint64_t per_sec) { rate_.store(per_sec, std::memory_order_relaxed); }
  uint64_t rate() const { return rate_.load(std::memory_order_relaxed); }
  bool limited() const { return rate() != 0; }

  // The size of one grant at this rate: a quarter of a millisecond's tokens, at least 1.
  uint64_t grant() const;

  // Takes n tokens at time now (ticks, tick_rate per second), or returns false when the
  // bucket is in debt. Always true when unlimited.
  bool take(uint64_t n, uint64_t now, uint64_t tick_rate);

 private:
  std::atomic<uint64_t> rate_{0};
  std::atomic<uint64_t> paid_until_{0};  // GCRA's theoretical arrival time, in ticks
};

}  // namespace nvmfd
