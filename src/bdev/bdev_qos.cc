#include "bdev/bdev_qos.h"

#include <algorithm>

#include "base/tick_clock.h"
#include "bdev/bdev.h"

namespace nvmfd {

namespace {
constexpr uint64_t mib = 1024 * 1024;
}

struct bdev_qos::reactor_state {
  struct fifo {
    bdev_io* head = nullptr;  // oldest first
    bdev_io* tail = nullptr;
  };
  int64_t balance[n_buckets] = {};  // tokens granted to this reactor and not yet spent
  fifo waiting[2];                  // reads, writes
  unsigned first = 0;               // the FIFO the next timer shot serves first
  bool timer_armed = false;
};

bdev_qos::bdev_qos(bdev& b) : bdev_(b), tick_rate_(tick_clock::rate()) {}

bdev_qos::~bdev_qos() {
  for (auto& s : reactors_) delete s.load(std::memory_order_acquire);
}

void bdev_qos::set_limits(const qos_limits& l) {
  std::lock_guard lk(limits_mu_);
  limits_ = l;
  buckets_[rw_ios].set_rate(l.rw_ios_per_sec);
  buckets_[rw_bytes].set_rate(l.rw_mbytes_per_sec * mib);
  buckets_[r_bytes].set_rate(l.r_mbytes_per_sec * mib);
  buckets_[w_bytes].set_rate(l.w_mbytes_per_sec * mib);
}

qos_limits bdev_qos::limits() const {
  std::lock_guard lk(limits_mu_);
  return limits_;
}

void bdev_qos::cost(const bdev_io& io, uint64_t (&need)[n_buckets]) const {
  for (auto& n : need) n = 0;
  const bool read = io.op == bdev_op::read;
  if (!read && io.op != bdev_op::write) return;
  const uint64_t bytes = io.num_blocks * bdev_.block_size();
  need[rw_ios] = 1;
  need[rw_bytes] = bytes;
  need[read ? r_bytes : w_bytes] = bytes;
  for (unsigned b = 0; b < n_buckets; ++b)
    if (!buckets_[b].limited()) need[b] = 0;
}

bool bdev_qos::pay(reactor_state& s, const bdev_io& io) {
  uint64_t need[n_buckets];
  cost(io, need);
  const uint64_t now = tick_clock::batch_now();
  // Tops up every short balance before spending any: a grant taken for an I/O that must
  // still wait stays in the balance for it (or the next), so no token is lost.
  for (unsigned b = 0; b < n_buckets; ++b) {
    const auto want = static_cast<int64_t>(need[b]);
    if (want == 0 || s.balance[b] >= want) continue;
    const uint64_t g = std::max<uint64_t>(buckets_[b].grant(), static_cast<uint64_t>(want - s.balance[b]));
    if (!buckets_[b].take(g, now, tick_rate_)) return false;
    s.balance[b] += static_cast<int64_t>(g);
  }
  for (unsigned b = 0; b < n_buckets; ++b) s.balance[b] -= static_cast<int64_t>(need[b]);
  return true;
}

bdev_qos::reactor_state* bdev_qos::state_for(unsigned r) {
  if (r >= max_reactors) return nullptr;
  reactor_state* s = reactors_[r].load(std::memory_order_relaxed);
  if (!s) {
    s = new reactor_state;
    reactors_[r].store(s, std::memory_order_release);
  }
  return s;
}

bool bdev_qos::admit(bdev_io& io) {
  if (io.op != bdev_op::read && io.op != bdev_op::write) return true;
  reactor_state* s = state_for(io.owner->index());
  if (!s) return true;
  auto& q = s->waiting[io.op == bdev_op::write];
  if (!q.head && pay(*s, io)) return true;
  io.qos_next = nullptr;
  if (q.tail) q.tail->qos_next = &io;
  else q.head = &io;
  q.tail = &io;
  if (!s->timer_armed) arm(*io.owner, *s);
  return false;
}

void bdev_qos::arm(reactor& r, reactor_state& s) {
  s.timer_armed = true;
  // The shot holds this object; the bdev lives as long as I/Os wait in it (bdev.h contract).
  r.schedule(retry_interval, [self = shared_from_this(), &r, &s] { self->drain(r, s); });
}

void bdev_qos::drain(reactor& r, reactor_state& s) {
  s.timer_armed = false;
  // Reads and writes wait apart, so that a write held by w_mbytes_per_sec does not hold the
  // reads behind it; they take turns at going first, for the limits they share.
  for (unsigned k = 0; k < 2; ++k) {
    auto& q = s.waiting[(s.first + k) % 2];
    while (bdev_io* io = q.head) {
      if (!pay(s, *io)) break;
      q.head = io->qos_next;
      if (!q.head) q.tail = nullptr;
      io->qos_next = nullptr;
      bdev_.qos_resubmit(*io);
    }
  }
  s.first ^= 1;
  if (s.waiting[0].head || s.waiting[1].head) arm(r, s);
}

}  // namespace nvmfd
