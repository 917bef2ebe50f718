// nvmf-lvol-bench: what a logical volume costs over the bdev under it. 4 KiB random reads and
// writes at queue depth 32 from one reactor, on a thick volume and on the same range of its
// base bdev (a RAM disk: nothing else to hide the lvol layer's cost behind), alternated in one
// run (raw, lvol, raw, lvol, ...) so that noise from a shared machine hits both alike.
// Prints a line per sample and, with --json, the medians and their ratio.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "bdev/bdev_registry.h"
#include "bdev/bdev_sync_io.h"
#include "bdev/lvol/lvol_bdev.h"
#include "bdev/lvol/lvol_manager.h"
#include "bdev/ram_bdev.h"

namespace nvmfd {
namespace {

constexpr uint32_t block = 4096;

// Keeps qd I/Os in flight on one reactor until stopped; counts completions.
class io_loop final : public bdev_io_callback {
 public:
  io_loop(bdev& b, bdev_op op, unsigned qd, uint64_t range_blocks, reactor& r)
      : b_(b), op_(op), range_(range_blocks), r_(r), slots_(qd) {
    for (unsigned i = 0; i < qd; ++i) bufs_.emplace_back(block);
  }

  void start() {
    inflight_ = static_cast<int>(slots_.size());
    r_.post([this] {
      for (std::size_t i = 0; i < slots_.size(); ++i) submit(slots_[i], bufs_[i].data());
    });
  }
  void stop() { stop_ = true; }
  bool drained() const { return inflight_.load() == 0; }
  uint64_t done() const { return done_.load(); }
  int errors() const { return errors_.load(); }

  void on_bdev_io_done(bdev_io& io) override {
    if (io.status != 0) ++errors_;
    ++done_;
    if (stop_) {
      --inflight_;
      return;
    }
    submit(io, io.buf);
  }

 private:
  void submit(bdev_io& io, std::byte* buf) {
    io.op = op_;
    io.offset_blocks = rng_() % range_;
    io.num_blocks = 1;
    io.buf = buf;
    io.owner = &r_;
    io.done = this;
    b_.submit(io);
  }

  bdev& b_;
  bdev_op op_;
  uint64_t range_;
  reactor& r_;
  std::vector<bdev_io> slots_;
  std::vector<aligned_buffer> bufs_;
  std::mt19937_64 rng_{42};
  std::atomic<bool> stop_{false};
  std::atomic<int> inflight_{0};
  std::atomic<uint64_t> done_{0};
  std::atomic<int> errors_{0};
};

double run_once(reactor_pool& pool, bdev& b, bdev_op op, unsigned qd, uint64_t range, double seconds) {
  io_loop loop(b, op, qd, range, pool.at(0));
  loop.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // warm-up
  uint64_t d0 = loop.done();
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  uint64_t d1 = loop.done();
  auto t1 = std::chrono::steady_clock::now();
  loop.stop();
  while (!loop.drained()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (loop.errors()) {
    std::fprintf(stderr, "nvmf-lvol-bench: %d I/O errors\n", loop.errors());
    std::exit(1);
  }
  return static_cast<double>(d1 - d0) / std::chrono::duration<double>(t1 - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace
}  // namespace nvmfd

int main(int argc, char** argv) {
  using namespace nvmfd;
  CLI::App app{"nvmf-lvol-bench: 4 KiB random I/O on a thick lvol vs its base bdev"};
  double seconds = 2;
  int samples = 5;
  unsigned qd = 32;
  uint64_t vol_mib = 256;
  std::string json_path;
  app.add_option("--time", seconds, "seconds per sample")->check(CLI::PositiveNumber);
  app.add_option("--samples", samples, "samples per workload and device")->check(CLI::PositiveNumber);
  app.add_option("--qd", qd, "I/Os in flight")->check(CLI::Range(1u, 1024u));
  app.add_option("--size-mib", vol_mib, "volume size")->check(CLI::Range(16, 65536));
  app.add_option("--json", json_path, "write the results here");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  reactor_pool pool(1, {0});
  bdev_registry bdevs;
  lvol::lvol_manager lvols(pool, bdevs);
  auto ram = ram_bdev::create("Malloc0", block, (vol_mib + 64) * (1 << 20) / block, std::nullopt);
  if (!ram) return std::fprintf(stderr, "%s\n", ram.err().message.c_str()), 1;
  (void)bdevs.add(*ram);
  auto store = lvols.create_store("Malloc0", "lvs0", 4 << 20);
  if (!store) return std::fprintf(stderr, "%s\n", store.err().message.c_str()), 1;
  auto vol = lvols.create_volume(**store, "thick", vol_mib << 20, false, std::nullopt);
  if (!vol) return std::fprintf(stderr, "%s\n", vol.err().message.c_str()), 1;
  bdev& lv = *(*vol)->bdev;
  bdev& raw = **ram;
  uint64_t range = lv.num_blocks();  // the raw runs use the same number of blocks of the base
  // Fill both so that reads touch written memory.
  aligned_buffer chunk(1 << 20);
  for (uint64_t off = 0; off < range; off += (1 << 20) / block) {
    (void)sync_bdev_io(pool, lv, bdev_op::write, off, (1 << 20) / block, chunk.data());
    (void)sync_bdev_io(pool, raw, bdev_op::write, off, (1 << 20) / block, chunk.data());
  }
  nlohmann::json out = {{"block_size", block}, {"qd", qd}, {"time_s", seconds}, {"samples", samples},
                        {"volume_mib", vol_mib}, {"cluster_size", 4 << 20}, {"base", "RAM bdev (bdev_malloc)"},
                        {"results", nlohmann::json::array()}};
  for (auto [name, op] : {std::pair{"randread", bdev_op::read}, std::pair{"randwrite", bdev_op::write}}) {
    std::vector<double> r, l;
    for (int i = 0; i < samples; ++i) {
      r.push_back(run_once(pool, raw, op, qd, range, seconds));
      l.push_back(run_once(pool, lv, op, qd, range, seconds));
      std::printf("%s sample %d: raw %.0f IOPS, lvol %.0f IOPS (%.3f)\n", name, i + 1, r.back(), l.back(),
                  l.back() / r.back());
      std::fflush(stdout);
    }
    double rm = median(r), lm = median(l);
    std::printf("%s: raw %.0f IOPS, lvol %.0f IOPS, lvol/raw %.3f\n", name, rm, lm, lm / rm);
    out["results"].push_back({{"workload", name}, {"raw_iops", rm}, {"lvol_iops", lm}, {"ratio", lm / rm},
                              {"raw_samples", r}, {"lvol_samples", l}});
  }
  if (!json_path.empty()) std::ofstream(json_path) << out.dump(1) << "\n";
  pool.stop();
  return 0;
}
