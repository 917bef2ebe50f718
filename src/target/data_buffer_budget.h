#pragma once
// data_buffer_budget: how many bytes of data buffers the requests of one transport (TCP, RDMA)
// may hold at once, over all its connections and reactors: num_shared_buffers × io_unit_size
// (SPDK's shared buffer pool, counted in bytes because nvmfd's buffers are contiguous and
// sized by buffer_pool's classes). A request that finds the budget spent waits for a
// buffer (tcp_qpair); nothing allocates beyond it, whatever the hosts send.
//
// In-capsule data (at most the in-capsule size per command slot) is not counted: the
// receive path must place it at once, and it is bounded per connection by the queue depth.
//
// Per-I/O cost: each reactor keeps a credit of free budget on its own cache line and serves
// takes and gives from it; only when the credit runs short does it take a batch from the
// shared remainder, and it hands back what it holds beyond two batches. So the shared
// counter is written once per batch, not once per I/O. When the remainder cannot serve a
// take, the idle credit of the other reactors is reclaimed first, so a budget held as
// credit never makes a request wait while the total in use is under the limit.
//
// Threading: any thread; `reactor` is the index of the calling reactor (its credit slot;
// any index works, the slot is index modulo the reactor count, but a slot shared by two
// running reactors is written by both).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

#include "base/buffer_pool.h"

namespace nvmfd {

class data_buffer_budget {
 public:
  // Largest batch a reactor takes from the shared remainder at once.
  static constexpr uint64_t max_batch_bytes = 1u << 20;

  data_buffer_budget(uint64_t limit_bytes, unsigned reactors)
      : limit_(limit_bytes),
        slots_count_(std::max(1u, reactors)),
        batch_(std::min<uint64_t>(max_batch_bytes, limit_bytes / (4 * uint64_t{slots_count_}))),
        slots_(std::make_unique<slot[]>(slots_count_)),
        free_(limit_bytes) {}

  // num_shared_buffers × io_unit_size, but never less than one command of max_io_size,
  // so that every valid command can be served.
  template <class Options>
  static uint64_t limit_of(const Options& o) {
    return std::max<uint64_t>(uint64_t{o.num_shared_buffers} * o.io_unit_size,
                              buffer_pool::class_bytes(o.max_io_size));
  }

  // Takes n bytes for a request on `reactor` if they fit under the limit.
  bool try_take(unsigned reactor, uint64_t n) {
    auto& credit = slot_of(reactor);
    if (take_from(credit, n)) return true;
    if (take_from_remainder(credit, n)) return true;
    reclaim_credits();
    return take_from_remainder(credit, n);
  }

  // Gives back n bytes taken by a request on `reactor`.
  void give(unsigned reactor, uint64_t n) {
    auto& credit = slot_of(reactor);
    uint64_t held = credit.fetch_add(n, std::memory_order_relaxed) + n;
    if (held <= 2 * batch_) return;
    // Keep one batch, hand the rest back (unless another reactor reclaimed it meanwhile).
    while (held > batch_ && !credit.compare_exchange_weak(held, batch_, std::memory_order_relaxed)) {
    }
    if (held > batch_) free_.fetch_add(held - batch_, std::memory_order_relaxed);
  }

  // Bytes held by requests now (not counting the reactors' idle credit). Exact when no
  // take or give runs at the same time.
  uint64_t in_use() const {
    uint64_t idle = free_.load(std::memory_order_relaxed);
    for (unsigned i = 0; i < slots_count_; ++i) idle += slots_[i].credit.load(std::memory_order_relaxed);
    return limit_ - idle;
  }
  uint64_t limit() const { return limit_; }
  uint64_t batch() const { return batch_; }

 private:
  struct alignas(64) slot {
    std::atomic<uint64_t> credit{0};
  };

  std::atomic<uint64_t>& slot_of(unsigned reactor) { return slots_[reactor % slots_count_].credit; }

  static bool take_from(std::atomic<uint64_t>& counter, uint64_t n) {
    uint64_t have = counter.load(std::memory_order_relaxed);
    do {
      if (have < n) return false;
    } while (!counter.compare_exchange_weak(have, have - n, std::memory_order_relaxed));
    return true;
  }

  // n bytes from the shared remainder, plus a batch of credit for this reactor if there is
  // room for both.
  bool take_from_remainder(std::atomic<uint64_t>& credit, uint64_t n) {
    uint64_t have = free_.load(std::memory_order_relaxed);
    uint64_t want;
    do {
      if (have < n) return false;
      want = have >= n + batch_ ? n + batch_ : n;
    } while (!free_.compare_exchange_weak(have, have - want, std::memory_order_relaxed));
    if (want > n) credit.fetch_add(want - n, std::memory_order_relaxed);
    return true;
  }

  // Moves every reactor's idle credit back to the shared remainder.
  void reclaim_credits() {
    for (unsigned i = 0; i < slots_count_; ++i)
      if (uint64_t c = slots_[i].credit.exchange(0, std::memory_order_relaxed))
        free_.fetch_add(c, std::memory_order_relaxed);
  }

  const uint64_t limit_;
  const unsigned slots_count_;
  const uint64_t batch_;
  std::unique_ptr<slot[]> slots_;
  alignas(64) std::atomic<uint64_t> free_;
};

}  // namespace nvmfd
