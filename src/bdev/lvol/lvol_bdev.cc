#include "bdev/lvol/lvol_bdev.h"

#include <cerrno>
#include <cstring>

#include "base/buffer_pool.h"
#include "bdev/bdev_validate.h"

namespace nvmfd::lvol {

namespace {

// The parent I/O's state, in its backend_ctx (it stays on its owner reactor).
struct parent_ctx {
  uint32_t pending;
  int status;
  bool counted;  // a write kind counted in the volume's inflight_writes
};

bool is_write_kind(bdev_op op) { return op == bdev_op::write || op == bdev_op::write_zeroes || op == bdev_op::unmap; }

// One piece of a parent I/O on the base bdev. Pooled per reactor thread.
struct piece final : bdev_io_callback, cluster_waiter, commit_waiter {
  bdev_io io;
  bdev_io* parent = nullptr;
  lvol_bdev* self = nullptr;
  uint64_t offset_in_cluster = 0;  // blocks
  bool need_commit = false;
  bool releasing = false;  // gives its cluster back (release_cluster) instead of doing I/O
  piece* next_free = nullptr;
  // A piece whose part of the caller's buffer is not aligned as the base needs goes through
  // a buffer of the reactor's pool (allocation-free once warm); user is the caller's part.
  std::byte* user = nullptr;
  std::size_t bounce_len = 0;

  void on_bdev_io_done(bdev_io& d) override {
    if (bounce_len && d.status == 0 && d.op == bdev_op::read) std::memcpy(user, d.buf, bounce_len);
    if (d.status == 0) return done_then_commit();
    finish(d.status);
  }
  void on_cluster_ready(int st, uint32_t physical) override {
    if (st != 0) return finish(st);
    if (releasing) return done_then_commit();
    io.offset_blocks = uint64_t{physical} * self->store().blocks_per_cluster() + offset_in_cluster;
    self->store().base()->submit(io);
  }
  // Its own work is done: with need_commit, waits until the metadata is durable first.
  void done_then_commit() {
    if (!need_commit) return finish(0);
    need_commit = false;
    need_generation = self->store().dirty_generation();
    self->store().wait_durable(*this);
  }
  void on_committed(int st) override { finish(st == 0 ? 0 : -EIO); }
  void finish(int st);
};

thread_local piece* free_pieces = nullptr;

piece* take_piece() {
  if (piece* p = free_pieces) {
    free_pieces = p->next_free;
    return p;
  }
  return new piece;  // grows to the reactor's peak concurrency, then reused
}

void piece::finish(int st) {
  if (bounce_len) {  // on the owner reactor, whose pool it came from
    buffer_pool::local().give(io.buf, bounce_len);
    bounce_len = 0;
  }
  bdev_io* p = parent;
  lvol_bdev* s = self;
  next_free = free_pieces;
  free_pieces = this;
  s->piece_done(*p, st, false);
}

// A piece of parent, counted in its pending pieces, whose base I/O (if any) completes on
// the parent's reactor.
piece* new_piece(lvol_bdev& self, bdev_io& parent, bdev_op op, bool need_commit) {
  piece* p = take_piece();
  p->parent = &parent;
  p->self = &self;
  p->need_commit = need_commit;
  p->releasing = false;
  p->bounce_len = 0;
  p->io.op = op;
  p->io.fua = parent.fua;
  p->io.offset_blocks = p->io.num_blocks = 0;
  p->io.buf = nullptr;
  p->io.owner = parent.owner;
  p->io.done = p;
  p->cluster_waiter::waiter_owner = parent.owner;
  p->commit_waiter::waiter_owner = parent.owner;
  ++parent.backend_ctx_as<parent_ctx>().pending;
  return p;
}

}  // namespace

lvol_bdev::lvol_bdev(lvol_store& s, volume& v)
    : bdev(v.vid.to_string(), s.base()->block_size(), v.size_clusters.load() * s.blocks_per_cluster(), v.vid),
      store_(s), vol_(v) {}

std::shared_ptr<lvol_bdev> make_lvol_bdev(lvol_store& s, volume& v) { return std::make_shared<lvol_bdev>(s, v); }

std::vector<std::string> lvol_bdev::aliases() const { return {store_.alias_of(vol_)}; }

void lvol_bdev::piece_done(bdev_io& parent, int st, bool inside_submit) {
  auto& ctx = parent.backend_ctx_as<parent_ctx>();
  if (st != 0 && ctx.status == 0) ctx.status = st;
  if (--ctx.pending != 0) return;
  if (ctx.counted) vol_.write_done();
  if (inside_submit) return parent.complete_later(ctx.status);
  // From a piece's completion (already deferred, on the owner reactor): no second hop.
  parent.status = ctx.status;
  parent.complete_now();
}

void lvol_bdev::do_submit(bdev_io& io) {
  if (int st = validate_io(*this, io); st != 0) return io.complete_later(st);
  bool counted = is_write_kind(io.op);
  if (counted && !vol_.start_write(io)) return;  // frozen (a snapshot is being taken): parked until the thaw
  auto& ctx = io.emplace_backend_ctx<parent_ctx>();
  ctx.pending = 1;  // held until every piece has started
  ctx.status = 0;
  ctx.counted = counted;
  if (io.op == bdev_op::flush) {
    start_flush(io);
  } else {
    uint64_t bpc = store_.blocks_per_cluster();
    uint64_t at = io.offset_blocks, left = io.num_blocks;
    std::byte* buf = io.buf;
    while (left > 0) {
      uint64_t off = at % bpc;
      uint64_t n = std::min(left, bpc - off);
      start_piece(io, at / bpc, off, n, buf);
      at += n;
      left -= n;
      if (buf) buf += n * block_size();
    }
  }
  piece_done(io, 0, true);
}

void lvol_bdev::start_flush(bdev_io& parent) {
  piece* p = new_piece(*this, parent, bdev_op::flush, true);
  store_.base()->submit(p->io);
}

void lvol_bdev::wait_commit(bdev_io& parent) {
  piece* p = new_piece(*this, parent, parent.op, false);
  p->need_generation = store_.dirty_generation();
  store_.wait_durable(*p);
}

void lvol_bdev::start_piece(bdev_io& parent, uint64_t lc, uint64_t off, uint64_t n, std::byte* buf) {
  uint64_t bpc = store_.blocks_per_cluster();
  bool whole = off == 0 && n == bpc;
  uint32_t phys;
  switch (parent.op) {
    case bdev_op::read:
      phys = store_.resolve_read(vol_, lc);
      if (phys == unallocated) {
        std::memset(buf, 0, n * block_size());
        return;
      }
      break;
    case bdev_op::write_zeroes:
    case bdev_op::unmap:
      if (vol_.thin.load() && whole && !vol_.parent.load()) {
        piece* p = new_piece(*this, parent, parent.op, parent.fua);  // fua: the release must be durable too
        p->releasing = true;
        store_.release_cluster(vol_, lc, *p);
        return;
      }
      phys = vol_.entry(lc);
      if (phys == unallocated && !vol_.parent.load()) {  // reads as zeroes already
        if (parent.fua) wait_commit(parent);  // (a release of it may be pending)
        return;
      }
      break;
    default:
      phys = vol_.entry(lc);
      break;
  }
  // FUA: the data, and the mapping of its cluster (it may be newly allocated and not yet
  // committed, by this write or an earlier one), must be durable before it completes.
  piece* p = new_piece(*this, parent, parent.op, parent.fua);
  p->offset_in_cluster = off;
  p->io.num_blocks = n;
  p->io.buf = buf;
  uint32_t align = store_.base()->buf_align();
  if (buf && align > 1 && reinterpret_cast<uintptr_t>(buf) % align != 0) {
    std::size_t len = n * block_size();
    std::byte* b = len <= buffer_pool::max_size ? buffer_pool::local().take(len) : nullptr;
    if (b) {
      if (parent.op == bdev_op::write) std::memcpy(b, buf, len);
      p->user = buf;
      p->bounce_len = len;
      p->io.buf = b;
    }  // else the base answers -EINVAL, as for any misaligned buffer
  }
  if (phys == unallocated && parent.op != bdev_op::read) {
    phys = store_.cluster_for_write(vol_, lc, *p);
    if (phys == unallocated) return;  // resumed by on_cluster_ready
  }
  p->io.offset_blocks = uint64_t{phys} * bpc + off;
  store_.base()->submit(p->io);
}

}  // namespace nvmfd::lvol
