// nvmf-gateway-host-io: nvmfd's own host multipath (bdev_nvme, one controller per gateway,
// "multipath") through a gateway group, with the optimized gateway killed during verified I/O
// (gateway_host_failover.sh runs it; issue 17, item 4).
//
//   nvmf-gateway-host-io --nqn NQN --path ADDR:PORT --path ADDR:PORT
//                        --owner-pid-cmd CMD --restart-cmd CMD [--phase-s S] [--workers N]
//
// Workers on one reactor loop over fresh block ranges (each written once): write a pattern,
// read it back, compare; every 8 writes a flush. The sequence, each step checked:
//   1. both paths connected, exactly one ANA optimized; I/O flows through it only;
//   2. SIGKILL to the PID that --owner-pid-cmd prints (the gateway that shows optimized); I/O
//      must go on with no error; the other path becomes optimized; the times from the kill to
//      the first I/O and the first write started after it completing, and the longest gap,
//      are printed;
//   3. CMD --restart-cmd; the killed path reconnects and shows non-optimized; I/O stays on the
//      optimized one;
//   4. a final flush, then every range read once more: all must match. A range that differs
//      (on the final read or on its read-back during the run) is classified: covered by a flush
//      that completed before the kill, written before the kill but flushed only after it
//      (through the other gateway), or written after the kill.
// Exit status 0 when every check passed, 1 otherwise.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bdev/bdev_registry.h"
#include "host/nvme_controller_registry.h"
#include "reactor/reactor.h"
#include "rpc/bdev_nvme_rpc.h"
#include "tests/unit/bdev/bdev_harness.h"

namespace {

using namespace nvmfd;
using namespace std::chrono_literals;
using test::aligned_buffer;
using test::equal;
using test::fill_pattern;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

int failures = 0;
template <class... Args>
void check_failed(fmt::format_string<Args...> f, Args&&... args) {
  ++failures;
  std::fprintf(stderr, "CHECK FAILED: %s\n", fmt::format(f, std::forward<Args>(args)...).c_str());
}

double secs(steady::time_point a, steady::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// The verified I/O of every worker, on one reactor. Ranges are handed out in order and
// never rewritten; a completed flush covers every write completed before it was submitted.
class io_engine final {
  struct worker final : bdev_io_callback {
    worker(io_engine& e, size_t bytes) : eng(e), out(bytes), in(bytes) {}
    void on_bdev_io_done(bdev_io&) override { eng.done(*this); }
    io_engine& eng;
    bdev_io io;
    aligned_buffer out, in;
    uint64_t range = 0, writes = 0, flush_covers = 0;
    steady::time_point submitted;
  };

 public:
  io_engine(bdev& b, reactor& r, unsigned workers, uint32_t blocks) : b_(b), r_(r), blocks_(blocks) {
    ranges_ = b.num_blocks() / blocks;
    for (unsigned i = 0; i < workers; ++i) {
      auto w = std::make_unique<worker>(*this, size_t{blocks} * b.block_size());
      w->io.owner = &r;
      w->io.done = w.get();
      workers_.push_back(std::move(w));
    }
    write_seq_.assign(ranges_, 0);
  }

  void start() {
    running_ = true;
    active_ = workers_.size();
    r_.post([this] {
      for (auto& w : workers_) next(*w);
    });
  }
  void stop() {
    running_ = false;
    while (active_.load() > 0) std::this_thread::sleep_for(1ms);
  }
  void mark(steady::time_point t) {
    std::lock_guard lk(mu_);
    mark_ = t;
    seq_at_mark_ = seq_;
    flushed_at_mark_ = flushed_seq_;
    first_any_ = first_write_ = {};
    max_gap_ = 0;
  }
  struct report {
    double first_any = -1, first_write = -1, max_gap = 0;
  };
  report since_mark() {
    std::lock_guard lk(mu_);
    report r;
    if (first_any_ != steady::time_point{}) r.first_any = secs(mark_, first_any_);
    if (first_write_ != steady::time_point{}) r.first_write = secs(mark_, first_write_);
    r.max_gap = max_gap_;
    return r;
  }
  uint64_t completed() const { return completed_.load(); }
  uint64_t errors() const { return errors_.load(); }
  std::string first_error() {
    std::lock_guard lk(mu_);
    return first_error_;
  }
  // Ranges written so far, with how many of them a completed flush covered.
  std::pair<uint64_t, uint64_t> written_and_flushed() {
    std::lock_guard lk(mu_);
    uint64_t n = 0, f = 0;
    for (uint64_t i = 0; i < next_range_; ++i)
      if (write_seq_[i]) ++n, f += write_seq_[i] <= flushed_seq_;
    return {n, f};
  }
  // Why range i may differ, by when its write completed against the mark (the kill).
  std::string classify(uint64_t i) {
    std::lock_guard lk(mu_);
    uint64_t s = write_seq_[i];
    if (mark_ == steady::time_point{} || s > seq_at_mark_) return "written after the kill";
    if (s <= flushed_at_mark_) return "covered by a flush completed before the kill";
    return "written before the kill, covered only by a flush completed after it";
  }
  // Reads every written range back (after stop()); returns how many differ.
  uint64_t verify_all(uint64_t& checked) {
    uint64_t bad = 0;
    checked = 0;
    aligned_buffer want(size_t{blocks_} * b_.block_size()), got(want.size());
    for (uint64_t i = 0; i < next_range_; ++i) {
      if (!write_seq_[i]) continue;
      fill_pattern(want.span(), i + 1);
      if (sync_io(bdev_op::read, i * blocks_, got.data()) != 0 || !equal(want, got)) {
        if (++bad <= 20)
          std::fprintf(stderr, "range %llu differs on the final read: %s\n", static_cast<unsigned long long>(i),
                       classify(i).c_str());
      }
      ++checked;
    }
    return bad;
  }
  int sync_io(bdev_op op, uint64_t offset, std::byte* buf) {
    struct waiter final : bdev_io_callback {
      void on_bdev_io_done(bdev_io&) override { done = true; }
      std::atomic<bool> done{false};
    } w;
    bdev_io io;
    io.op = op;
    io.offset_blocks = offset;
    io.num_blocks = op == bdev_op::flush ? 0 : blocks_;
    io.buf = buf;
    io.owner = &r_;
    io.done = &w;
    r_.post([&] { b_.submit(io); });
    while (!w.done) std::this_thread::sleep_for(100us);
    return io.status;
  }

 private:
  void next(worker& w) {
    if (!running_ || next_range_ >= ranges_) {
      if (running_) fail("ran out of block ranges");
      --active_;
      return;
    }
    if (w.writes > 0 && w.writes % 8 == 0 && w.io.op != bdev_op::flush) {
      w.io.op = bdev_op::flush;
      w.io.num_blocks = 0;
      w.flush_covers = seq_;
      return submit(w);
    }
    w.range = next_range_++;
    fill_pattern(w.out.span(), w.range + 1);
    w.io.op = bdev_op::write;
    w.io.offset_blocks = w.range * blocks_;
    w.io.num_blocks = blocks_;
    w.io.buf = w.out.data();
    submit(w);
  }
  void submit(worker& w) {
    w.submitted = steady::now();
    b_.submit(w.io);
  }
  void done(worker& w) {
    auto now = steady::now();
    {
      std::lock_guard lk(mu_);
      if (last_ != steady::time_point{} && last_ >= mark_ && mark_ != steady::time_point{})
        max_gap_ = std::max(max_gap_, secs(last_, now));
      else if (mark_ != steady::time_point{} && last_ < mark_)
        max_gap_ = std::max(max_gap_, secs(mark_, now));
      last_ = now;
      if (mark_ != steady::time_point{} && w.submitted >= mark_) {
        if (first_any_ == steady::time_point{}) first_any_ = now;
        if (w.io.op == bdev_op::write && first_write_ == steady::time_point{}) first_write_ = now;
      }
    }
    if (w.io.status != 0) {
      fail(fmt::format("status {} on {} of range {}", w.io.status,
                       w.io.op == bdev_op::write ? "write" : w.io.op == bdev_op::read ? "read" : "flush", w.range));
      return next(w);
    }
    ++completed_;
    switch (w.io.op) {
      case bdev_op::write: {
        ++w.writes;
        std::lock_guard lk(mu_);
        write_seq_[w.range] = ++seq_;
      }
        w.io.op = bdev_op::read;
        w.io.buf = w.in.data();
        std::memset(w.in.data(), 0, w.in.size());
        return submit(w);
      case bdev_op::read:
        if (!equal(w.in, w.out))
          fail(fmt::format("range {} read back differs from what was written ({})", w.range, classify(w.range)));
        return next(w);
      default: {
        std::lock_guard lk(mu_);
        flushed_seq_ = std::max(flushed_seq_, w.flush_covers);
      }
        return next(w);
    }
  }
  void fail(const std::string& what) {
    ++errors_;
    std::fprintf(stderr, "I/O check failed: %s\n", what.c_str());
    std::lock_guard lk(mu_);
    if (first_error_.empty()) first_error_ = what;
  }

  bdev& b_;
  reactor& r_;
  uint32_t blocks_;
  uint64_t ranges_ = 0, next_range_ = 0;  // reactor only (read by verify_all after stop)
  std::vector<std::unique_ptr<worker>> workers_;
  std::atomic<bool> running_{false};
  std::atomic<size_t> active_{0};
  std::atomic<uint64_t> completed_{0}, errors_{0};
  std::mutex mu_;  // guards what follows (the main thread reads it)
  std::vector<uint64_t> write_seq_;  // by range: 0 = not written
  uint64_t seq_ = 0, flushed_seq_ = 0, seq_at_mark_ = 0, flushed_at_mark_ = 0;
  steady::time_point mark_, last_, first_any_, first_write_;
  double max_gap_ = 0;
  std::string first_error_;
};

json call(rpc_method_table& m, const std::string& method, const json& params) {
  auto r = (*m.find(method))(params);
  if (!r) throw std::runtime_error(method + ": " + r.err().message);
  return *r;
}

struct path_view {
  std::string svc;
  bool connected = false;
  ana_state ana = ana_state::inaccessible;
  uint64_t ops = 0;
};

std::vector<path_view> view(nvme_bdev& d) {
  std::vector<path_view> out;
  for (auto& p : d.paths()->paths) {
    auto st = p.path->get_status();
    auto t = p.stats->totals();
    out.push_back({st.trid.trsvcid, p.ctrl != nullptr, p.ana, t.num_read_ops + t.num_write_ops + t.num_flush_ops});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.svc < b.svc; });
  return out;
}

std::string describe(const std::vector<path_view>& v) {
  std::string s;
  for (auto& p : v)
    s += fmt::format("{}port {}: {}, {}, {} ops", s.empty() ? "" : "; ", p.svc, p.connected ? "connected" : "down",
                     ana_state_rpc_name(p.ana), p.ops);
  return s;
}

// Waits until pred(view) holds (at most limit); false if it did not.
template <class Pred>
bool wait_for(nvme_bdev& d, Pred pred, std::chrono::seconds limit) {
  auto deadline = steady::now() + limit;
  while (steady::now() < deadline) {
    if (pred(view(d))) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// I/O ops through each port during `d`.
std::vector<uint64_t> ops_during(nvme_bdev& dev, std::chrono::milliseconds d) {
  auto a = view(dev);
  std::this_thread::sleep_for(d);
  auto b = view(dev);
  std::vector<uint64_t> out;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) out.push_back(b[i].ops - a[i].ops);
  return out;
}

int only_optimized(const std::vector<path_view>& v) {  // index of the one optimized path, or -1
  int idx = -1;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].connected && v[i].ana == ana_state::optimized) {
      if (idx >= 0) return -1;
      idx = static_cast<int>(i);
    }
  return idx;
}

// Runs cmd, which prints a PID.
pid_t owner_pid(const std::string& cmd) {
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) throw std::runtime_error("popen: " + cmd);
  long pid = 0;
  int n = std::fscanf(f, "%ld", &pid);
  if (::pclose(f) != 0 || n != 1 || pid <= 1) throw std::runtime_error("no PID from: " + cmd);
  return static_cast<pid_t>(pid);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nvmf-gateway-host-io: our host's multipath through a gateway group, the owner killed"};
  std::string nqn, owner_pid_cmd, restart_cmd;
  std::vector<std::string> paths;
  unsigned phase_s = 4, workers = 4;
  uint32_t io_kib = 16;
  app.add_option("--nqn", nqn)->required();
  app.add_option("--path", paths, "ADDR:PORT of a gateway (twice)")->required()->expected(2);
  app.add_option("--owner-pid-cmd", owner_pid_cmd, "prints the PID of the optimized gateway")->required();
  app.add_option("--restart-cmd", restart_cmd)->required();
  app.add_option("--phase-s", phase_s, "seconds of I/O in each phase");
  app.add_option("--workers", workers, "write/read-back loops in flight");
  app.add_option("--io-kib", io_kib, "size of each range");
  CLI11_PARSE(app, argc, argv);

  reactor_pool pool{1};
  bdev_registry bdevs;
  auto controllers = std::make_unique<nvme_controller_registry>(pool, bdevs);
  rpc_method_table m;
  add_bdev_nvme_methods(m, *controllers);
  int rc = 1;
  try {
    call(m, "bdev_nvme_set_options", {{"keep_alive_timeout_ms", 5000}});
    for (size_t i = 0; i < paths.size(); ++i) {
      auto colon = paths[i].rfind(':');
      json a = {{"name", "Nvme0"},         {"trtype", "tcp"},          {"adrfam", "ipv4"},
                {"traddr", paths[i].substr(0, colon)}, {"trsvcid", paths[i].substr(colon + 1)},
                {"subnqn", nqn},           {"ctrlr_loss_timeout_sec", -1}, {"reconnect_delay_sec", 1}};
      if (i > 0) a["multipath"] = "multipath";
      call(m, "bdev_nvme_attach_controller", a);
    }
    nvme_bdev& dev = *controllers->find_bdev("Nvme0n1").second;
    uint32_t blocks = io_kib * 1024 / dev.block_size();
    std::printf("attached Nvme0n1 (%llu blocks of %u bytes) through %s\n",
                static_cast<unsigned long long>(dev.num_blocks()), dev.block_size(), describe(view(dev)).c_str());
    auto phase = std::chrono::seconds(phase_s);

    // 1. one optimized path carries the I/O
    if (!wait_for(dev, [](const auto& v) { return v.size() == 2 && v[0].connected && v[1].connected && only_optimized(v) >= 0; }, 20s))
      throw std::runtime_error("not two connected paths with one optimized: " + describe(view(dev)));
    int opt = only_optimized(view(dev)), other = 1 - opt;
    io_engine eng(dev, pool.at(0), workers, blocks);
    eng.start();
    auto ops = ops_during(dev, phase);
    std::printf("phase 1: %s; ops through each port %llu / %llu\n", describe(view(dev)).c_str(),
                static_cast<unsigned long long>(ops[0]), static_cast<unsigned long long>(ops[1]));
    if (ops[opt] == 0 || ops[other] != 0) check_failed("I/O not only through the optimized path");

    // 2. the optimized gateway killed
    pid_t owner = owner_pid(owner_pid_cmd);
    auto t_kill = steady::now();
    eng.mark(t_kill);
    if (::kill(owner, SIGKILL) != 0) throw std::runtime_error("kill " + std::to_string(owner) + ": " + std::strerror(errno));
    std::printf("SIGKILL to the optimized gateway (pid %d)\n", static_cast<int>(owner));
    if (!wait_for(dev, [&](const auto& v) { return only_optimized(v) == other; }, 30s))
      check_failed("the other path is not optimized 30 s after the kill: {}", describe(view(dev)));
    double to_optimized = secs(t_kill, steady::now());
    ops = ops_during(dev, phase);
    auto r = eng.since_mark();
    std::printf("phase 2: %s; ops through each port %llu / %llu\n", describe(view(dev)).c_str(),
                static_cast<unsigned long long>(ops[0]), static_cast<unsigned long long>(ops[1]));
    std::printf("FAILOVER (nvmfd host): first I/O started after the kill completed after %.2f s, first write after "
                "%.2f s; longest gap between completions %.2f s; the other path optimized after %.2f s\n",
                r.first_any, r.first_write, r.max_gap, to_optimized);
    if (ops[other] == 0) check_failed("no I/O through the surviving path");
    if (r.first_write < 0) check_failed("no write completed after the kill");

    // 3. the killed gateway back: non-optimized, the I/O stays on the optimized path
    auto t_restart = steady::now();
    if (std::system(restart_cmd.c_str()) != 0) throw std::runtime_error("the restart command failed");
    if (!wait_for(dev, [&](const auto& v) { return v[opt].connected && v[opt].ana == ana_state::non_optimized; }, 60s))
      check_failed("the killed path is not back non-optimized 60 s after the restart: {}", describe(view(dev)));
    std::printf("the killed path reconnected non-optimized %.2f s after the restart command\n",
                secs(t_restart, steady::now()));
    ops = ops_during(dev, phase);
    auto v = view(dev);
    std::printf("phase 3: %s; ops through each port %llu / %llu\n", describe(v).c_str(),
                static_cast<unsigned long long>(ops[0]), static_cast<unsigned long long>(ops[1]));
    if (only_optimized(v) != other) check_failed("after the restart, not exactly the surviving path optimized");
    if (ops[other] == 0 || ops[opt] != 0) check_failed("after the restart, I/O not only through the optimized path");

    // 4. everything read back
    eng.stop();
    if (eng.sync_io(bdev_op::flush, 0, nullptr) != 0) check_failed("the final flush failed");
    auto [written, flushed] = eng.written_and_flushed();
    uint64_t checked = 0, bad = eng.verify_all(checked);
    std::printf("%llu ranges of %u KiB written (%llu covered by a flush during the run), %llu I/Os, %llu errors; "
                "final read: %llu of %llu differ\n",
                static_cast<unsigned long long>(written), io_kib, static_cast<unsigned long long>(flushed),
                static_cast<unsigned long long>(eng.completed()), static_cast<unsigned long long>(eng.errors()),
                static_cast<unsigned long long>(bad), static_cast<unsigned long long>(checked));
    if (eng.errors()) check_failed("{} I/O errors or mismatches during the run, first: {}", eng.errors(), eng.first_error());
    if (bad) check_failed("{} ranges differ on the final read", bad);
    rc = failures ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nvmf-gateway-host-io: %s\n", e.what());
  }
  for (auto* e : controllers->list()) (void)controllers->detach(e->name);
  controllers.reset();
  pool.stop();
  return rc;
}
