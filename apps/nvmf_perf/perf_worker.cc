#include "apps/nvmf_perf/perf_worker.h"

#include <cstdlib>
#include <cstring>

#include "host/io_command.h"

namespace nvmfd::perf {

namespace {
constexpr size_t buffer_align = 4096;
}

perf_worker::perf_worker(host_queue& q, int cpu, const worker_config& cfg, run_control& ctl)
    : q_(q), reactor_index_(q.owner().index()), cpu_(cpu), cfg_(cfg), ctl_(ctl) {
  blocks_per_io_ = cfg_.io_size / cfg_.block_size;
  units_ = cfg_.num_blocks / blocks_per_io_;
  next_unit_ = units_ ? cfg_.first_unit % units_ : 0;
  rng_ = cfg_.seed;
}

perf_worker::~perf_worker() {
  for (auto& s : slots_) std::free(s.buf);
}

result<void> perf_worker::prepare() {
  size_t len = (cfg_.io_size + buffer_align - 1) / buffer_align * buffer_align;
  slots_.resize(cfg_.depth);
  for (size_t i = 0; i < slots_.size(); ++i) {
    auto* buf = static_cast<std::byte*>(std::aligned_alloc(buffer_align, len));
    if (!buf) return error{errc::no_memory, "cannot allocate I/O buffers"};
    slots_[i].buf = buf;
    // A pattern that differs per worker, slot and word, so written data is recognisable.
    for (size_t w = 0; w + 8 <= len; w += 8) {
      uint64_t v = (cfg_.seed << 40) ^ (uint64_t{i} << 24) ^ (w / 8) ^ 0xa5a5'0000'0000'0000ull;
      std::memcpy(buf + w, &v, 8);
    }
  }
  return success();
}

void perf_worker::start() {
  int64_t now = now_ns();
  for (auto& s : slots_)
    if (!submit(s, now)) break;
}

bool perf_worker::submit(slot& s, int64_t now) {
  host_request* r = q_.alloc();
  if (!r) return false;  // the queue failed (the depth never exceeds the queue's slots)
  uint64_t unit;
  if (cfg_.random) {
    unit = below(units_);
  } else {
    unit = next_unit_;
    if (++next_unit_ == units_) next_unit_ = 0;
  }
  bool read = cfg_.read_pct == 100 || (cfg_.read_pct != 0 && below(100) < cfg_.read_pct);
  r->cmd = make_rw(read ? io_opcode::read : io_opcode::write, cfg_.nsid, unit * blocks_per_io_, blocks_per_io_);
  r->data = s.buf;
  r->data_len = cfg_.io_size;
  r->host_to_controller = !read;
  r->cb = this;
  r->user = &s;
  s.read = read;
  s.submitted_ns = now;
  outstanding_.store(outstanding_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  q_.submit(*r);
  return true;
}

void perf_worker::on_host_complete(host_request& req, const nvme_completion& c) {
  // req is free again already: read what we need before submitting anything.
  slot& s = *static_cast<slot*>(req.user);
  int64_t now = now_ns();
  outstanding_.store(outstanding_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  int64_t stop = ctl_.stop_ns.load(std::memory_order_relaxed);
  if (!c.status.ok()) {
    if (ctl_.shutting_down.load(std::memory_order_relaxed))
      ++stats_.cut_off;
    else
      count_error(c.status);
  } else if (now >= ctl_.measure_start_ns && now < stop) {
    stats_.latency.record(static_cast<uint64_t>(now - s.submitted_ns));
    ++(s.read ? stats_.reads : stats_.writes);
  }
  if (now < stop) submit(s, now);
}

void perf_worker::count_error(const nvme_status& st) {
  ++stats_.errors;
  auto sct = static_cast<uint8_t>(st.sct);
  for (auto& e : stats_.statuses) {
    if (e.sct == sct && e.sc == st.sc) {
      ++e.count;
      return;
    }
  }
  stats_.statuses.push_back({sct, st.sc, 1});
}

}  // namespace nvmfd::perf
