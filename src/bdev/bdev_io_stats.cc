#include "bdev/bdev_io_stats.h"

#include <algorithm>

#include "base/tick_clock.h"
#include "bdev/bdev.h"

namespace nvmfd {

namespace {

using counter = std::atomic<uint64_t>;

// Single writer: a load and a store, never a locked read-modify-write.
void bump(counter& c, uint64_t v) { c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed); }
uint64_t get(const counter& c) { return c.load(std::memory_order_relaxed); }

struct op_counters {
  counter ops{0}, bytes{0}, latency_ticks{0}, max_latency_ticks{0}, min_latency_ticks{0};

  void record(uint64_t b, uint64_t t) {
    uint64_t n = get(ops);
    ops.store(n + 1, std::memory_order_relaxed);
    bump(bytes, b);
    bump(latency_ticks, t);
    if (t > get(max_latency_ticks)) max_latency_ticks.store(t, std::memory_order_relaxed);
    // min is 0 until set: 0 means "none yet", as a reset leaves it.
    // A latency under one tick counts as one (batch ticks make 0 common): no store per I/O
    // once the minimum is 1.
    uint64_t low = t ? t : 1;
    if (uint64_t m = get(min_latency_ticks); m == 0 || low < m) min_latency_ticks.store(low, std::memory_order_relaxed);
  }
  void reset(stats_reset mode) {
    if (mode == stats_reset::error) return;
    max_latency_ticks.store(0, std::memory_order_relaxed);
    min_latency_ticks.store(0, std::memory_order_relaxed);
    if (mode != stats_reset::all) return;
    for (counter* c : {&ops, &bytes, &latency_ticks}) c->store(0, std::memory_order_relaxed);
  }
  bdev_op_totals totals() const {
    return {get(ops), get(bytes), get(latency_ticks), get(max_latency_ticks), get(min_latency_ticks)};
  }
};

void add(bdev_op_totals& a, const bdev_op_totals& b) {
  if (b.min_latency_ticks && (!a.min_latency_ticks || b.min_latency_ticks < a.min_latency_ticks)) a.min_latency_ticks = b.min_latency_ticks;
  a.max_latency_ticks = std::max(a.max_latency_ticks, b.max_latency_ticks);
  a.ops += b.ops;
  a.bytes += b.bytes;
  a.latency_ticks += b.latency_ticks;
}

}  // namespace

struct alignas(64) bdev_io_stats::slot_data {
  op_counters read, write, unmap, flush, write_zeroes;
  counter errors{0};
  std::array<counter, latency_histogram{}.counts.size()> read_hist{}, write_hist{};
  counter read_hist_ticks{0}, write_hist_ticks{0};

  op_counters& of(bdev_op op) {
    switch (op) {
      case bdev_op::read: return read;
      case bdev_op::write: return write;
      case bdev_op::unmap: return unmap;
      case bdev_op::flush: return flush;
      case bdev_op::write_zeroes: return write_zeroes;
    }
    return read;
  }
};

bdev_io_totals& bdev_io_totals::operator+=(const bdev_io_totals& o) {
  add(read, o.read);
  add(write, o.write);
  add(unmap, o.unmap);
  add(flush, o.flush);
  add(write_zeroes, o.write_zeroes);
  errors += o.errors;
  return *this;
}

bdev_io_stats::bdev_io_stats() {
  const double rate = static_cast<double>(tick_clock::rate());
  for (std::size_t i = 0; i < bound_ticks_.size(); ++i)
    bound_ticks_[i] = static_cast<uint64_t>(latency_bucket_bounds_s[i] * rate);
}

bdev_io_stats::~bdev_io_stats() {
  for (auto& s : slots_) delete s.load(std::memory_order_acquire);
}

bdev_io_stats::slot_data* bdev_io_stats::slot_for(unsigned r) {
  if (r >= max_slots) return nullptr;
  slot_data* s = slots_[r].load(std::memory_order_relaxed);
  if (!s) {
    s = new slot_data;
    slots_[r].store(s, std::memory_order_release);  // readers load it with acquire
  }
  return s;
}

void bdev_io_stats::record(unsigned r, bdev_op op, uint64_t bytes, uint64_t latency_ticks, int status) {
  slot_data* s = slot_for(r);
  if (!s) return;
  if (status != 0) return bump(s->errors, 1);
  s->of(op).record(bytes, latency_ticks);
  if (op != bdev_op::read && op != bdev_op::write) return;
  std::size_t i = 0;
  while (i < bound_ticks_.size() && latency_ticks > bound_ticks_[i]) ++i;
  bool rd = op == bdev_op::read;
  bump((rd ? s->read_hist : s->write_hist)[i], 1);
  bump(rd ? s->read_hist_ticks : s->write_hist_ticks, latency_ticks);
}

latency_histogram bdev_io_stats::histogram(bdev_op op) const {
  latency_histogram h;
  for (unsigned r = 0; r < max_slots; ++r) {
    const slot_data* s = slots_[r].load(std::memory_order_acquire);
    if (!s) continue;
    const auto& hist = op == bdev_op::read ? s->read_hist : s->write_hist;
    for (std::size_t i = 0; i < h.counts.size(); ++i) h.counts[i] += get(hist[i]);
    h.sum_ticks += get(op == bdev_op::read ? s->read_hist_ticks : s->write_hist_ticks);
  }
  return h;
}

void bdev_io_stats::reset_slot(unsigned r, stats_reset mode) {
  slot_data* s = r < max_slots ? slots_[r].load(std::memory_order_relaxed) : nullptr;
  if (!s) return;
  for (op_counters* c : {&s->read, &s->write, &s->unmap, &s->flush, &s->write_zeroes}) c->reset(mode);
  if (mode != stats_reset::maxmin) s->errors.store(0, std::memory_order_relaxed);
}

std::optional<bdev_io_totals> bdev_io_stats::slot(unsigned r) const {
  const slot_data* s = r < max_slots ? slots_[r].load(std::memory_order_acquire) : nullptr;
  if (!s) return std::nullopt;
  return bdev_io_totals{s->read.totals(), s->write.totals(), s->unmap.totals(),
                        s->flush.totals(), s->write_zeroes.totals(), get(s->errors)};
}

bdev_io_totals bdev_io_stats::sum() const {
  bdev_io_totals t;
  for (unsigned r = 0; r < max_slots; ++r)
    if (auto s = slot(r)) t += *s;
  return t;
}

}  // namespace nvmfd
