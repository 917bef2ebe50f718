#pragma once
// fault_bdev: wraps another bdev and injects failures (LevelDB's fault-injecting Env, for
// block devices). With no rule set it forwards every I/O unchanged. Rules, per op:
//  - fail_nth(op, n, err): the n-th I/O of op submitted from now on (n = 1: the next one)
//    completes with -err without reaching the inner bdev; once.
//  - fail_all(op, err): every I/O of op completes with -err, until heal().
//  - hold_all(op): every I/O of op waits in the wrapper, never completing, until
//    release_held() forwards them or fail_held() fails them (for timeout and abort tests).
// Rules are checked in that order after the contract checks (range, read-only, ...),
// which the wrapper answers as the inner bdev would. Injected failures complete later
// on the submitting reactor, like any completion.
//
// Threads: submit() on reactor threads, as for any bdev; the rule setters, release_held(),
// fail_held() and the counters from any thread. The wrapper claims the inner bdev for its
// lifetime. Held I/Os must be released or failed before the wrapper is destroyed; the
// destructor fails any still held with -EIO.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/result.h"
#include "bdev/bdev.h"

namespace nvmfd {

class fault_bdev final : public bdev {
 public:
  // Control thread. Same geometry as inner; a missing or nil id gets a random UUID. Fails
  // with invalid_argument if inner is null.
  static result<std::shared_ptr<fault_bdev>> create(std::string name, std::shared_ptr<bdev> inner,
                                                    std::optional<uuid> id = std::nullopt);
  ~fault_bdev() override;

  std::string_view product_name() const override { return "Fault injection disk"; }
  bool has_volatile_cache() const override { return inner_->has_volatile_cache(); }
  bool supports(bdev_op op) const override { return inner_->supports(op); }
  uint32_t buf_align() const override { return inner_->buf_align(); }
  bool read_only() const override { return inner_->read_only(); }
  void do_submit(bdev_io& io) override;

  // err is a positive errno (EIO, ENOSPC, ...); the I/O completes with -err.
  void fail_nth(bdev_op op, uint64_t n, int err);
  void fail_all(bdev_op op, int err);
  void hold_all(bdev_op op);
  // Clears every rule. I/Os already held stay held.
  void heal();
  // Forwards the held I/Os to the inner bdev, each on its own reactor. Returns how many.
  std::size_t release_held();
  // Completes the held I/Os with -err, each on its own reactor. Returns how many.
  std::size_t fail_held(int err);

  // Counters since creation: I/Os of op submitted to the wrapper, and failed by a rule.
  uint64_t submitted(bdev_op op) const { return rule_for(op).submitted.load(); }
  uint64_t injected(bdev_op op) const { return rule_for(op).injected.load(); }
  std::size_t held() const;
  // Waits until at least n I/Os are held (true), or timeout has passed (false). Any thread
  // but a reactor that submits to this bdev (the hold would never come).
  bool wait_held(std::size_t n, std::chrono::milliseconds timeout) const;

  const std::shared_ptr<bdev>& inner() const { return inner_; }

 private:
  struct rule {
    std::atomic<int> fail_all_err{0};
    std::atomic<uint64_t> countdown{0};  // fail_nth: I/Os left until the failing one
    std::atomic<int> nth_err{0};
    std::atomic<bool> hold{false};
    std::atomic<uint64_t> submitted{0};
    std::atomic<uint64_t> injected{0};
  };
  static constexpr std::size_t op_count = 5;

  fault_bdev(std::string name, std::shared_ptr<bdev> inner, uuid id);
  rule& rule_for(bdev_op op) { return rules_[static_cast<std::size_t>(op)]; }
  const rule& rule_for(bdev_op op) const { return rules_[static_cast<std::size_t>(op)]; }
  // Returns the held list, leaving it empty.
  bdev_io* take_held();

  std::shared_ptr<bdev> inner_;
  std::array<rule, op_count> rules_;
  mutable std::mutex held_mu_;
  mutable std::condition_variable held_cv_;  // notified when an I/O is held
  bdev_io* held_head_ = nullptr;  // linked through each I/O's backend_ctx
  bdev_io* held_tail_ = nullptr;
  std::size_t held_count_ = 0;
};

}  // namespace nvmfd
