#include "bdev/lvol/metadata_committer.h"

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/log.h"
#include "bdev/bdev_sync_io.h"
#include "bdev/lvol/lvol_message.h"
#include "reactor/reactor_assert.h"

namespace nvmfd::lvol {

void commit_waiter::wait_on_home() { committer_->wait_durable(*this); }

void metadata_committer::wake(commit_waiter& w, int status) {
  if (!w.waiter_owner) return w.on_committed(status);
  w.status_ = status;
  send_message(*w.waiter_owner, w.to_owner_);
}

void metadata_committer::request_durable(commit_waiter& w) {
  if (reactor::current() == &home_) return wait_durable(w);
  w.committer_ = this;
  send_message(home_, w.to_home_);
}

// One metadata commit: flush base, write the slot, flush base. On home.
struct metadata_committer::commit_job final : bdev_io_callback {
  metadata_committer* owner;
  uint64_t generation;     // dirty generation it covers
  uint64_t md_generation;  // the slot's generation
  std::unique_ptr<aligned_buffer> image;
  bdev_io io;
  int step = 0;

  void next() {
    io.owner = &owner->home_;
    io.done = this;
    uint32_t bs = owner->base_.block_size();
    if (step == 1) {
      io.op = bdev_op::write;
      io.offset_blocks = owner->sb_.slot_offset[md_generation % 2] / bs;
      io.num_blocks = image->size() / bs;
      io.buf = image->data();
    } else {
      io.op = bdev_op::flush;
      io.offset_blocks = io.num_blocks = 0;
      io.buf = nullptr;
    }
    owner->base_.submit(io);
  }
  void on_bdev_io_done(bdev_io& done) override {
    if (done.status != 0 || step == 2) return owner->finish_commit(this, done.status);
    ++step;
    next();
  }
};

metadata_committer::metadata_committer(reactor& home, bdev& base, const superblock& sb, uint64_t md_generation,
                                       std::function<metadata()> image, std::function<void(uint64_t)> on_durable)
    : home_(home), base_(base), sb_(sb), image_(std::move(image)), on_durable_(std::move(on_durable)),
      md_generation_(md_generation) {}

uint64_t metadata_committer::mark_dirty() {
  assert_on(home_, "metadata_committer::mark_dirty");
  return dirty_gen_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

void metadata_committer::wait_durable(commit_waiter& w) {
  assert_on(home_, "metadata_committer::wait_durable");
  if (w.need_generation <= durable_gen_.load(std::memory_order_relaxed)) return wake(w, 0);
  waiters_.push_back(&w);
  if (!commit_running_) start_commit();
}

void metadata_committer::start_commit() {
  // Every change is made on home, so the image holds every change up to this generation.
  uint64_t generation = dirty_gen_.load(std::memory_order_relaxed);
  metadata md = image_();
  md.generation = md_generation_ + 1;
  store_name_ = md.name;
  auto* job = new commit_job;
  job->owner = this;
  job->generation = generation;
  job->md_generation = md.generation;
  commit_running_ = true;
  auto image = encode_metadata(sb_, md);
  if (!image) {
    NVMFD_LOG_ERROR("lvol store {}: {}", store_name_, image.err().message);
    home_.post([this, job] { finish_commit(job, -ENOSPC); });
    return;
  }
  job->image = std::make_unique<aligned_buffer>(image->size());
  std::copy(image->begin(), image->end(), job->image->data());
  job->next();
}

void metadata_committer::finish_commit(commit_job* job, int status) {
  commit_running_ = false;
  uint64_t durable = durable_gen_.load(std::memory_order_relaxed);
  if (status == 0) {
    durable = std::max(durable, job->generation);
    md_generation_ = job->md_generation;
    on_durable_(durable);
    durable_gen_.store(durable, std::memory_order_release);
  } else {
    NVMFD_LOG_ERROR("lvol store {}: metadata commit failed: {}", store_name_, std::strerror(-status));
  }
  delete job;
  std::vector<commit_waiter*> wake_now;
  std::erase_if(waiters_, [&](commit_waiter* w) {
    if (status == 0 && w->need_generation > durable) return false;
    wake_now.push_back(w);
    return true;
  });
  if (!waiters_.empty()) start_commit();
  for (auto* w : wake_now) wake(*w, status);
}

}  // namespace nvmfd::lvol
