// lvol_store's control operations: each checks what it can on the control thread, runs its
// change on the home reactor (change_on_home, through change()) and returns once the change
// is durable. Freezing a volume's writes, and zeroing clusters for a thick volume, happen on
// the control thread, which may wait.
#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <fmt/format.h>
#include <mutex>

#include "base/log.h"
#include "bdev/bdev_sync_io.h"
#include "bdev/lvol/lvol_bdev.h"
#include "bdev/lvol/lvol_store.h"
#include "reactor/blocking_call.h"
#include "reactor/reactor_assert.h"

namespace nvmfd::lvol {

namespace {

constexpr uint64_t zero_chunk_bytes = 1ull << 30;

// Clusters for size_bytes (rounded up), or an error for 0 or more than a map can hold.
result<uint64_t> clusters_for(uint64_t size_bytes, uint64_t cluster_size) {
  uint64_t n = size_bytes / cluster_size + (size_bytes % cluster_size != 0);
  if (n == 0) return error{errc::invalid_argument, "size must not be 0"};
  if (n >= unallocated)
    return error{errc::invalid_argument, fmt::format("size of {} clusters is too large", n)};
  return n;
}

}  // namespace

result<void> lvol_store::valid_name(const std::string& name, const char* what) {
  if (name.empty() || name.size() > max_name_len)
    return error{errc::invalid_argument, fmt::format("{} name must have 1 to {} characters", what, max_name_len)};
  if (name.find('/') != std::string::npos)
    return error{errc::invalid_argument, fmt::format("{} name '{}' must not contain '/'", what, name)};
  return success();
}

result<void> lvol_store::check_name(const std::string& name, const volume* except) const {
  if (auto n = valid_name(name, "lvol"); !n) return n;
  std::lock_guard lk(mu_);
  for (auto& v : volumes_)
    if (v.get() != except && v->name == name)
      return error{errc::already_exists, fmt::format("lvol {}/{} already exists", name_, name), EEXIST};
  return success();
}

void lvol_store::freeze(volume& v) {
  assert_off_reactor("lvol_store::freeze");
  std::mutex mu;
  std::condition_variable cv;
  bool drained = false;
  v.freeze([&] {
    std::lock_guard lk(mu);
    drained = true;
    cv.notify_all();
  });
  std::unique_lock lk(mu);
  cv.wait(lk, [&] { return drained; });
}

result<void> lvol_store::zero_clusters(uint64_t first, uint64_t count) {
  uint64_t bpc = blocks_per_cluster();
  uint64_t per_io = std::max<uint64_t>(1, zero_chunk_bytes / sb_.cluster_size);
  for (uint64_t done = 0; done < count;) {
    uint64_t n = std::min(per_io, count - done);
    bdev_op op = base_->supports(bdev_op::write_zeroes) ? bdev_op::write_zeroes : bdev_op::unmap;
    if (auto r = sync_bdev_io(pool_, *base_, op, (first + done) * bpc, n * bpc, nullptr); !r) return r;
    done += n;
  }
  return success();
}

void lvol_store::publish_map_locked(volume& v, uint64_t capacity) {
  cluster_map* old = v.map.load();
  if (old && old->capacity >= capacity) return;
  auto m = std::make_unique<cluster_map>(capacity);
  if (old)
    for (uint64_t i = 0; i < old->capacity; ++i) m->entries[i].store(old->entries[i].load());
  v.map.store(m.get(), std::memory_order_release);
  v.maps.push_back(std::move(m));
}

result<std::vector<uint32_t>> lvol_store::take_zeroed_clusters(uint64_t count) {
  auto taken = blocking_call<std::vector<uint32_t>>(home_, [this, count](completion<std::vector<uint32_t>> done) {
    if (auto t = allocator_.take(count)) return done(std::move(*t));
    done(error{errc::no_memory,
               fmt::format("lvol store {} has {} free clusters, {} needed", name_, allocator_.free_count(), count),
               ENOSPC});
  }, std::nullopt, "lvol_store: taking clusters");
  if (!taken) return taken;
  // Zeroed before any map shows them (they may hold a deleted volume's data, and a commit
  // by another volume's flush may run meanwhile).
  std::vector<uint32_t> sorted = *taken;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[j - 1] + 1) ++j;
    if (auto r = zero_clusters(sorted[i], j - i); !r) {
      (void)blocking_call<void>(home_, [this, &sorted](completion<void> done) {
        allocator_.give_back(sorted);
        done(success());
      }, std::nullopt, "lvol_store: giving clusters back");
      return r.take_err();
    }
    i = j;
  }
  return taken;
}

result<volume*> lvol_store::create_volume(const std::string& name, uint64_t size_bytes, bool thin,
                                          std::optional<uuid> id) {
  if (auto n = check_name(name, nullptr); !n) return n.take_err();
  auto clusters = clusters_for(size_bytes, sb_.cluster_size);
  if (!clusters) return clusters.take_err();
  {
    std::lock_guard lk(mu_);
    if (volumes_.size() >= max_volumes)
      return error{errc::no_memory, fmt::format("lvol store {} holds {} volumes already", name_, max_volumes)};
  }
  std::vector<uint32_t> taken;
  if (!thin) {
    auto t = take_zeroed_clusters(*clusters);
    if (!t) return t.take_err();
    taken = std::move(t.value());
  }
  volume* v = nullptr;
  auto r = change([&](uint64_t) {
    volume_record rec;
    rec.id = next_volume_id_++;
    rec.vid = id && !id->is_zero() ? *id : uuid::random_v4();
    rec.name = name;
    rec.thin = thin;
    rec.size_clusters = *clusters;
    v = add_volume_locked(rec);
    for (uint64_t lc = 0; lc < taken.size(); ++lc) v->map.load()->entries[lc].store(taken[lc]);
    return success();
  });
  if (!r) return r.take_err();
  return v;
}

result<void> lvol_store::can_delete(const volume& v) const {
  if (v.bdev->claimed())
    return error{errc::busy, fmt::format("lvol {} is in use by {}", volume_name(v), v.bdev->claimed_by()), EBUSY};
  std::lock_guard lk(mu_);
  int clones = 0;
  for (auto& o : volumes_) clones += o->parent.load() == &v;
  if (clones > 1)
    return error{errc::busy, fmt::format("snapshot {} has {} clones: inflate or decouple all but one first", v.name,
                                         clones), EBUSY};
  for (auto& o : volumes_)
    if (o->op_running)  // an inflate / decouple walks the parent chains
      return error{errc::busy, fmt::format("{} runs on {}: wait for it", o->op.name, o->name), EBUSY};
  return success();
}

result<void> lvol_store::delete_volume(volume& v) {
  if (auto r = can_delete(v); !r) return r;
  volume* only_clone = nullptr;
  {
    std::lock_guard lk(mu_);
    for (auto& o : volumes_)
      if (o->parent.load() == &v) only_clone = o.get();
  }
  // A snapshot with one clone: the clone takes over the clusters it still reads from it
  // (no copy), and the snapshot's parent; the rest of the snapshot's clusters are freed.
  if (only_clone) freeze(*only_clone);
  auto r = change([&](uint64_t g) {
    for (uint64_t lc = 0; lc < v.size_clusters.load(); ++lc) {
      uint32_t p = v.entry(lc);
      if (p == unallocated) continue;
      cluster_map* cm = only_clone ? only_clone->map.load() : nullptr;
      if (cm && lc < only_clone->size_clusters.load() && cm->entries[lc].load() == unallocated)
        cm->entries[lc].store(p);
      else
        allocator_.release_after(g, p);
    }
    if (only_clone) only_clone->parent.store(v.parent.load());
    auto it = std::find_if(volumes_.begin(), volumes_.end(), [&](auto& o) { return o.get() == &v; });
    // The volume's memory stays until the store goes: a bdev reference may outlive it.
    retired_.push_back(std::move(*it));
    volumes_.erase(it);
    return success();
  });
  if (only_clone) only_clone->thaw();
  return r;
}

result<void> lvol_store::resize_volume(volume& v, uint64_t size_bytes) {
  if (v.snapshot) return error{errc::invalid_argument, fmt::format("{} is a snapshot: it cannot be resized", v.name)};
  auto clusters = clusters_for(size_bytes, sb_.cluster_size);
  if (!clusters) return clusters.take_err();
  uint64_t old = v.size_clusters.load();
  result<void> r;
  if (*clusters > old) {
    std::vector<uint32_t> taken;
    if (!v.thin.load()) {
      auto t = take_zeroed_clusters(*clusters - old);
      if (!t) return t.take_err();
      taken = std::move(t.value());
    }
    r = change([&](uint64_t) {
      publish_map_locked(v, *clusters);
      for (uint64_t i = 0; i < taken.size(); ++i) v.map.load()->entries[old + i].store(taken[i]);
      v.size_clusters.store(*clusters);
      return success();
    });
  } else if (*clusters < old) {
    // The new end first (new I/O past it fails), then drain the writes still in flight, so
    // none lands in (or allocates) a cluster being given back.
    v.size_clusters.store(*clusters);
    v.bdev->set_size_blocks(*clusters * blocks_per_cluster());
    freeze(v);
    r = change([&](uint64_t g) {
      for (uint64_t lc = *clusters; lc < old; ++lc)
        if (uint32_t p = v.map.load()->entries[lc].exchange(unallocated); p != unallocated)
          allocator_.release_after(g, p);
      return success();
    });
    v.thaw();
  } else {
    r = change([](uint64_t) { return success(); });
  }
  v.bdev->set_size_blocks(*clusters * blocks_per_cluster());
  return r;
}

result<volume*> lvol_store::snapshot(volume& v, const std::string& name) {
  if (v.snapshot) return error{errc::invalid_argument, fmt::format("{} is a snapshot already", v.name)};
  if (auto n = check_name(name, nullptr); !n) return n.take_err();
  {
    std::lock_guard lk(mu_);
    if (volumes_.size() >= max_volumes)
      return error{errc::no_memory, fmt::format("lvol store {} holds {} volumes already", name_, max_volumes)};
    if (v.op_running) return error{errc::busy, fmt::format("an operation runs on {}", v.name), EBUSY};
  }
  freeze(v);
  volume* s = nullptr;
  auto r = change([&](uint64_t) {
    volume_record rec;
    rec.id = next_volume_id_++;
    rec.vid = uuid::random_v4();
    rec.name = name;
    rec.thin = v.thin.load();
    rec.snapshot = rec.read_only = true;
    rec.size_clusters = v.size_clusters.load();
    s = add_volume_locked(rec);
    cluster_map* vm = v.map.load();
    cluster_map* sm = s->map.load();
    // Readers of v see its own entry, then (once cleared) the snapshot's: never a hole.
    for (uint64_t lc = 0; lc < rec.size_clusters; ++lc) sm->entries[lc].store(vm->entries[lc].load());
    s->parent.store(v.parent.load());
    v.parent.store(s);
    for (uint64_t lc = 0; lc < rec.size_clusters; ++lc) vm->entries[lc].store(unallocated);
    v.thin.store(true);
    return success();
  });
  v.thaw();
  if (!r) return r.take_err();
  return s;
}

result<volume*> lvol_store::clone(volume& s, const std::string& name) {
  if (!s.snapshot) return error{errc::invalid_argument, fmt::format("{} is not a snapshot", s.name)};
  if (auto n = check_name(name, nullptr); !n) return n.take_err();
  volume* c = nullptr;
  auto r = change([&](uint64_t) -> result<void> {
    if (volumes_.size() >= max_volumes)
      return error{errc::no_memory, fmt::format("lvol store {} holds {} volumes already", name_, max_volumes)};
    volume_record rec;
    rec.id = next_volume_id_++;
    rec.vid = uuid::random_v4();
    rec.name = name;
    rec.thin = true;
    rec.size_clusters = s.size_clusters.load();
    c = add_volume_locked(rec);
    c->parent.store(&s);
    return success();
  });
  if (!r) return r.take_err();
  return c;
}

result<void> lvol_store::rename_volume(volume& v, const std::string& name) {
  if (auto n = check_name(name, &v); !n) return n;
  return change([&](uint64_t) {
    v.name = name;
    return success();
  });
}

result<void> lvol_store::set_read_only(volume& v) {
  return change([&](uint64_t) {
    v.read_only.store(true);
    return success();
  });
}

result<void> lvol_store::rename(const std::string& name) {
  if (auto n = valid_name(name, "lvol store"); !n) return n;
  return change([&](uint64_t) {
    name_ = name;
    return success();
  });
}

result<uint64_t> lvol_store::grow() {
  uint64_t now = base_->num_blocks() * base_->block_size() / sb_.cluster_size;
  if (now > sb_.max_clusters) {
    NVMFD_LOG_WARN("lvol store {}: its metadata has room for {} clusters; the bdev has {}", name(), sb_.max_clusters,
                   now);
    now = sb_.max_clusters;
  }
  uint64_t total = 0;
  auto r = change([&](uint64_t) {
    if (now > total_clusters_) {
      allocator_.grow(now);
      total_clusters_ = now;
    }
    total = total_clusters_;
    return success();
  });
  if (!r) return r.take_err();
  return total - sb_.first_data_cluster;
}

result<void> lvol_store::destroy() {
  {
    std::lock_guard lk(mu_);
    if (!volumes_.empty())
      return error{errc::busy, fmt::format("lvol store {} still has {} volumes", name_, volumes_.size()), EBUSY};
  }
  uint32_t bs = base_->block_size();
  aligned_buffer zero(std::max<std::size_t>(superblock_size, bs));
  if (auto r = sync_bdev_io(pool_, *base_, bdev_op::write, 0, zero.size() / bs, zero.data()); !r) return r;
  return sync_bdev_io(pool_, *base_, bdev_op::flush, 0, 0, nullptr);
}

}  // namespace nvmfd::lvol
