#include "bdev/fault_bdev.h"

#include <cerrno>

#include "bdev/bdev_validate.h"

namespace nvmfd {

namespace {
// What a held I/O keeps in its backend_ctx: the next held I/O.
struct held_link {
  bdev_io* next = nullptr;
};
}  // namespace

result<std::shared_ptr<fault_bdev>> fault_bdev::create(std::string name,
                                                       std::shared_ptr<bdev> inner,
                                                       std::optional<uuid> id) {
  if (!inner) return error{errc::invalid_argument, "fault bdev needs an inner bdev"};
  return std::shared_ptr<fault_bdev>(new fault_bdev(std::move(name), std::move(inner),
                                                    pick_uuid(id)));
}

fault_bdev::fault_bdev(std::string name, std::shared_ptr<bdev> inner, uuid id)
    : bdev(std::move(name), inner->block_size(), inner->num_blocks(), id),
      inner_(std::move(inner)) {
  inner_->claim(this->name());
}

fault_bdev::~fault_bdev() {
  fail_held(EIO);
  inner_->release();
}

void fault_bdev::do_submit(bdev_io& io) {
  int st = validate_io(*this, io);
  if (st != 0) return io.complete_later(st);
  rule& r = rule_for(io.op);
  r.submitted.fetch_add(1, std::memory_order_relaxed);

  int err = r.fail_all_err.load(std::memory_order_acquire);
  if (err == 0) {
    uint64_t left = r.countdown.load(std::memory_order_acquire);
    while (left > 0 && !r.countdown.compare_exchange_weak(left, left - 1, std::memory_order_acq_rel)) {
    }
    if (left == 1) err = r.nth_err.load(std::memory_order_acquire);
  }
  if (err != 0) {
    r.injected.fetch_add(1, std::memory_order_relaxed);
    return io.complete_later(-err);
  }

  if (r.hold.load(std::memory_order_acquire)) {
    io.emplace_backend_ctx<held_link>();
    std::lock_guard lk(held_mu_);
    if (held_tail_)
      held_tail_->backend_ctx_as<held_link>().next = &io;
    else
      held_head_ = &io;
    held_tail_ = &io;
    ++held_count_;
    held_cv_.notify_all();
    return;
  }
  inner_->submit(io);
}

void fault_bdev::fail_nth(bdev_op op, uint64_t n, int err) {
  rule& r = rule_for(op);
  r.nth_err.store(err, std::memory_order_release);
  r.countdown.store(n, std::memory_order_release);
}

void fault_bdev::fail_all(bdev_op op, int err) {
  rule_for(op).fail_all_err.store(err, std::memory_order_release);
}

void fault_bdev::hold_all(bdev_op op) { rule_for(op).hold.store(true, std::memory_order_release); }

void fault_bdev::heal() {
  for (rule& r : rules_) {
    r.fail_all_err.store(0);
    r.countdown.store(0);
    r.hold.store(false);
  }
}

bdev_io* fault_bdev::take_held() {
  std::lock_guard lk(held_mu_);
  bdev_io* head = held_head_;
  held_head_ = held_tail_ = nullptr;
  held_count_ = 0;
  return head;
}

std::size_t fault_bdev::release_held() {
  std::size_t n = 0;
  for (bdev_io* io = take_held(); io; ++n) {
    bdev_io* next = io->backend_ctx_as<held_link>().next;
    // The inner bdev must be entered on the I/O's own reactor; the lambda keeps it alive.
    io->owner->post([inner = inner_, io] { inner->submit(*io); });
    io = next;
  }
  return n;
}

std::size_t fault_bdev::fail_held(int err) {
  std::size_t n = 0;
  for (bdev_io* io = take_held(); io; ++n) {
    bdev_io* next = io->backend_ctx_as<held_link>().next;
    io->owner->post([io, err] { io->complete_later(-err); });
    io = next;
  }
  return n;
}

bool fault_bdev::wait_held(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lk(held_mu_);
  return held_cv_.wait_for(lk, timeout, [&] { return held_count_ >= n; });
}

std::size_t fault_bdev::held() const {
  std::lock_guard lk(held_mu_);
  return held_count_;
}

}  // namespace nvmfd
