#include "bdev/lvol/lvol_store.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "base/log.h"
#include "bdev/bdev_sync_io.h"
#include "bdev/lvol/lvol_bdev.h"
#include "reactor/blocking_call.h"
#include "reactor/reactor_assert.h"

namespace nvmfd::lvol {

namespace {

constexpr uint64_t min_cluster_size = 4096;
constexpr uint64_t max_cluster_size = 64ull << 20;  // a copy-on-write copies one cluster through memory

bool power_of_two(uint64_t v) { return v && !(v & (v - 1)); }

// A control-path waiter for a commit: on the heap, called inline on home, then gone.
struct commit_completion final : commit_waiter {
  completion<void> done;
  std::string store;
  void on_committed(int st) override {
    if (st == 0)
      done(success());
    else
      done(error{errc::io_error, fmt::format("lvol store {}: metadata commit failed: {}", store, std::strerror(-st)),
                 -st});
    delete this;
  }
};

}  // namespace

lvol_store::lvol_store(reactor_pool& pool, std::shared_ptr<bdev> base, superblock sb, metadata md)
    : pool_(pool), home_(pool.control()), base_(std::move(base)), sb_(sb), name_(md.name),
      total_clusters_(md.total_clusters), next_volume_id_(md.next_volume_id),
      committer_(home_, *base_, sb_, md.generation, [this] { return image(); },
                 [this](uint64_t g) { allocator_.on_durable(g); }),
      allocator_(home_, *base_, committer_, sb_.cluster_size, sb_.first_data_cluster, md.total_clusters) {}

lvol_store::~lvol_store() {
  // A clean shutdown leaves nothing to redo: what writes allocated is committed.
  if (!committer_.idle())
    if (auto r = change([](uint64_t) { return success(); }); !r) NVMFD_LOG_ERROR("{}", r.err().message);
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
  return success();
}

// At load (before the store is shared) and on home.
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
    allocator_.mark_used(p);
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
  i.free_clusters = allocator_.free_count();
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

metadata lvol_store::image() const {
  metadata md;
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

// ---------------------------------------------------------------- changes and commits

void lvol_store::change_on_home(std::function<result<void>(uint64_t generation)> change, completion<void> done) {
  assert_on(home_, "lvol_store::change_on_home");
  uint64_t g;
  {
    std::lock_guard lk(mu_);
    g = committer_.mark_dirty();
    if (auto r = change(g); !r) return done(r);
  }
  auto* w = new commit_completion;
  w->done = std::move(done);
  w->store = name_;
  w->need_generation = g;
  committer_.wait_durable(*w);
}

result<void> lvol_store::change(std::function<result<void>(uint64_t generation)> change) {
  assert_off_reactor("lvol_store: a control operation");
  return blocking_call<void>(home_, [this, change = std::move(change)](completion<void> done) mutable {
    change_on_home(std::move(change), std::move(done));
  }, std::nullopt, "lvol_store: a control operation");
}

void lvol_store::wait_durable(commit_waiter& w) { committer_.request_durable(w); }

// ---------------------------------------------------------------- data path

uint32_t lvol_store::cluster_for_write(volume& v, uint64_t lc, cluster_waiter& w) {
  if (uint32_t p = v.entry(lc); p != unallocated) return p;
  allocator_.request_fill(v, lc, w);
  return unallocated;
}

void lvol_store::release_cluster(volume& v, uint64_t lc, cluster_waiter& w) { allocator_.request_release(v, lc, w); }

// ---------------------------------------------------------------- long operations

bool lvol_store::begin_operation(volume& v, long_operation op) {
  std::lock_guard lk(mu_);
  if (v.op_running) return false;
  v.op_running = true;
  v.op = {to_string(op), 0, 0, "running"};
  v.op_done.store(0);
  v.op_total.store(0);
  return true;
}

volume::operation lvol_store::operation_of(const volume& v) const {
  std::lock_guard lk(mu_);
  volume::operation op = v.op;
  op.done = v.op_done.load();
  op.total = v.op_total.load();
  return op;
}

void lvol_store::end_operation(volume& v, const result<void>& r) {
  std::lock_guard lk(mu_);
  v.op_running = false;
  v.op.state = r ? "done" : "failed: " + r.err().message;
}

}  // namespace nvmfd::lvol
