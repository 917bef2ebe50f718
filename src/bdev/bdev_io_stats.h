#pragma once
// bdev_io_stats: a bdev's I/O counters (SPDK's bdev_get_iostat), one slot per reactor.
//
// Threading: reactor r is the only writer of slot r (record, reset_slot), with relaxed
// loads and stores (no read-modify-write across cores, no lock); slots are cache-line
// aligned, so no two reactors write one line. Any thread may read (snapshot, sum), relaxed:
// a read during I/O sees each counter at some recent value.
// A slot is allocated by its reactor on that reactor's first I/O to the bdev (once per
// reactor and bdev, never per I/O). Reactor indexes from max_slots on are not counted.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>

namespace nvmfd {

enum class bdev_op : uint8_t;

// One kind of operation's totals: ops, bytes and latency in tick_clock ticks (min is 0 when no
// op was counted).
struct bdev_op_totals {
  uint64_t ops = 0, bytes = 0, latency_ticks = 0, max_latency_ticks = 0, min_latency_ticks = 0;
};

// A slot's (or a sum's) totals per operation, plus failed I/Os.
struct bdev_io_totals {
  bdev_op_totals read, write, unmap, flush, write_zeroes;
  uint64_t errors = 0;
  bdev_io_totals& operator+=(const bdev_io_totals& o);
};

// What a reset clears (SPDK's reset_mode): everything, only max and min latencies, or only
// the error count.
enum class stats_reset { all, maxmin, error };

// Latency histogram of reads or writes (Prometheus buckets): counts[i] is the number of I/Os
// that took at most latency_bucket_bounds_s[i] seconds and more than the bound before it; the
// last count is those over the last bound. Not cleared by reset_slot (they feed counters
// that only grow).
inline constexpr std::array<double, 13> latency_bucket_bounds_s = {
    10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3};
struct latency_histogram {
  std::array<uint64_t, latency_bucket_bounds_s.size() + 1> counts{};
  uint64_t sum_ticks = 0;  // of the latencies counted
};

class bdev_io_stats {
 public:
  static constexpr unsigned max_slots = 256;

  bdev_io_stats();
  ~bdev_io_stats();
  bdev_io_stats(const bdev_io_stats&) = delete;
  bdev_io_stats& operator=(const bdev_io_stats&) = delete;

  // Reactor r only: one completed I/O of `bytes` bytes that took latency_ticks; status != 0
  // counts it as an error and nothing else.
  void record(unsigned r, bdev_op op, uint64_t bytes, uint64_t latency_ticks, int status);
  // Reactor r only.
  void reset_slot(unsigned r, stats_reset mode);

  // Any thread: slot r's totals, nullopt when reactor r never completed an I/O here.
  std::optional<bdev_io_totals> slot(unsigned r) const;
  // Any thread: every slot summed (max of maxima, min of the non-zero minima).
  bdev_io_totals sum() const;
  // Any thread: the latency histogram of reads (op read) or writes (any other op), summed.
  latency_histogram histogram(bdev_op op) const;

 private:
  struct slot_data;
  slot_data* slot_for(unsigned r);

  std::array<std::atomic<slot_data*>, max_slots> slots_{};
  std::array<uint64_t, latency_bucket_bounds_s.size()> bound_ticks_{};  // the bounds in ticks
};

}  // namespace nvmfd
