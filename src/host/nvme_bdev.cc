#include "host/nvme_bdev.h"

#include <cerrno>
#include <cstring>

#include "base/tick_clock.h"
#include "host/ana_log_reader.h"
#include "host/io_command.h"
#include "reactor/blocking_call.h"
#include "reactor/post_all.h"

namespace nvmfd {

// Per-I/O state kept in bdev_io::backend_ctx.
struct nvme_bdev::io_state {
  slot_waiter waiter;         // first: on_slot_free and the parked list find the io_state from it
  bdev_io* io = nullptr;
  nvme_path* path = nullptr;  // of the chunk in flight
  path_stats* stats = nullptr;
  uint64_t done_blocks = 0;   // blocks completed by earlier chunks
  uint32_t chunk_blocks = 0;  // blocks of the chunk in flight
  nsid_t nsid;
  uint32_t max_blocks = 1;    // per command, on the chosen path
  uint32_t retries = 0;       // path errors so far
  uint64_t chunk_start = 0;  // tick_clock
  clock_type::time_point parked_since{};  // when it first found no usable path; {}: never
  dsm_range_wire range{};     // Dataset Management data of an unmap chunk
};
static_assert(sizeof(nvme_bdev::io_state) <= bdev_io::backend_ctx_size);

namespace {

// A path-related status (NVMe Base 2.0 Figure 101: ANA states, a lost or timed-out
// connection): the command may succeed through another path.
bool is_path_error(const nvme_status& s) { return !s.ok() && s.sct == status_type::path_related; }
bool is_ana_error(const nvme_status& s) { return is_path_error(s) && s.sc >= 0x01 && s.sc <= 0x03; }

// Path errors one I/O may meet before it fails anyway: a target that keeps answering with
// path statuses that its ANA log contradicts must not keep an I/O forever.
constexpr uint32_t max_path_retries = 256;
constexpr auto park_retry_period = std::chrono::milliseconds(50);

int errno_for(const nvme_status& s) {
  if (s.ok()) return 0;
  if (s.sct == status_type::generic) {
    switch (s.sc) {
      case sc_generic::lba_out_of_range:
      case sc_generic::invalid_field:
      case sc_generic::invalid_namespace_or_format: return -EINVAL;
      case sc_generic::invalid_opcode: return -EOPNOTSUPP;
      case sc_generic::namespace_is_write_protected: return -EROFS;
      case sc_generic::capacity_exceeded: return -ENOSPC;
      case sc_generic::reservation_conflict: return -EBADE;  // as Linux's block layer
      default: break;
    }
  }
  return -EIO;
}

nvme_bdev::io_state& state_of(bdev_io& io) { return io.backend_ctx_as<nvme_bdev::io_state>(); }
bdev_io& io_of(slot_waiter& w) { return *reinterpret_cast<nvme_bdev::io_state*>(&w)->io; }

}  // namespace

nvme_bdev::nvme_bdev(std::string name, const remote_namespace& ns, const identify_controller& id, unsigned reactors)
    : bdev(std::move(name), ns.block_size, ns.num_blocks, ns.id),
      ns_(ns),
      nsid_(ns.nsid),
      anagrpid_(ns.data.anagrpid.get()),
      oncs_(id.oncs.get()),
      volatile_cache_(id.vwc & vwc_bits::present),
      reactors_(reactors),
      views_(new reactor_view[reactors]),
      table_(std::make_shared<nvme_bdev_paths>()) {}

bool nvme_bdev::supports(bdev_op op) const {
  switch (op) {
    case bdev_op::write_zeroes: return oncs_ & oncs_bits::write_zeroes;
    case bdev_op::unmap: return oncs_ & oncs_bits::dataset_management;
    default: return true;
  }
}

// --- control side ---------------------------------------------------------------------

void nvme_bdev::publish(std::shared_ptr<const nvme_bdev_paths> table) {
  std::lock_guard lk(table_mu_);
  table_ = std::move(table);
  generation_.fetch_add(1, std::memory_order_release);
}

void nvme_bdev::refresh_on(reactor& r) {
  if (r.index() >= reactors_) return;
  refresh(views_[r.index()]);
  retry_parked(r);
}

void nvme_bdev::shut_down_async(reactor_pool& pool, std::function<void()> done) {
  publish(std::make_shared<nvme_bdev_paths>());
  // The caller keeps the bdev until done: each step may use this.
  post_all(
      pool,
      [this](reactor& r) {
        unsigned i = r.index();
        if (i >= reactors_) return;
        reactor_view& v = views_[i];
        if (v.park_timer) r.cancel(v.park_timer);
        v.park_timer = 0;
        refresh(v);
        retry_parked(r);  // with no path at all, each fails at once
      },
      pool.control(), std::move(done));
}

void nvme_bdev::shut_down(reactor_pool& pool) {
  (void)blocking_call<void>(
      pool.control(),
      [this, &pool](completion<void> done) {
        shut_down_async(pool, [done = std::move(done)]() mutable { done(success()); });
      },
      std::nullopt, "nvme_bdev::shut_down");
}

std::shared_ptr<const nvme_bdev_paths> nvme_bdev::paths() const {
  std::lock_guard lk(table_mu_);
  return table_;
}

path_stats* nvme_bdev::stats_for(uint64_t path_id) {
  std::lock_guard lk(table_mu_);
  auto& s = stats_[path_id];
  if (!s) s = std::make_unique<path_stats>(reactors_);
  return s.get();
}

int nvme_bdev::rank(const nvme_bdev_path& p, reactor* r) {
  if (!p.ctrl || p.ctrl->failed() || p.path->ana_pending() || !ana_usable(p.ana)) return 0;
  if (r) {
    host_queue* q = p.ctrl->io_queue(*r);
    if (!q || q->failed()) return 0;
  }
  return p.ana == ana_state::optimized ? 2 : 1;
}

bool nvme_bdev::is_current(const nvme_bdev_paths& t, size_t i) {
  int best = 0;
  for (auto& p : t.paths) best = std::max(best, rank(p, nullptr));
  if (best == 0 || rank(t.paths[i], nullptr) != best) return false;
  if (t.policy.mode == multipath_mode::active_active) return true;
  for (size_t j = 0; j < i; ++j)
    if (rank(t.paths[j], nullptr) == best) return false;
  return true;
}

// --- reactor side ---------------------------------------------------------------------

const nvme_bdev_paths& nvme_bdev::refresh(reactor_view& v) {
  if (v.generation != generation_.load(std::memory_order_acquire)) {
    std::lock_guard lk(table_mu_);
    v.table = table_;
    v.generation = generation_.load(std::memory_order_relaxed);
  }
  return *v.table;
}

const nvme_bdev_path* nvme_bdev::select(reactor_view& v, reactor& r) {
  const nvme_bdev_paths& t = *v.table;
  const size_t n = t.paths.size();
  // One pass ranks every path: the best class, and per class the first path (active_passive)
  // and the one with the fewest commands outstanding here (queue_depth).
  int best = 0;
  const nvme_bdev_path* first[3] = {};
  const nvme_bdev_path* shallowest[3] = {};
  uint32_t depth[3] = {UINT32_MAX, UINT32_MAX, UINT32_MAX};
  for (auto& p : t.paths) {
    int k = rank(p, &r);
    if (k == 0) continue;
    best = std::max(best, k);
    if (!first[k]) first[k] = &p;
    if (uint32_t d = p.ctrl->io_queue(r)->outstanding(); d < depth[k]) depth[k] = d, shallowest[k] = &p;
  }
  if (best == 0) return nullptr;
  if (t.policy.mode == multipath_mode::active_passive) return first[best];
  if (t.policy.selector == multipath_selector::queue_depth) return shallowest[best];
  // round_robin: stay for rr_min_io I/Os, then move to the next path of the best class.
  if (v.rr_index < n && v.rr_count < t.policy.rr_min_io && rank(t.paths[v.rr_index], &r) == best) {
    ++v.rr_count;
    return &t.paths[v.rr_index];
  }
  for (size_t k = 1; k <= n; ++k) {
    size_t i = (v.rr_index + k) % n;
    if (rank(t.paths[i], &r) == best) {
      v.rr_index = i;
      v.rr_count = 1;
      return &t.paths[i];
    }
  }
  return nullptr;
}

void nvme_bdev::do_submit(bdev_io& io) {
  if (!in_range(io.offset_blocks, io.num_blocks)) return io.complete_later(-EINVAL);
  if (!supports(io.op)) return io.complete_later(-EOPNOTSUPP);
  auto& st = io.emplace_backend_ctx<io_state>();
  st.io = &io;
  st.waiter.cb = this;
  dispatch(io);
}

void nvme_bdev::dispatch(bdev_io& io) {
  reactor& r = *io.owner;
  reactor_view& v = views_[r.index()];
  const nvme_bdev_paths& t = refresh(v);
  const nvme_bdev_path* p = select(v, r);
  if (!p) {
    if (t.paths.empty()) return io.complete_later(-EIO);  // every path is gone for good
    return park(io, v);
  }
  auto& st = state_of(io);
  st.path = p->path;
  st.stats = p->stats;
  st.nsid = p->nsid;
  st.max_blocks = p->max_blocks_per_cmd;
  start_or_wait(io, *p->ctrl->io_queue(r));
}

void nvme_bdev::park(bdev_io& io, reactor_view& v) {
  auto& st = state_of(io);
  auto now = io.owner->now();  // fast_io_fail_timeout_sec runs on the reactor's time
  if (st.parked_since == clock_type::time_point{}) {
    st.parked_since = now;
    ios_parked_.fetch_add(1, std::memory_order_relaxed);
  }
  uint32_t limit = v.table->io_fail_timeout_ms;
  if (limit && now - st.parked_since >= std::chrono::milliseconds(limit)) return io.complete_later(-EIO);
  st.waiter.next = nullptr;
  if (v.parked_tail)
    v.parked_tail->next = &st.waiter;
  else
    v.parked_head = &st.waiter;
  v.parked_tail = &st.waiter;
  if (!v.park_timer) {
    reactor& r = *io.owner;
    v.park_timer = r.schedule(park_retry_period, [this, &r] {
      views_[r.index()].park_timer = 0;
      retry_parked(r);
    });
  }
}

void nvme_bdev::retry_parked(reactor& r) {
  reactor_view& v = views_[r.index()];
  slot_waiter* w = v.parked_head;
  v.parked_head = v.parked_tail = nullptr;
  while (w) {
    slot_waiter* next = w->next;
    dispatch(io_of(*w));  // may park it again, behind the ones still to go
    w = next;
  }
}

void nvme_bdev::start_or_wait(bdev_io& io, host_queue& q) {
  // Behind earlier waiters (FIFO), or when no slot is free: wait for one.
  if (q.has_waiters() || !start_next_chunk(io, q)) q.wait_for_slot(state_of(io).waiter);
}

void nvme_bdev::on_slot_free(host_queue& q, slot_waiter& w) {
  bdev_io& io = io_of(w);
  if (q.failed()) return dispatch(io);  // that path died: another one, or wait for one
  if (!start_next_chunk(io, q)) q.wait_for_slot(w);  // taken in between: wait again
}

bool nvme_bdev::start_next_chunk(bdev_io& io, host_queue& q) {
  host_request* r = q.alloc();
  if (!r) return false;
  auto& st = state_of(io);
  uint64_t slba = io.offset_blocks + st.done_blocks;
  uint64_t left = io.num_blocks - st.done_blocks;
  st.chunk_blocks = static_cast<uint32_t>(std::min<uint64_t>(left, st.max_blocks));
  st.chunk_start = tick_clock::batch_now();
  uint32_t bytes = st.chunk_blocks * block_size();
  r->cb = this;
  r->user = &io;
  r->data = nullptr;
  r->data_len = 0;
  r->host_to_controller = false;
  switch (io.op) {
    case bdev_op::read:
      r->cmd = make_rw(io_opcode::read, st.nsid, slba, st.chunk_blocks);
      r->data = io.buf + st.done_blocks * block_size();
      r->data_len = bytes;
      break;
    case bdev_op::write:
      r->cmd = make_rw(io_opcode::write, st.nsid, slba, st.chunk_blocks, io.fua);
      r->data = io.buf + st.done_blocks * block_size();
      r->data_len = bytes;
      r->host_to_controller = true;
      break;
    case bdev_op::flush:
      r->cmd = make_flush(st.nsid);
      st.chunk_blocks = 0;
      break;
    case bdev_op::write_zeroes:
      r->cmd = make_rw(io_opcode::write_zeroes, st.nsid, slba, st.chunk_blocks);
      break;
    case bdev_op::unmap:
      r->cmd = make_deallocate(st.nsid, 1);
      st.range.nlb = st.chunk_blocks;
      st.range.slba = slba;
      r->data = reinterpret_cast<std::byte*>(&st.range);
      r->data_len = sizeof(st.range);
      r->host_to_controller = true;
      break;
  }
  q.submit(*r);
  return true;
}

void nvme_bdev::on_host_complete(host_request& req, const nvme_completion& c) {
  bdev_io& io = *static_cast<bdev_io*>(req.user);
  host_queue& q = *req.queue;
  auto& st = state_of(io);
  unsigned ri = io.owner->index();
  if (is_path_error(c.status)) {
    st.stats->record_error(ri, true);
    if (is_ana_error(c.status)) st.path->request_ana_refresh();
    if (++st.retries > max_path_retries) return finish(io, -EIO);
    return dispatch(io);  // the same chunk, through whichever path is usable now
  }
  if (!c.status.ok()) {
    st.stats->record_error(ri, false);
    return finish(io, errno_for(c.status));
  }
  st.stats->record(ri, io.op, uint64_t{st.chunk_blocks} * block_size(), tick_clock::batch_now() - st.chunk_start);
  st.done_blocks += st.chunk_blocks;
  if (st.done_blocks >= io.num_blocks || io.op == bdev_op::flush) return finish(io, 0);
  if (q.failed()) return dispatch(io);
  start_or_wait(io, q);  // the next chunk of a split I/O
}

void nvme_bdev::finish(bdev_io& io, int status) {
  io.status = status;
  io.complete_now();
}

}  // namespace nvmfd
