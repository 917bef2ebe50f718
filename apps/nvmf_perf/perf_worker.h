#pragma once
// perf_worker: keeps `depth` I/Os outstanding on one namespace through one host I/O queue
// pair, and measures them. One worker per (core, namespace, queue pair).
//
// Threading: constructed on the control thread; prepare(), start() and every completion run
// on the queue's reactor; outstanding() may be read from any thread; stats() is read by the
// control thread once the reactor is done with the worker (after a run_on on its reactor).
// Per I/O nothing is allocated: each of the `depth` slots owns a 4 KiB-aligned buffer from
// prepare() and is resubmitted from its own completion.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "apps/nvmf_perf/perf_histogram.h"
#include "base/result.h"
#include "base/strong_id.h"
#include "host/host_queue.h"

namespace nvmfd::perf {

using perf_clock = std::chrono::steady_clock;

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(perf_clock::now().time_since_epoch()).count();
}

// Shared by the control thread and every worker.
struct run_control {
  int64_t measure_start_ns = 0;       // completions before this are warm-up: not counted
  std::atomic<int64_t> stop_ns{0};    // completions from this on are not counted nor followed by new I/O
  std::atomic<bool> shutting_down{false};  // drain over: what still fails was cut off at exit
};

struct worker_config {
  nsid_t nsid;
  uint32_t block_size = 0;
  uint64_t num_blocks = 0;
  uint32_t io_size = 0;             // a multiple of block_size, at most the namespace size
  uint32_t depth = 1;
  bool random = false;
  uint32_t read_pct = 100;          // 0..100
  uint64_t seed = 1;
  uint64_t first_unit = 0;          // sequential workloads start here (in io_size units)
};

struct status_count {
  uint8_t sct = 0;
  uint8_t sc = 0;
  uint64_t count = 0;
};

struct worker_stats {
  latency_histogram latency;        // successful I/Os completed in the measured window
  uint64_t reads = 0;               // ... of which reads
  uint64_t writes = 0;
  uint64_t errors = 0;              // failed completions at any time, except those cut off at exit
  uint64_t cut_off = 0;             // I/Os that had not completed when the drain time ran out
  std::vector<status_count> statuses;  // the NVMe statuses of the errors
};

class perf_worker final : public host_callback {
 public:
  perf_worker(host_queue& q, int cpu, const worker_config& cfg, run_control& ctl);
  ~perf_worker();
  perf_worker(const perf_worker&) = delete;
  perf_worker& operator=(const perf_worker&) = delete;

  // Reactor: allocates and fills the slot buffers. Fails when memory is exhausted.
  result<void> prepare();
  // Reactor: submits `depth` I/Os.
  void start();

  uint32_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }
  const worker_stats& stats() const { return stats_; }
  const worker_config& config() const { return cfg_; }
  int cpu() const { return cpu_; }
  // The index of the reactor the worker runs on (valid after its queue is gone).
  unsigned reactor_index() const { return reactor_index_; }

  void on_host_complete(host_request& req, const nvme_completion& c) override;

 private:
  struct slot {
    std::byte* buf = nullptr;
    int64_t submitted_ns = 0;
    bool read = false;
  };

  bool submit(slot& s, int64_t now);
  uint64_t next_random() {  // splitmix64
    uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // A uniform value in [0, n) (Lemire's multiply-high; no division).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next_random()) * n) >> 64); }
  void count_error(const nvme_status& s);

  host_queue& q_;                   // outlives every completion, not the worker
  unsigned reactor_index_;
  int cpu_;
  worker_config cfg_;
  run_control& ctl_;
  std::vector<slot> slots_;
  uint64_t units_ = 0;              // io_size units in the namespace
  uint32_t blocks_per_io_ = 0;
  uint64_t next_unit_ = 0;          // sequential cursor
  uint64_t rng_ = 0;
  std::atomic<uint32_t> outstanding_{0};
  worker_stats stats_;
};

}  // namespace nvmfd::perf
