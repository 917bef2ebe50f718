#include "bdev/lvol/lvol_store.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fmt/format.h>
#include <thread>

#include "base/log.h"
#include "bdev/bdev_sync_io.h"
#include "bdev/lvol/lvol_bdev.h"
#include "reactor/reactor_assert.h"

namespace nvmfd::lvol {

namespace {

constexpr uint64_t min_cluster_size = 4096;
constexpr uint64_t max_cluster_size = 64ull << 20;  // a copy-on-write copies one cluster through memory
constexpr uint64_t zero_chunk_bytes = 1ull << 30;

bool power_of_two(uint64_t v) { return v && !(v & (v - 1)); }

// Clusters for size_bytes (rounded up), or an error for 0 or more than a map can hold.
result<uint64_t> clusters_for(uint64_t size_bytes, uint64_t cluster_size) {
  uint64_t n = size_bytes / cluster_size + (size_bytes % cluster_size != 0);
  if (n == 0) return error{errc::invalid_argument, "size must not be 0"};
  if (n >= unallocated)
    return error{errc::invalid_argument, fmt::format("size of {} clusters is too large", n)};
  return n;
}

result<void> valid_name(const std::string& name, const char* what) {
  if (name.empty() || name.size() > max_name_len)
    return error{errc::invalid_argument, fmt::format("{} name must have 1 to {} characters", what, max_name_len)};
  if (name.find('/') != std::string::npos)
    return error{errc::invalid_argument, fmt::format("{} name '{}' must not contain '/'", what, name)};
  return success();
}

// A status handed from a reactor to a waiting control thread.
struct status_latch {
  void set(int st) {
    std::lock_guard lk(mu);
    status = st;
    done = true;
    cv.notify_all();
  }
  int wait() {
    assert_off_reactor("lvol_store: a wait for a reactor");
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return done; });
    return status;
  }
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int status = 0;
};

// Wakes a waiter on its own reactor (never inline), or at once on the control path.
void wake_commit(commit_waiter* w, int st) {
  if (w->waiter_owner) w->waiter_owner->post([w, st] { w->on_committed(st); });
  else w->on_committed(st);
}

}  // namespace

cluster_map::cluster_map(uint64_t n) : capacity(n), entries(new std::atomic<uint32_t>[n ? n : 1]) {
  for (uint64_t i = 0; i < n; ++i) entries[i].store(unallocated, std::memory_order_relaxed);
}

// One cluster being filled for a write: zeroes, or the ancestor's contents. Its I/Os run on
// the reactor of the write that started it.
struct lvol_store::allocation final : bdev_io_callback {
  lvol_store* store;
  volume* vol;
  uint64_t lc;
  uint32_t physical;
  uint32_t source;  // ancestor's physical cluster to copy, or unallocated
  cluster_waiter* waiters = nullptr;
  std::unique_ptr<aligned_buffer> copy;
  bdev_io io;
  bool writing = false;

  void start(reactor& r) {
    uint64_t bpc = store->blocks_per_cluster();
    io.owner = &r;
    io.done = this;
    io.num_blocks = bpc;
    if (source == unallocated && store->base_->supports(bdev_op::write_zeroes)) {
      io.op = bdev_op::write_zeroes;
      io.offset_blocks = uint64_t{physical} * bpc;
      writing = true;
    } else {
      copy = std::make_unique<aligned_buffer>(store->cluster_size());  // zeroed
      io.buf = copy->data();
      if (source == unallocated) {
        io.op = bdev_op::write;
        io.offset_blocks = uint64_t{physical} * bpc;
        writing = true;
      } else {
        io.op = bdev_op::read;
        io.offset_blocks = uint64_t{source} * bpc;
      }
    }
    store->base_->submit(io);
  }
  void on_bdev_io_done(bdev_io& done) override {
    if (done.status != 0 || writing) return store->finish_allocation(this, done.status);
    writing = true;
    io.op = bdev_op::write;
    io.offset_blocks = uint64_t{physical} * store->blocks_per_cluster();
    store->base_->submit(io);
  }
};

// One metadata commit: flush base, write the slot, flush base. Runs on one reactor.
struct lvol_store::commit_job final : bdev_io_callback {
  lvol_store* store;
  uint64_t generation;     // dirty generation it covers
  uint64_t md_generation;  // the slot's generation
  std::unique_ptr<aligned_buffer> image;
  bdev_io io;
  int step = 0;

  void next(reactor& r) {
    io.owner = &r;
    io.done = this;
    uint32_t bs = store->base_->block_size();
    if (step == 1) {
      io.op = bdev_op::write;
      io.offset_blocks = store->sb_.slot_offset[md_generation % 2] / bs;
      io.num_blocks = image->size() / bs;
      io.buf = image->data();
    } else {
      io.op = bdev_op::flush;
      io.offset_blocks = io.num_blocks = 0;
      io.buf = nullptr;
    }
    store->base_->submit(io);
  }
  void on_bdev_io_done(bdev_io& done) override {
    if (done.status != 0 || step == 2) return store->finish_commit(this, done.status);
    ++step;
    next(*done.owner);
  }
};

lvol_store::lvol_store(reactor_pool& pool, std::shared_ptr<bdev> base, superblock sb, metadata md)
    : pool_(pool), base_(std::move(base)), sb_(sb), name_(md.name), total_clusters_(md.total_clusters),
      next_volume_id_(md.next_volume_id), md_generation_(md.generation) {
  in_use_.assign(total_clusters_, false);
  for (uint64_t c = 0; c < std::min<uint64_t>(sb_.first_data_cluster, total_clusters_); ++c) in_use_[c] = true;
  next_free_hint_ = sb_.first_data_cluster;
}

lvol_store::~lvol_store() {
  bool dirty;
  {
    std::lock_guard lk(mu_);
    dirty = dirty_gen_.load() > durable_gen_ || commit_running_;
  }
  // A clean shutdown leaves nothing to redo: what writes allocated is committed.
  if (dirty)
    if (auto r = commit_sync(); !r) NVMFD_LOG_ERROR("{}", r.err().message);
  base_->release();
}

result<std::unique_ptr<lvol_store>> lvol_store::create(reactor_pool& pool, std::shared_ptr<bdev> base,
                                                       std::string name, uint64_t cluster_size) {
  if (auto n = valid_name(name, "lvol store"); !n) return n.take_err();
  if (base->claimed())
    return error{errc::busy, fmt::format("bdev {} is in use by {}", base->name(), base->claimed_by()), EBUSY};
  if (base->read_only()) return error{errc::invalid_argument, fmt::format("bdev {} is read-only", base->name())};
  uint32_t bs = base->block_size();
  if (bs > superblock_size)
    return error{errc::invalid_argument,
                 fmt::format("bdev {} has {}-byte blocks: lvol stores take block sizes up to {}", base->name(), bs,
                             superblock_size)};
  if (!power_of_two(cluster_size) || cluster_size < min_cluster_size || cluster_size < bs ||
      cluster_size > max_cluster_size)
    return error{errc::invalid_argument,
                 fmt::format("cluster_sz {} must be a power of two from {} (and the block size {}) to {}", cluster_size,
                             min_cluster_size, bs, max_cluster_size)};
  uint64_t base_bytes = base->num_blocks() * bs;
  if (base_bytes / cluster_size >= max_store_clusters)
    return error{errc::invalid_argument,
                 fmt::format("bdev {} has more than {} clusters of {} bytes: use a larger cluster_sz", base->name(),
                             max_store_clusters, cluster_size)};
  superblock sb = plan_layout(uuid::random_v4(), bs, cluster_size, base_bytes);
  metadata md;
  md.name = name;
  md.total_clusters = base_bytes / cluster_size;
  md.generation = 1;
  if (md.total_clusters <= sb.first_data_cluster)
    return error{errc::invalid_argument,
                 fmt::format("bdev {} ({} bytes) is too small for an lvol store with {}-byte clusters (metadata takes {})",
                             base->name(), base_bytes, cluster_size, sb.first_data_cluster * cluster_size)};
  auto slot = encode_metadata(sb, md);
  if (!slot) return slot.take_err();
  // Superblock away first, so that a crash half-way leaves no store rather than a store
  // with stale slots; then both slots (the other one zeroed); then the superblock.
  aligned_buffer sb_block(std::max<std::size_t>(superblock_size, bs));
  uint64_t sb_blocks = sb_block.size() / bs;
  if (auto r = sync_bdev_io(pool, *base, bdev_op::write, 0, sb_blocks, sb_block.data()); !r) return r.take_err();
  // Only what is used: the image (generation g lives in slot g % 2), and slot 0's first
  // block zeroed (no magic: not a slot).
  aligned_buffer s0(superblock_size), s1(slot->size());
  std::copy(slot->begin(), slot->end(), s1.data());
  if (auto r = sync_bdev_io(pool, *base, bdev_op::write, sb.slot_offset[0] / bs, s0.size() / bs, s0.data()); !r)
    return r.take_err();
  if (auto r = sync_bdev_io(pool, *base, bdev_op::write, sb.slot_offset[1] / bs, s1.size() / bs, s1.data()); !r)
    return r.take_err();
  if (auto r = sync_bdev_io(pool, *base, bdev_op::flush, 0, 0, nullptr); !r) return r.take_err();
  auto enc = encode_superblock(sb);
  std::copy(enc.begin(), enc.end(), sb_block.data());
  if (auto r = sync_bdev_io(pool, *base, bdev_op::write, 0, sb_blocks, sb_block.data()); !r) return r.take_err();
  if (auto r = sync_bdev_io(pool, *base, bdev_op::flush, 0, 0, nullptr); !r) return r.take_err();
  std::unique_ptr<lvol_store> s(new lvol_store(pool, base, sb, md));
  s->free_count_ = s->total_clusters_ - sb.first_data_cluster;
  base->claim("lvol store " + name);
  return s;
}

result<std::unique_ptr<lvol_store>> lvol_store::load(reactor_pool& pool, std::shared_ptr<bdev> base) {
  uint32_t bs = base->block_size();
  aligned_buffer sb_block(std::max<std::size_t>(superblock_size, bs));
  if (base->num_blocks() * bs < sb_block.size()) return error{errc::not_found, "no lvol store"};
  if (auto r = sync_bdev_io(pool, *base, bdev_op::read, 0, sb_block.size() / bs, sb_block.data()); !r)
    return r.take_err();
  auto sb = decode_superblock({sb_block.data(), sb_block.size()});
  if (!sb) return sb.take_err();
  auto fail = [&](std::string why) -> error {
    return error{errc::invalid_argument, fmt::format("lvol store on {}: {}", base->name(), why)};
  };
  if (sb->block_size != bs)
    return fail(fmt::format("made for {}-byte blocks, the bdev has {}", sb->block_size, bs));
  if (base->num_blocks() * bs < sb->slot_offset[1] + sb->slot_size) return fail("the bdev is shorter than its metadata");
  std::optional<metadata> best;
  std::string why;
  for (int i = 0; i < 2; ++i) {
    // The first block tells the payload length (checked by its own CRC); then only the used
    // part of the slot is read.
    aligned_buffer head(superblock_size);
    if (auto r = sync_bdev_io(pool, *base, bdev_op::read, sb->slot_offset[i] / bs, head.size() / bs, head.data()); !r)
      return r.take_err();
    uint64_t used = used_slot_bytes(*sb, {head.data(), head.size()});
    aligned_buffer slot(used);
    if (auto r = sync_bdev_io(pool, *base, bdev_op::read, sb->slot_offset[i] / bs, slot.size() / bs, slot.data()); !r)
      return r.take_err();
    auto md = decode_metadata(*sb, {slot.data(), slot.size()});
    if (!md) {
      why += fmt::format("{}slot {}: {}", why.empty() ? "" : "; ", i, md.err().message);
      continue;
    }
    if (!best || md->generation > best->generation) best = std::move(md.value());
  }
  if (!best) return fail(why);
  if (!why.empty()) NVMFD_LOG_WARN("lvol store {} on {}: using generation {} ({})", best->name, base->name(),
                                   best->generation, why);
  if (base->num_blocks() * bs < best->total_clusters * sb->cluster_size)
    return fail(fmt::format("the bdev is shorter than the store's {} clusters", best->total_clusters));
  if (base->claimed())
    return error{errc::busy, fmt::format("bdev {} is in use by {}", base->name(), base->claimed_by()), EBUSY};
  std::unique_ptr<lvol_store> s(new lvol_store(pool, base, *sb, *best));
  if (auto r = s->build_volumes(*best); !r) return fail(r.err().message);
  base->claim("lvol store " + best->name);
  return s;
}

result<void> lvol_store::build_volumes(const metadata& md) {
  std::lock_guard lk(mu_);
  std::map<uint32_t, volume*> by_id;
  for (auto& r : md.volumes) by_id[r.id] = add_volume_locked(r);
  for (auto& r : md.volumes) {
    if (!r.parent_id) continue;
    volume* parent = by_id.at(r.parent_id);
    if (!parent->snapshot) return error{errc::invalid_argument, fmt::format("volume {}'s parent is no snapshot", r.name)};
    by_id.at(r.id)->parent.store(parent);
  }
  uint64_t used = 0;
  for (bool b : in_use_) used += b;
  free_count_ = total_clusters_ - used;
  return success();
}

volume* lvol_store::add_volume_locked(const volume_record& r) {
  auto v = std::make_unique<volume>();
  v->id = r.id;
  v->vid = r.vid;
  v->name = r.name;
  v->thin.store(r.thin);
  v->snapshot = r.snapshot;
  v->read_only.store(r.read_only);
  v->size_clusters.store(r.size_clusters);
  v->maps.push_back(std::make_unique<cluster_map>(r.size_clusters));
  v->map.store(v->maps.back().get());
  for (auto& [l, p] : r.allocated) {
    v->maps.back()->entries[l].store(p);
    in_use_[p] = true;
  }
  v->bdev = make_lvol_bdev(*this, *v);
  volumes_.push_back(std::move(v));
  return volumes_.back().get();
}

store_info lvol_store::info() const {
  std::lock_guard lk(mu_);
  store_info i;
  i.id = sb_.id;
  i.name = name_;
  i.base_bdev = base_->name();
  i.cluster_size = sb_.cluster_size;
  i.total_data_clusters = total_clusters_ - sb_.first_data_cluster;
  i.free_clusters = free_count_;
  i.block_size = base_->block_size();
  return i;
}

std::vector<volume*> lvol_store::volumes() const {
  std::lock_guard lk(mu_);
  std::vector<volume*> out;
  for (auto& v : volumes_) out.push_back(v.get());
  return out;
}

volume* lvol_store::find_volume(const std::string& name) const {
  std::lock_guard lk(mu_);
  for (auto& v : volumes_)
    if (v->name == name) return v.get();
  return nullptr;
}

std::string lvol_store::volume_name(const volume& v) const {
  std::lock_guard lk(mu_);
  return v.name;
}

std::string lvol_store::name() const {
  std::lock_guard lk(mu_);
  return name_;
}

std::string lvol_store::alias_of(const volume& v) const {
  std::lock_guard lk(mu_);
  return name_ + "/" + v.name;
}

uint64_t lvol_store::allocated_clusters(const volume& v) const {
  uint64_t n = 0, size = v.size_clusters.load();
  for (uint64_t lc = 0; lc < size; ++lc) n += v.entry(lc) != unallocated;
  return n;
}

metadata lvol_store::snapshot_locked() const {
  metadata md;
  md.generation = md_generation_ + 1;
  md.name = name_;
  md.total_clusters = total_clusters_;
  md.next_volume_id = next_volume_id_;
  for (auto& v : volumes_) {
    volume_record r;
    r.id = v->id;
    volume* parent = v->parent.load();
    r.parent_id = parent ? parent->id : 0;
    r.vid = v->vid;
    r.name = v->name;
    r.thin = v->thin.load();
    r.read_only = v->read_only.load();
    r.snapshot = v->snapshot;
    r.size_clusters = v->size_clusters.load();
    for (uint64_t lc = 0; lc < r.size_clusters; ++lc)
      if (uint32_t p = v->entry(lc); p != unallocated) r.allocated.emplace_back(static_cast<uint32_t>(lc), p);
    md.volumes.push_back(std::move(r));
  }
  return md;
}

// ---------------------------------------------------------------- commits

void lvol_store::start_commit_locked(reactor& r) {
  auto md = snapshot_locked();
  auto image = encode_metadata(sb_, md);
  auto* job = new commit_job;
  job->store = this;
  job->generation = dirty_gen_.load();
  job->md_generation = md.generation;
  commit_running_ = true;
  if (!image) {
    NVMFD_LOG_ERROR("lvol store {}: {}", name_, image.err().message);
    r.post([this, job] { finish_commit(job, -ENOSPC); });
    return;
  }
  job->image = std::make_unique<aligned_buffer>(image->size());
  std::copy(image->begin(), image->end(), job->image->data());
  r.post([job, &r] { job->next(r); });
}

void lvol_store::finish_commit(commit_job* job, int status) {
  std::vector<commit_waiter*> wake;
  {
    std::lock_guard lk(mu_);
    commit_running_ = false;
    if (status == 0) {
      durable_gen_ = std::max(durable_gen_, job->generation);
      md_generation_ = job->md_generation;
      std::erase_if(pending_free_, [&](const std::pair<uint64_t, uint32_t>& f) {
        if (f.first > durable_gen_) return false;
        in_use_[f.second] = false;
        ++free_count_;
        return true;
      });
    } else {
      NVMFD_LOG_ERROR("lvol store {}: metadata commit failed: {}", name_, std::strerror(-status));
    }
    std::erase_if(commit_waiters_, [&](commit_waiter* w) {
      if (status == 0 && w->need_generation > durable_gen_) return false;
      wake.push_back(w);
      return true;
    });
    if (!commit_waiters_.empty()) start_commit_locked(*reactor::current());
  }
  delete job;
  for (auto* w : wake) wake_commit(w, status);
}

void lvol_store::wait_durable(commit_waiter& w) {
  std::lock_guard lk(mu_);
  if (w.need_generation <= durable_gen_) {
    if (w.waiter_owner) w.waiter_owner->post([&w] { w.on_committed(0); });
    else w.on_committed(0);
    return;
  }
  commit_waiters_.push_back(&w);
  if (!commit_running_) {
    reactor* r = reactor::current();
    start_commit_locked(r ? *r : pool_.at(0));
  }
}

result<void> lvol_store::commit_sync() {
  struct waiter final : commit_waiter {
    void on_committed(int st) override { latch.set(st); }
    status_latch latch;
  } w;
  {
    std::lock_guard lk(mu_);
    dirty_gen_.fetch_add(1);  // a control change: always written
    w.need_generation = dirty_gen_.load();
  }
  wait_durable(w);
  if (int st = w.latch.wait(); st != 0)
    return error{errc::io_error, fmt::format("lvol store {}: metadata commit failed: {}", name_, std::strerror(-st)), -st};
  return success();
}

// ---------------------------------------------------------------- data path

uint32_t lvol_store::resolve_read(const volume& v, uint64_t lc) const {
  for (const volume* x = &v; x; x = x->parent.load(std::memory_order_acquire))
    if (uint32_t p = x->entry(lc); p != unallocated) return p;
  return unallocated;
}

uint32_t lvol_store::take_free_cluster_locked() {
  if (free_count_ == 0) return unallocated;
  for (uint64_t n = 0; n < total_clusters_; ++n) {
    uint64_t c = next_free_hint_ + n;
    if (c >= total_clusters_) c = sb_.first_data_cluster + (c - total_clusters_) % (total_clusters_ - sb_.first_data_cluster);
    if (!in_use_[c]) {
      in_use_[c] = true;
      --free_count_;
      next_free_hint_ = c + 1;
      return static_cast<uint32_t>(c);
    }
  }
  return unallocated;
}

uint32_t lvol_store::cluster_for_write(volume& v, uint64_t lc, cluster_waiter& w) {
  if (uint32_t p = v.entry(lc); p != unallocated) return p;
  allocation* a = nullptr;
  {
    std::lock_guard lk(mu_);
    if (uint32_t p = v.entry(lc); p != unallocated) return p;
    auto key = std::make_pair(v.id, lc);
    w.next_waiter = nullptr;
    if (auto it = filling_.find(key); it != filling_.end()) {
      w.next_waiter = it->second->waiters;
      it->second->waiters = &w;
      return unallocated;
    }
    uint32_t c = take_free_cluster_locked();
    if (c == unallocated) {
      w.waiter_owner->post([&w] { w.on_cluster_ready(-ENOSPC, unallocated); });
      return unallocated;
    }
    a = new allocation;
    a->store = this;
    a->vol = &v;
    a->lc = lc;
    a->physical = c;
    volume* parent = v.parent.load();
    a->source = parent ? resolve_read(*parent, lc) : unallocated;
    a->waiters = &w;
    filling_.emplace(key, a);
  }
  a->start(*reactor::current());
  return unallocated;
}

void lvol_store::finish_allocation(allocation* a, int status) {
  cluster_waiter* waiters;
  {
    std::lock_guard lk(mu_);
    if (status == 0 && a->lc >= a->vol->size_clusters.load()) status = -EINVAL;  // shrunk meanwhile
    if (status == 0) {
      a->vol->map.load()->entries[a->lc].store(a->physical, std::memory_order_release);
      dirty_gen_.fetch_add(1);
    } else {
      in_use_[a->physical] = false;
      ++free_count_;
    }
    filling_.erase(std::make_pair(a->vol->id, a->lc));
    waiters = a->waiters;
  }
  uint32_t c = status == 0 ? a->physical : unallocated;
  delete a;
  while (waiters) {
    cluster_waiter* w = waiters;
    waiters = w->next_waiter;
    w->waiter_owner->post([w, status, c] { w->on_cluster_ready(status, c); });
  }
}

void lvol_store::release_cluster(volume& v, uint64_t lc) {
  std::lock_guard lk(mu_);
  cluster_map* m = v.map.load();
  if (lc >= m->capacity) return;
  uint32_t p = m->entries[lc].exchange(unallocated, std::memory_order_acq_rel);
  if (p == unallocated) return;
  uint64_t g = dirty_gen_.fetch_add(1) + 1;
  pending_free_.emplace_back(g, p);
}

// ---------------------------------------------------------------- control operations

result<void> lvol_store::check_name(const std::string& name, const volume* except) const {
  if (auto n = valid_name(name, "lvol"); !n) return n;
  std::lock_guard lk(mu_);
  for (auto& v : volumes_)
    if (v.get() != except && v->name == name)
      return error{errc::already_exists, fmt::format("lvol {}/{} already exists", name_, name), EEXIST};
  return success();
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
  std::vector<uint32_t> taken;
  {
    std::lock_guard lk(mu_);
    if (count > free_count_)
      return error{errc::no_memory,
                   fmt::format("lvol store {} has {} free clusters, {} needed", name_, free_count_, count), ENOSPC};
    for (uint64_t i = 0; i < count; ++i) taken.push_back(take_free_cluster_locked());
  }
  // Zeroed before any map shows them (they may hold a deleted volume's data, and a commit
  // by another volume's flush may run meanwhile).
  std::vector<uint32_t> sorted = taken;
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[j - 1] + 1) ++j;
    if (auto r = zero_clusters(sorted[i], j - i); !r) {
      std::lock_guard lk(mu_);
      for (uint32_t c : taken) in_use_[c] = false;
      free_count_ += taken.size();
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
  volume* v;
  {
    std::lock_guard lk(mu_);
    volume_record r;
    r.id = next_volume_id_++;
    r.vid = id && !id->is_zero() ? *id : uuid::random_v4();
    r.name = name;
    r.thin = thin;
    r.size_clusters = *clusters;
    v = add_volume_locked(r);
    for (uint64_t lc = 0; lc < taken.size(); ++lc) v->map.load()->entries[lc].store(taken[lc]);
  }
  if (auto r = commit_sync(); !r) return r.take_err();
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
  {
    std::lock_guard lk(mu_);
    uint64_t g = dirty_gen_.fetch_add(1) + 1;
    for (uint64_t lc = 0; lc < v.size_clusters.load(); ++lc) {
      uint32_t p = v.entry(lc);
      if (p == unallocated) continue;
      cluster_map* cm = only_clone ? only_clone->map.load() : nullptr;
      if (cm && lc < only_clone->size_clusters.load() && cm->entries[lc].load() == unallocated)
        cm->entries[lc].store(p);
      else
        pending_free_.emplace_back(g, p);
    }
    if (only_clone) only_clone->parent.store(v.parent.load());
    auto it = std::find_if(volumes_.begin(), volumes_.end(), [&](auto& o) { return o.get() == &v; });
    // The volume's memory stays until the store goes: a bdev reference may outlive it.
    retired_.push_back(std::move(*it));
    volumes_.erase(it);
  }
  auto r = commit_sync();
  if (only_clone) thaw(*only_clone);
  return r;
}

result<void> lvol_store::resize_volume(volume& v, uint64_t size_bytes) {
  if (v.snapshot) return error{errc::invalid_argument, fmt::format("{} is a snapshot: it cannot be resized", v.name)};
  auto clusters = clusters_for(size_bytes, sb_.cluster_size);
  if (!clusters) return clusters.take_err();
  uint64_t old = v.size_clusters.load();
  if (*clusters > old) {
    std::vector<uint32_t> taken;
    if (!v.thin.load()) {
      auto t = take_zeroed_clusters(*clusters - old);
      if (!t) return t.take_err();
      taken = std::move(t.value());
    }
    std::lock_guard lk(mu_);
    publish_map_locked(v, *clusters);
    for (uint64_t i = 0; i < taken.size(); ++i) v.map.load()->entries[old + i].store(taken[i]);
    v.size_clusters.store(*clusters);
  } else if (*clusters < old) {
    // The new end first (new I/O past it fails), then drain the writes still in flight, so
    // none lands in (or allocates) a cluster being given back.
    v.size_clusters.store(*clusters);
    v.bdev->set_size_blocks(*clusters * blocks_per_cluster());
    freeze(v);
    {
      std::lock_guard lk(mu_);
      uint64_t g = dirty_gen_.fetch_add(1) + 1;
      for (uint64_t lc = *clusters; lc < old; ++lc)
        if (uint32_t p = v.map.load()->entries[lc].exchange(unallocated); p != unallocated)
          pending_free_.emplace_back(g, p);
    }
    thaw(v);
  }
  v.bdev->set_size_blocks(*clusters * blocks_per_cluster());
  return commit_sync();
}

void lvol_store::freeze(volume& v) {
  assert_off_reactor("lvol_store::freeze");
  v.frozen.store(true);
  while (v.inflight_writes.load() > 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
}

void lvol_store::thaw(volume& v) {
  std::vector<bdev_io*> parked;
  {
    std::lock_guard lk(v.parked_mu);
    v.frozen.store(false);
    parked.swap(v.parked);
  }
  for (bdev_io* io : parked) io->owner->post([b = v.bdev, io] { b->submit(*io); });
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
  volume* s;
  {
    std::lock_guard lk(mu_);
    volume_record r;
    r.id = next_volume_id_++;
    r.vid = uuid::random_v4();
    r.name = name;
    r.thin = v.thin.load();
    r.snapshot = r.read_only = true;
    r.size_clusters = v.size_clusters.load();
    s = add_volume_locked(r);
    cluster_map* vm = v.map.load();
    cluster_map* sm = s->map.load();
    // Readers of v see its own entry, then (once cleared) the snapshot's: never a hole.
    for (uint64_t lc = 0; lc < r.size_clusters; ++lc) sm->entries[lc].store(vm->entries[lc].load());
    s->parent.store(v.parent.load());
    v.parent.store(s);
    for (uint64_t lc = 0; lc < r.size_clusters; ++lc) vm->entries[lc].store(unallocated);
    v.thin.store(true);
  }
  auto r = commit_sync();
  thaw(v);
  if (!r) return r.take_err();
  return s;
}

result<volume*> lvol_store::clone(volume& s, const std::string& name) {
  if (!s.snapshot) return error{errc::invalid_argument, fmt::format("{} is not a snapshot", s.name)};
  if (auto n = check_name(name, nullptr); !n) return n.take_err();
  volume* c;
  {
    std::lock_guard lk(mu_);
    if (volumes_.size() >= max_volumes)
      return error{errc::no_memory, fmt::format("lvol store {} holds {} volumes already", name_, max_volumes)};
    volume_record r;
    r.id = next_volume_id_++;
    r.vid = uuid::random_v4();
    r.name = name;
    r.thin = true;
    r.size_clusters = s.size_clusters.load();
    c = add_volume_locked(r);
    c->parent.store(&s);
  }
  if (auto r = commit_sync(); !r) return r.take_err();
  return c;
}

bool lvol_store::begin_operation(volume& v, long_operation op) {
  std::lock_guard lk(mu_);
  if (v.op_running) return false;
  v.op_running = true;
  v.op = {to_string(op), 0, 0, "running"};
  return true;
}

volume::operation lvol_store::operation_of(const volume& v) const {
  std::lock_guard lk(mu_);
  return v.op;
}

result<void> lvol_store::allocate_sync(volume& v, uint64_t lc) {
  struct waiter final : cluster_waiter {
    void on_cluster_ready(int st, uint32_t) override { latch.set(st); }
    status_latch latch;
  } w;
  reactor& r = pool_.at(0);
  w.waiter_owner = &r;
  r.post([this, &v, lc, &w] {
    if (cluster_for_write(v, lc, w) != unallocated) w.on_cluster_ready(0, 0);
  });
  if (int st = w.latch.wait(); st != 0)
    return error{errc::io_error, fmt::format("copying cluster {} of {}: {}", lc, v.name, std::strerror(-st)), -st};
  return success();
}

result<void> lvol_store::copy_from_ancestors(volume& v, bool whole_chain) {
  volume* parent = v.parent.load();
  uint64_t size = v.size_clusters.load();
  std::vector<uint64_t> todo;
  for (uint64_t lc = 0; lc < size; ++lc)
    if (v.entry(lc) == unallocated && (whole_chain || (parent && parent->entry(lc) != unallocated))) todo.push_back(lc);
  {
    std::lock_guard lk(mu_);
    v.op.total = todo.size();
  }
  auto finish = [&](result<void> r) {
    std::lock_guard lk(mu_);
    v.op_running = false;
    v.op.state = r ? "done" : "failed: " + r.err().message;
    return r;
  };
  for (uint64_t lc : todo) {
    if (auto r = allocate_sync(v, lc); !r) return finish(r);
    std::lock_guard lk(mu_);
    ++v.op.done;
  }
  {
    std::lock_guard lk(mu_);
    if (whole_chain) {
      v.parent.store(nullptr);
      v.thin.store(false);
    } else {
      v.parent.store(parent ? parent->parent.load() : nullptr);
    }
  }
  return finish(commit_sync());
}

result<void> lvol_store::inflate(volume& v) { return copy_from_ancestors(v, true); }

result<void> lvol_store::decouple_parent(volume& v) { return copy_from_ancestors(v, false); }

result<void> lvol_store::rename_volume(volume& v, const std::string& name) {
  if (auto n = check_name(name, &v); !n) return n;
  {
    std::lock_guard lk(mu_);
    v.name = name;
  }
  return commit_sync();
}

result<void> lvol_store::set_read_only(volume& v) {
  v.read_only.store(true);
  return commit_sync();
}

result<void> lvol_store::rename(const std::string& name) {
  if (auto n = valid_name(name, "lvol store"); !n) return n;
  {
    std::lock_guard lk(mu_);
    name_ = name;
  }
  return commit_sync();
}

result<uint64_t> lvol_store::grow() {
  uint64_t now = base_->num_blocks() * base_->block_size() / sb_.cluster_size;
  {
    std::lock_guard lk(mu_);
    if (now > sb_.max_clusters) {
      NVMFD_LOG_WARN("lvol store {}: its metadata has room for {} clusters; the bdev has {}", name_, sb_.max_clusters,
                     now);
      now = sb_.max_clusters;
    }
    if (now > total_clusters_) {
      in_use_.resize(now, false);
      free_count_ += now - total_clusters_;
      total_clusters_ = now;
    }
  }
  if (auto r = commit_sync(); !r) return r.take_err();
  return total_clusters_ - sb_.first_data_cluster;
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
