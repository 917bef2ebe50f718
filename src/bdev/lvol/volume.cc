#include "bdev/lvol/volume.h"

#include "bdev/lvol/lvol_bdev.h"

namespace nvmfd::lvol {

cluster_map::cluster_map(uint64_t n) : capacity(n), entries(new std::atomic<uint32_t>[n ? n : 1]) {
  for (uint64_t i = 0; i < n; ++i) entries[i].store(unallocated, std::memory_order_relaxed);
}

uint32_t resolve_read(const volume& v, uint64_t lc) {
  for (const volume* x = &v; x; x = x->parent.load(std::memory_order_acquire))
    if (uint32_t p = x->entry(lc); p != unallocated) return p;
  return unallocated;
}

// The counter and the flag are sequentially consistent: a write that ends (fetch_sub, then
// a look at frozen_) and a freeze (frozen_, then a look at the counter) cannot both miss each
// other, so the last write of a drain always finds the freeze's drained_ (or the freeze
// finds no write in flight).
void volume::freeze(std::function<void()> drained) {
  {
    std::lock_guard lk(freeze_mu_);
    frozen_.store(true);
    if (inflight_writes_.load() != 0) {
      drained_ = std::move(drained);
      return;
    }
  }
  drained();
}

void volume::thaw() {
  std::vector<bdev_io*> parked;
  {
    std::lock_guard lk(freeze_mu_);
    frozen_.store(false);
    drained_ = nullptr;
    parked.swap(parked_);
  }
  for (bdev_io* io : parked) io->owner->post([b = bdev, io] { b->submit(*io); });
}

bool volume::start_write(bdev_io& io) {
  inflight_writes_.fetch_add(1);
  if (!frozen_.load()) return true;
  write_done();  // not in flight after all: maybe the last one a freeze waits for
  std::lock_guard lk(freeze_mu_);
  if (frozen_.load()) {
    parked_.push_back(&io);
    return false;
  }
  inflight_writes_.fetch_add(1);  // thawed meanwhile
  return true;
}

void volume::write_done() {
  if (inflight_writes_.fetch_sub(1) != 1 || !frozen_.load()) return;
  std::function<void()> drained;
  {
    std::lock_guard lk(freeze_mu_);
    drained.swap(drained_);
  }
  if (drained) drained();
}

}  // namespace nvmfd::lvol
