#pragma once
// verified_io: keeps verified I/O going on one bdev from every reactor of a pool until
// stopped. Each slot owns a range of blocks and loops: write a pattern (new seed each round),
// read it back, compare. Any I/O error or mismatch is counted and described; a failed slot
// goes on with its next round, so that one error does not hide later ones.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../unit/bdev/bdev_harness.h"

namespace nvmfd::test {

class verified_io {
  struct slot_base : bdev_io_callback {
    explicit slot_base(verified_io& o) : owner(o) {}
    void on_bdev_io_done(bdev_io&) override { owner.done(*this); }
    verified_io& owner;
  };

 public:
  verified_io(bdev& b, reactor_pool& pool, unsigned slots_per_reactor, uint32_t blocks) : b_(b), pool_(pool) {
    size_t bytes = size_t{blocks} * b.block_size();
    for (unsigned r = 0; r < pool.size(); ++r)
      for (unsigned i = 0; i < slots_per_reactor; ++i) {
        auto s = std::make_unique<slot>(*this, bytes);
        s->io.owner = &pool.at(r);
        s->io.done = s.get();
        s->io.offset_blocks = uint64_t{blocks} * slots_.size();
        s->io.num_blocks = blocks;
        s->seed = slots_.size() * 1000003;
        slots_.push_back(std::move(s));
      }
  }
  ~verified_io() { stop(); }

  void start() {
    running_ = true;
    {
      std::lock_guard lk(mu_);
      active_ = slots_.size();
    }
    for (auto& s : slots_) {
      slot* p = s.get();
      p->active = true;
      p->io.owner->post([this, p] { write_round(*p); });
    }
  }
  // Waits for every slot to finish its round (at most `limit`); false if some did not.
  bool stop(std::chrono::milliseconds limit = std::chrono::milliseconds(30000)) {
    running_ = false;
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, limit, [&] { return active_ == 0; });
  }

  uint64_t rounds() const { return rounds_.load(); }
  uint64_t errors() const { return errors_.load(); }
  std::string first_error() {
    std::lock_guard lk(mu_);
    return first_error_;
  }
  // Waits until n more rounds have completed; false on timeout.
  bool progress(uint64_t n, std::chrono::milliseconds limit = std::chrono::milliseconds(20000)) {
    uint64_t target = rounds() + n;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (rounds() < target)
      if (std::chrono::steady_clock::now() > deadline) return false;
      else std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return true;
  }

  // A slot's I/O completed (on its reactor).
  void done(slot_base& sb) {
    slot& s = static_cast<slot&>(sb);
    bdev_io& io = s.io;
    if (io.status != 0) {
      fail(s, "status " + std::to_string(io.status) + (io.op == bdev_op::write ? " on write" : " on read"));
      return next_round(s);
    }
    if (io.op == bdev_op::write) {
      io.op = bdev_op::read;
      io.buf = s.in.data();
      std::memset(s.in.data(), 0, s.in.size());
      b_.submit(io);
      return;
    }
    if (std::memcmp(s.in.data(), s.out.data(), s.out.size()) != 0)
      fail(s, "read back differs from what was written at block " + std::to_string(io.offset_blocks));
    else
      ++rounds_;
    next_round(s);
  }

 private:
  struct slot final : slot_base {
    slot(verified_io& owner, size_t bytes) : slot_base(owner), out(bytes), in(bytes) {}
    bdev_io io;
    aligned_buffer out, in;
    uint64_t seed = 0;
    bool active = false;
  };

  void write_round(slot& s) {
    ++s.seed;
    fill_pattern(s.out.span(), s.seed);
    s.io.op = bdev_op::write;
    s.io.buf = s.out.data();
    b_.submit(s.io);
  }
  void next_round(slot& s) {
    if (running_) return write_round(s);
    std::lock_guard lk(mu_);
    s.active = false;
    --active_;
    cv_.notify_all();
  }
  void fail(slot& s, const std::string& what) {
    ++errors_;
    std::lock_guard lk(mu_);
    if (first_error_.empty()) first_error_ = "blocks at " + std::to_string(s.io.offset_blocks) + ": " + what;
  }

 private:
  bdev& b_;
  reactor_pool& pool_;
  std::vector<std::unique_ptr<slot>> slots_;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> rounds_{0}, errors_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  size_t active_ = 0;
  std::string first_error_;
};

}  // namespace nvmfd::test
