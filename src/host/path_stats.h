#pragma once
// path_stats: I/O counters of one namespace through one path (bdev_nvme_get_path_iostat).
// Each reactor writes only its own slot (relaxed loads and stores, no read-modify-write
// across cores); a report sums the slots from any thread.
#include <atomic>
#include <cstdint>
#include <memory>

#include "bdev/bdev.h"

namespace nvmfd {

struct path_io_totals {
  uint64_t bytes_read = 0, num_read_ops = 0, bytes_written = 0, num_write_ops = 0;
  uint64_t bytes_unmapped = 0, num_unmap_ops = 0, num_flush_ops = 0, num_write_zeroes_ops = 0;
  uint64_t read_latency_ticks = 0, write_latency_ticks = 0, unmap_latency_ticks = 0;
  uint64_t max_read_latency_ticks = 0, max_write_latency_ticks = 0;
  uint64_t io_errors = 0;       // completed with an error status
  uint64_t path_errors = 0;     // path-related status (ANA, lost connection): retried elsewhere
};

class path_stats {
 public:
  explicit path_stats(unsigned reactors) : slots_(new slot[reactors]), n_(reactors) {}

  // Reactor `r` only.
  void record(unsigned r, bdev_op op, uint64_t bytes, uint64_t latency_ticks) {
    slot& s = slots_[r];
    switch (op) {
      case bdev_op::read: bump(s.num_read_ops, 1), bump(s.bytes_read, bytes), bump(s.read_latency_ticks, latency_ticks);
        raise(s.max_read_latency_ticks, latency_ticks);
        break;
      case bdev_op::write: bump(s.num_write_ops, 1), bump(s.bytes_written, bytes), bump(s.write_latency_ticks, latency_ticks);
        raise(s.max_write_latency_ticks, latency_ticks);
        break;
      case bdev_op::unmap: bump(s.num_unmap_ops, 1), bump(s.bytes_unmapped, bytes), bump(s.unmap_latency_ticks, latency_ticks);
        break;
      case bdev_op::flush: bump(s.num_flush_ops, 1); break;
      case bdev_op::write_zeroes: bump(s.num_write_zeroes_ops, 1); break;
    }
  }
  void record_error(unsigned r, bool path_error) { bump(path_error ? slots_[r].path_errors : slots_[r].io_errors, 1); }

  // Any thread.
  path_io_totals totals() const {
    path_io_totals t;
    for (unsigned i = 0; i < n_; ++i) {
      const slot& s = slots_[i];
      t.bytes_read += s.bytes_read.load(std::memory_order_relaxed);
      t.num_read_ops += s.num_read_ops.load(std::memory_order_relaxed);
      t.bytes_written += s.bytes_written.load(std::memory_order_relaxed);
      t.num_write_ops += s.num_write_ops.load(std::memory_order_relaxed);
      t.bytes_unmapped += s.bytes_unmapped.load(std::memory_order_relaxed);
      t.num_unmap_ops += s.num_unmap_ops.load(std::memory_order_relaxed);
      t.num_flush_ops += s.num_flush_ops.load(std::memory_order_relaxed);
      t.num_write_zeroes_ops += s.num_write_zeroes_ops.load(std::memory_order_relaxed);
      t.read_latency_ticks += s.read_latency_ticks.load(std::memory_order_relaxed);
      t.write_latency_ticks += s.write_latency_ticks.load(std::memory_order_relaxed);
      t.unmap_latency_ticks += s.unmap_latency_ticks.load(std::memory_order_relaxed);
      t.max_read_latency_ticks = std::max(t.max_read_latency_ticks, s.max_read_latency_ticks.load(std::memory_order_relaxed));
      t.max_write_latency_ticks = std::max(t.max_write_latency_ticks, s.max_write_latency_ticks.load(std::memory_order_relaxed));
      t.io_errors += s.io_errors.load(std::memory_order_relaxed);
      t.path_errors += s.path_errors.load(std::memory_order_relaxed);
    }
    return t;
  }

 private:
  using counter = std::atomic<uint64_t>;
  struct alignas(64) slot {
    counter bytes_read{0}, num_read_ops{0}, bytes_written{0}, num_write_ops{0};
    counter bytes_unmapped{0}, num_unmap_ops{0}, num_flush_ops{0}, num_write_zeroes_ops{0};
    counter read_latency_ticks{0}, write_latency_ticks{0}, unmap_latency_ticks{0};
    counter max_read_latency_ticks{0}, max_write_latency_ticks{0};
    counter io_errors{0}, path_errors{0};
  };
  static void bump(counter& c, uint64_t v) { c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed); }
  static void raise(counter& c, uint64_t v) {
    if (v > c.load(std::memory_order_relaxed)) c.store(v, std::memory_order_relaxed);
  }

  std::unique_ptr<slot[]> slots_;
  unsigned n_;
};

}  // namespace nvmfd
