#include "bdev/lvol/cluster_allocator.h"

#include <cerrno>
#include <cstring>
#include <memory>

#include "bdev/bdev_sync_io.h"
#include "bdev/lvol/lvol_message.h"
#include "reactor/reactor_assert.h"

namespace nvmfd::lvol {

// One cluster being filled for a write, on home: zeroes, or the ancestor's contents.
struct cluster_allocator::fill final : bdev_io_callback {
  cluster_allocator* owner;
  volume* vol;
  uint64_t lc;
  uint32_t physical;
  uint32_t source;  // the ancestor's physical cluster to copy, or unallocated
  cluster_waiter* waiters = nullptr;
  fill* next_idle = nullptr;
  std::unique_ptr<aligned_buffer> copy;  // kept across uses
  bdev_io io;
  bool writing = false;

  uint64_t first_block(uint32_t cluster) const {
    return uint64_t{cluster} * (owner->cluster_size_ / owner->base_.block_size());
  }
  void start() {
    io.owner = &owner->home_;
    io.done = this;
    io.num_blocks = owner->cluster_size_ / owner->base_.block_size();
    if (source == unallocated && owner->base_.supports(bdev_op::write_zeroes)) {
      io.op = bdev_op::write_zeroes;
      io.offset_blocks = first_block(physical);
      writing = true;
    } else {
      if (!copy) copy = std::make_unique<aligned_buffer>(owner->cluster_size_);
      io.buf = copy->data();
      if (source == unallocated) {
        std::memset(copy->data(), 0, copy->size());  // it may hold an earlier copy
        io.op = bdev_op::write;
        io.offset_blocks = first_block(physical);
        writing = true;
      } else {
        io.op = bdev_op::read;
        io.offset_blocks = first_block(source);
      }
    }
    owner->base_.submit(io);
  }
  void on_bdev_io_done(bdev_io& done) override {
    if (done.status != 0 || writing) return owner->finish_fill(this, done.status);
    writing = true;
    io.op = bdev_op::write;
    io.offset_blocks = first_block(physical);
    owner->base_.submit(io);
  }
};

void cluster_waiter::serve_on_home() {
  if (release_)
    allocator_->release(*vol_, lc_, *this);
  else
    allocator_->fill_for_write(*vol_, lc_, *this);
}

void cluster_allocator::resume(cluster_waiter& w, int status, uint32_t physical) {
  w.status_ = status;
  w.physical_ = physical;
  send_message(*w.waiter_owner, w.to_owner_);
}

void cluster_allocator::request_fill(volume& v, uint64_t lc, cluster_waiter& w) { request(v, lc, w, false); }

void cluster_allocator::request_release(volume& v, uint64_t lc, cluster_waiter& w) { request(v, lc, w, true); }

void cluster_allocator::request(volume& v, uint64_t lc, cluster_waiter& w, bool release) {
  w.allocator_ = this;
  w.vol_ = &v;
  w.lc_ = lc;
  w.release_ = release;
  if (reactor::current() == &home_)
    w.serve_on_home();
  else
    send_message(home_, w.to_home_);
}

void cluster_allocator::release(volume& v, uint64_t lc, cluster_waiter& w) {
  assert_on(home_, "cluster_allocator::release");
  cluster_map* m = v.map.load();
  uint32_t p = lc < m->capacity ? m->entries[lc].exchange(unallocated, std::memory_order_acq_rel) : unallocated;
  if (p != unallocated) release_after(committer_.mark_dirty(), p);
  resume(w, 0, unallocated);
}

cluster_allocator::cluster_allocator(reactor& home, bdev& base, metadata_committer& committer, uint64_t cluster_size,
                                     uint64_t first_data_cluster, uint64_t total_clusters)
    : home_(home), base_(base), committer_(committer), cluster_size_(cluster_size),
      first_data_cluster_(first_data_cluster), next_free_hint_(first_data_cluster) {
  in_use_.assign(total_clusters, false);
  filling_.reserve(8);
  for (uint64_t c = 0; c < std::min(first_data_cluster, total_clusters); ++c) in_use_[c] = true;
  set_free_count(total_clusters > first_data_cluster ? total_clusters - first_data_cluster : 0);
}

cluster_allocator::~cluster_allocator() = default;

void cluster_allocator::mark_used(uint32_t c) {
  if (in_use_[c]) return;
  in_use_[c] = true;
  set_free_count(free_count() - 1);
}

uint32_t cluster_allocator::take_one() {
  uint64_t free = free_count();
  if (free == 0) return unallocated;
  uint64_t total = in_use_.size();
  for (uint64_t n = 0; n < total; ++n) {
    uint64_t c = next_free_hint_ + n;
    if (c >= total) c = first_data_cluster_ + (c - total) % (total - first_data_cluster_);
    if (!in_use_[c]) {
      in_use_[c] = true;
      set_free_count(free - 1);
      next_free_hint_ = c + 1;
      return static_cast<uint32_t>(c);
    }
  }
  return unallocated;
}

std::optional<std::vector<uint32_t>> cluster_allocator::take(uint64_t count) {
  assert_on(home_, "cluster_allocator::take");
  if (count > free_count()) return std::nullopt;
  std::vector<uint32_t> taken;
  for (uint64_t i = 0; i < count; ++i) taken.push_back(take_one());
  return taken;
}

void cluster_allocator::give_back(std::span<const uint32_t> clusters) {
  assert_on(home_, "cluster_allocator::give_back");
  for (uint32_t c : clusters) in_use_[c] = false;
  set_free_count(free_count() + clusters.size());
}

void cluster_allocator::release_after(uint64_t generation, uint32_t c) {
  assert_on(home_, "cluster_allocator::release_after");
  pending_free_.emplace_back(generation, c);
}

void cluster_allocator::on_durable(uint64_t generation) {
  assert_on(home_, "cluster_allocator::on_durable");
  uint64_t freed = 0;
  std::erase_if(pending_free_, [&](const std::pair<uint64_t, uint32_t>& f) {
    if (f.first > generation) return false;
    in_use_[f.second] = false;
    ++freed;
    return true;
  });
  if (freed) set_free_count(free_count() + freed);
}

void cluster_allocator::grow(uint64_t total_clusters) {
  assert_on(home_, "cluster_allocator::grow");
  if (total_clusters <= in_use_.size()) return;
  set_free_count(free_count() + (total_clusters - in_use_.size()));
  in_use_.resize(total_clusters, false);
}

void cluster_allocator::fill_for_write(volume& v, uint64_t lc, cluster_waiter& w) {
  assert_on(home_, "cluster_allocator::fill_for_write");
  if (uint32_t p = v.entry(lc); p != unallocated) return resume(w, 0, p);
  for (fill* f : filling_) {
    if (f->vol == &v && f->lc == lc) {
      w.next_waiter = f->waiters;
      f->waiters = &w;
      return;
    }
  }
  uint32_t c = take_one();
  if (c == unallocated) return resume(w, -ENOSPC, unallocated);
  fill* f = idle_fills_;
  if (f) {
    idle_fills_ = f->next_idle;
  } else {
    f = fills_.emplace_back(std::make_unique<fill>()).get();
  }
  f->writing = false;
  f->owner = this;
  f->vol = &v;
  f->lc = lc;
  f->physical = c;
  volume* parent = v.parent.load();
  f->source = parent ? resolve_read(*parent, lc) : unallocated;
  w.next_waiter = nullptr;
  f->waiters = &w;
  filling_.push_back(f);
  f->start();
}

void cluster_allocator::finish_fill(fill* f, int status) {
  if (status == 0 && f->lc >= f->vol->size_clusters.load()) status = -EINVAL;  // shrunk meanwhile
  if (status == 0) {
    f->vol->map.load()->entries[f->lc].store(f->physical, std::memory_order_release);
    committer_.mark_dirty();
  } else {
    give_back(std::span<const uint32_t>(&f->physical, 1));
  }
  std::erase(filling_, f);
  uint32_t c = status == 0 ? f->physical : unallocated;
  cluster_waiter* waiters = f->waiters;
  f->next_idle = idle_fills_;
  idle_fills_ = f;
  while (waiters) {
    cluster_waiter* w = waiters;
    waiters = w->next_waiter;
    resume(*w, status, c);
  }
}

}  // namespace nvmfd::lvol
