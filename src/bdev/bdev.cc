#include "bdev/bdev.h"

#include <algorithm>

#include "bdev/bdev_qos.h"

namespace nvmfd {

uint64_t bdev::add_resize_observer(std::function<void()> fn) {
  std::lock_guard lk(observers_mu_);
  const uint64_t token = next_observer_++;
  resize_observers_.emplace_back(token, std::move(fn));
  return token;
}

void bdev::remove_resize_observer(uint64_t token) {
  std::lock_guard lk(observers_mu_);
  std::erase_if(resize_observers_, [token](auto& o) { return o.first == token; });
}

bool bdev::admit_qos(bdev_qos& q, bdev_io& io) { return q.admit(io); }

void bdev::set_qos_limits(const qos_limits& l) {
  if (!qos_state_) {
    if (!l.any()) return;
    qos_state_ = std::make_shared<bdev_qos>(*this);
  }
  qos_state_->set_limits(l);
  // Cleared, I/Os bypass bdev_qos at once; those already waiting drain on their timers.
  qos_.store(l.any() ? qos_state_.get() : nullptr, std::memory_order_release);
}

qos_limits bdev::get_qos_limits() const {
  bdev_qos* q = qos_.load(std::memory_order_acquire);
  return q ? q->limits() : qos_limits{};
}

void bdev::set_num_blocks(uint64_t n) {
  num_blocks_.store(n, std::memory_order_relaxed);
  std::lock_guard lk(observers_mu_);
  // A copy: an observer may remove itself (or another) while the list is walked.
  auto observers = resize_observers_;
  for (auto& [token, fn] : observers)
    if (std::any_of(resize_observers_.begin(), resize_observers_.end(), [t = token](auto& o) { return o.first == t; }))
      fn();
}

}  // namespace nvmfd
