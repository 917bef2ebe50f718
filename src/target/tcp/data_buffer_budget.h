#pragma once
// data_buffer_budget: how many bytes of data buffers the requests of one TCP transport may
// hold at once, over all its connections and reactors: num_shared_buffers × io_unit_size
// (SPDK's shared buffer pool, counted in bytes because nvmfd's buffers are contiguous and
// sized by buffer_pool's classes). A request that finds the budget spent waits for a
// buffer (tcp_qpair); nothing allocates beyond it, whatever the hosts send.
//
// In-capsule data (at most the in-capsule size per command slot) is not counted: the
// receive path must place it at once, and it is bounded per connection by the queue depth.
//
// Threading: any reactor (an atomic counter).
#include <algorithm>
#include <atomic>
#include <cstdint>

#include "base/buffer_pool.h"
#include "target/tcp/tcp_transport_options.h"

namespace nvmfd {

class data_buffer_budget {
 public:
  explicit data_buffer_budget(uint64_t limit_bytes) : limit_(limit_bytes) {}

  // num_shared_buffers × io_unit_size, but never less than one command of max_io_size,
  // so that every valid command can be served.
  static uint64_t limit_of(const tcp_transport_options& o) {
    return std::max<uint64_t>(uint64_t{o.num_shared_buffers} * o.io_unit_size,
                              buffer_pool::class_bytes(o.max_io_size));
  }

  // Takes n bytes if they fit under the limit.
  bool try_take(uint64_t n) {
    uint64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used + n > limit_) return false;
    } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
    return true;
  }
  void give(uint64_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  uint64_t in_use() const { return used_.load(std::memory_order_relaxed); }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> used_{0};
};

}  // namespace nvmfd
