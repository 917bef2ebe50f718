#include "bdev/lvol/long_operation_job.h"

#include <cstring>
#include <fmt/format.h>

#include "reactor/reactor_assert.h"

namespace nvmfd::lvol {

std::shared_ptr<long_operation_job> long_operation_job::make(lvol_store& s, volume& v, long_operation op) {
  return std::shared_ptr<long_operation_job>(new long_operation_job(s, v, op));
}

long_operation_job::long_operation_job(lvol_store& s, volume& v, long_operation op)
    : store_(s), vol_(v), op_(op), copies_(max_in_flight) {
  for (auto& c : copies_) {
    c.job = this;
    c.waiter_owner = &s.home();
  }
}

void long_operation_job::cluster_copy::on_cluster_ready(int status, uint32_t) { job->copied(*this, status); }

void long_operation_job::start(completion<void> done) {
  assert_on(home(), "long_operation_job::start");
  keep_ = shared_from_this();
  done_ = std::move(done);
  bool whole_chain = op_ == long_operation::inflate;
  parent_ = vol_.parent.load();
  uint64_t size = vol_.size_clusters.load();
  for (uint64_t lc = 0; lc < size; ++lc)
    if (vol_.entry(lc) == unallocated && (whole_chain || (parent_ && parent_->entry(lc) != unallocated)))
      todo_.push_back(lc);
  vol_.op_total.store(todo_.size());
  copy_more();
}

void long_operation_job::cancel() {
  assert_on(home(), "long_operation_job::cancel");
  cancelled_ = true;
}

void long_operation_job::when_ended(std::function<void()> fn) {
  assert_on(home(), "long_operation_job::when_ended");
  if (ended()) return fn();
  on_end_.push_back(std::move(fn));
}

void long_operation_job::copy_more() {
  for (auto& c : copies_) {
    if (cancelled_ || failed_ || next_ == todo_.size()) break;
    if (c.busy) continue;
    c.busy = true;
    c.lc = todo_[next_++];
    ++in_flight_;
    store_.allocator().fill_for_write(vol_, c.lc, c);  // resumes c later (posted)
  }
  if (in_flight_ > 0) return;
  if (failed_) return finish(std::move(*failed_));
  if (cancelled_) return finish(error{errc::closed, "cancelled"});
  all_copied();
}

void long_operation_job::copied(cluster_copy& c, int status) {
  c.busy = false;
  --in_flight_;
  if (status == 0)
    vol_.op_done.fetch_add(1, std::memory_order_relaxed);
  else if (!failed_)
    failed_ = error{errc::io_error,
                    fmt::format("copying cluster {} of {}: {}", c.lc, vol_.name, std::strerror(-status)),
                    -status};
  copy_more();
}

void long_operation_job::all_copied() {
  bool whole_chain = op_ == long_operation::inflate;
  store_.change_on_home(
      [this, whole_chain](uint64_t) {
        if (whole_chain) {
          vol_.parent.store(nullptr);
          vol_.thin.store(false);
        } else {
          vol_.parent.store(parent_ ? parent_->parent.load() : nullptr);
        }
        return success();
      },
      [this](result<void> r) { finish(std::move(r)); });
}

void long_operation_job::finish(result<void> r) {
  store_.end_operation(vol_, r);
  ended_.store(true, std::memory_order_release);
  auto keep = std::move(keep_);  // this lives until the end of this function
  auto on_end = std::move(on_end_);
  done_(std::move(r));
  for (auto& fn : on_end) fn();
}

}  // namespace nvmfd::lvol
