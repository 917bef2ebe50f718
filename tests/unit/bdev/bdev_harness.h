#pragma once
// Test harness: runs bdev I/O on reactor 0 of a one-reactor pool and waits for the
// completions, checking the submit() contract on each: the completion runs on the owner
// reactor's thread, and never inline (before submit() has returned).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <vector>

#include "bdev/bdev.h"
#include "reactor/reactor.h"

namespace nvmfd::test {

// A 4096-aligned heap buffer (what O_DIRECT backends need).
class aligned_buffer {
 public:
  explicit aligned_buffer(std::size_t size)
      : size_(size), p_(static_cast<std::byte*>(std::aligned_alloc(4096, round_up(size)))) {}
  std::byte* data() { return p_.get(); }
  const std::byte* data() const { return p_.get(); }
  std::size_t size() const { return size_; }
  std::span<std::byte> span() { return {p_.get(), size_}; }

 private:
  static std::size_t round_up(std::size_t n) { return n == 0 ? 4096 : (n + 4095) / 4096 * 4096; }
  struct deleter {
    void operator()(std::byte* p) const { std::free(p); }
  };
  std::size_t size_;
  std::unique_ptr<std::byte, deleter> p_;
};

// Fills buf with bytes derived from seed and the byte position, so that any misplaced or
// stale block shows.
inline void fill_pattern(std::span<std::byte> buf, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (std::size_t i = 0; i < buf.size(); ++i) {
    if (i % 8 == 0) x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    buf[i] = static_cast<std::byte>(x >> (8 * (i % 8)));
  }
}

// Same size and same bytes.
inline bool equal(const aligned_buffer& a, const aligned_buffer& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

inline bool all_zero(std::span<const std::byte> buf) {
  for (std::byte b : buf)
    if (b != std::byte{0}) return false;
  return true;
}

class bdev_harness final : public bdev_io_callback {
 public:
  explicit bdev_harness(unsigned reactors = 1) : pool_(reactors) {}
  ~bdev_harness() { pool_.stop(); }

  reactor_pool& pool() { return pool_; }
  reactor& owner() { return pool_.at(0); }

  // Submits every I/O from reactor 0 in one go and waits for all. False on a timeout.
  bool run_all(bdev& b, std::span<bdev_io> ios) {
    std::vector<bdev_io*> ptrs;
    for (auto& io : ios) ptrs.push_back(&io);
    return run_ptrs(b, ptrs);
  }

  // One I/O; returns its status, or -ETIMEDOUT if it never completed.
  int run(bdev& b, bdev_io& io) {
    bdev_io* p = &io;
    if (!run_ptrs(b, std::span<bdev_io*>(&p, 1))) return -ETIMEDOUT;
    return io.status;
  }

  int read(bdev& b, uint64_t offset, uint64_t count, std::byte* buf) {
    return run(b, make(bdev_op::read, offset, count, buf));
  }
  int write(bdev& b, uint64_t offset, uint64_t count, std::byte* buf, bool fua = false) {
    auto io = make(bdev_op::write, offset, count, buf);
    io.fua = fua;
    return run(b, io);
  }
  int write_zeroes(bdev& b, uint64_t offset, uint64_t count, bool fua = false) {
    auto io = make(bdev_op::write_zeroes, offset, count, nullptr);
    io.fua = fua;
    return run(b, io);
  }
  int unmap(bdev& b, uint64_t offset, uint64_t count) {
    return run(b, make(bdev_op::unmap, offset, count, nullptr));
  }
  int flush(bdev& b) { return run(b, make(bdev_op::flush, 0, 0, nullptr)); }

  // Set up an I/O (owner and callback are filled in by run).
  bdev_io make(bdev_op op, uint64_t offset, uint64_t count, std::byte* buf) {
    bdev_io io;
    io.op = op;
    io.offset_blocks = offset;
    io.num_blocks = count;
    io.buf = buf;
    return io;
  }
  int run(bdev& b, bdev_io&& io) { return run(b, io); }

  // Submits the I/Os from reactor i without waiting; wait() then waits for them all.
  void submit_on(unsigned i, bdev& b, std::span<bdev_io> ios) {
    for (bdev_io& io : ios) track(io);
    pool_.at(i).post([this, i, &b, ios] {
      submitting_ = true;
      for (bdev_io& io : ios) {
        io.owner = &pool_.at(i);
        io.done = this;
        io.status = 1;
        b.submit(io);
      }
      submitting_ = false;
    });
  }

  // Contract violations seen so far (the tests check these are zero).
  int inline_completions() const { return inline_completions_; }
  int wrong_thread_completions() const { return wrong_thread_; }

  // Waits until every I/O submitted through this harness has completed.
  bool wait(std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, limit, [&] { return outstanding_.empty(); });
  }

  void on_bdev_io_done(bdev_io& io) override {
    if (submitting_) ++inline_completions_;
    if (reactor::current() != io.owner) ++wrong_thread_;
    std::lock_guard lk(mu_);
    outstanding_.erase(&io);
    cv_.notify_all();
  }

 private:
  void track(bdev_io& io) {
    std::lock_guard lk(mu_);
    outstanding_.insert(&io);
  }
  bool wait_for(std::span<bdev_io*> ios, std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, limit, [&] {
      for (bdev_io* io : ios)
        if (outstanding_.count(io)) return false;
      return true;
    });
  }

  bool run_ptrs(bdev& b, std::span<bdev_io*> ios) {
    for (bdev_io* io : ios) track(*io);
    pool_.run_on(0, [&] {
      submitting_ = true;
      for (bdev_io* io : ios) {
        io->owner = &owner();
        io->done = this;
        io->status = 1;  // a bdev must overwrite it
        b.submit(*io);
      }
      submitting_ = false;
    });
    return wait_for(ios);
  }

  reactor_pool pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<bdev_io*> outstanding_;
  // Per reactor thread: set while that thread is inside submit().
  static inline thread_local bool submitting_ = false;
  std::atomic<int> inline_completions_{0};
  std::atomic<int> wrong_thread_{0};
};

}  // namespace nvmfd::test
