// nvmf-perf: an NVMe/TCP load generator with spdk_nvme_perf's flags (perf_options.h).
//
// Wiring: one pinned reactor per core of -c; one controller with cores x -P I/O queues
// (queue i on reactor (i - 1) % cores); a worker per (core, namespace, queue) keeping -q I/Os
// outstanding. The main thread waits for the end of -t (after --warmup), Ctrl-C or a failed
// controller; then new I/O stops, in-flight I/O drains (at most drain_time), the controller
// is disconnected, and the figures are printed as a table and, with --json, as JSON.
// Exit status: 0; 1 when an I/O failed, the controller failed or could not be reached;
// 2 for bad flags.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/nvmf_perf/perf_options.h"
#include "apps/nvmf_perf/perf_report.h"
#include "apps/nvmf_perf/perf_worker.h"
#include "base/core_mask.h"
#include "base/log.h"
#include "host/dhchap_key_text.h"
#include "host/host_controller.h"
#include "reactor/reactor.h"
#include "tls/psk_file.h"

namespace {

using namespace nvmfd;
using namespace nvmfd::perf;
using json = nlohmann::json;

constexpr int64_t drain_time_ns = 5'000'000'000;

int64_t seconds_to_ns(double s) { return static_cast<int64_t>(s * 1e9); }

uint64_t mix_seed(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The calling thread on the CPUs of the mask (parse_command_line checked they are allowed).
bool pin_main_thread(const std::vector<int>& cpus, std::string& err) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) {
    if (c >= CPU_SETSIZE) {
      err = fmt::format("core {} is beyond the CPUs this program can pin to", c);
      return false;
    }
    CPU_SET(c, &set);
  }
  if (int e = pthread_setaffinity_np(pthread_self(), sizeof(set), &set); e != 0) {
    err = fmt::format("cannot pin to cores {}: {}", format_cpu_list(cpus), std::strerror(e));
    return false;
  }
  return true;
}

// Namespaces the workload can run on; says on stderr why any other is skipped.
std::vector<remote_namespace> usable_namespaces(const host_controller& c, uint32_t io_size) {
  std::vector<remote_namespace> out;
  for (const auto& ns : c.namespaces()) {
    if (ns.block_size == 0 || io_size % ns.block_size != 0) {
      std::fprintf(stderr, "nvmf-perf: skipping NSID %u: I/O size %u is not a multiple of its block size %u\n",
                   ns.nsid.value, io_size, ns.block_size);
    } else if (ns.num_blocks < io_size / ns.block_size) {
      std::fprintf(stderr, "nvmf-perf: skipping NSID %u: smaller than one I/O\n", ns.nsid.value);
    } else {
      out.push_back(ns);
    }
  }
  return out;
}

std::string device_label(const perf_options& o, nsid_t nsid, int cpu) {
  return fmt::format("{} (addr:{} subnqn:{}) NSID {} from core {:>2}", o.trid.trtype == "rdma" ? "RDMA" : "TCP",
                     o.trid.traddr, o.trid.subnqn, nsid, cpu);
}

json parameters_json(const perf_options& o) {
  return {{"queue_depth", o.queue_depth},     {"io_size", o.io_size},
          {"workload", o.workload},           {"rwmixread", o.read_pct},
          {"time_s", o.seconds},              {"warmup_s", o.warmup_seconds},
          {"transport_id", o.trid.to_string()}, {"core_mask", o.core_mask},
          {"cores", o.cpus},                  {"qpairs_per_ns", o.qpairs_per_ns},
          {"hdgst", o.hdgst},                 {"ddgst", o.ddgst}};
}

double cpu_seconds(const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; }

// This process's CPU time (every thread), to tell how busy the host side was.
struct cpu_sample {
  double user = 0, system = 0;
  int64_t wall_ns = 0;
  static cpu_sample now() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return {cpu_seconds(ru.ru_utime), cpu_seconds(ru.ru_stime), now_ns()};
  }
};

std::string status_text(const status_count& s) {
  return fmt::format("SCT {:#x} SC {:#x}: {}", s.sct, s.sc, s.count);
}

class perf_app {
 public:
  explicit perf_app(const perf_options& o) : o_(o) {}
  int run();

 private:
  result<std::shared_ptr<host_controller>> connect(uint32_t io_queue_size);
  result<void> make_workers(const std::vector<remote_namespace>& nss, uint32_t depth);
  void wait_for_end(const sigset_t& sigs);
  void drain(const sigset_t& sigs);
  int report();

  const perf_options& o_;
  std::unique_ptr<reactor_pool> pool_;
  std::shared_ptr<host_controller> ctrl_;
  std::vector<std::unique_ptr<perf_worker>> workers_;
  run_control ctl_;
  bool interrupted_ = false;
  std::string failure_;
  uint32_t queue_size_ = 0;
  cpu_sample cpu_start_, cpu_stop_;
  size_t io_queue_count_ = 0;
  uint32_t depth_ = 0;
  std::vector<remote_namespace> namespaces_;
};

result<std::shared_ptr<host_controller>> perf_app::connect(uint32_t io_queue_size) {
  controller_options copts;
  copts.hdgst = o_.hdgst;
  copts.ddgst = o_.ddgst;
  copts.num_io_queues = static_cast<uint32_t>(o_.cpus.size()) * o_.qpairs_per_ns;
  copts.hostnqn = o_.hostnqn;
  copts.io_queue_size = io_queue_size;
  if (auto s = set_dhchap_secrets(copts, o_.dhchap_secret, o_.dhchap_ctrl_secret); !s) return s.take_err();
  if (!o_.psk_path.empty()) {
    auto psk = tls::read_psk_file(o_.psk_path);
    if (!psk) return psk.take_err();
    copts.tls_psk = std::make_shared<const tls::configured_psk>(std::move(*psk));
  }
  return host_controller::connect(*pool_, o_.trid, copts);
}

result<void> perf_app::make_workers(const std::vector<remote_namespace>& nss, uint32_t depth) {
  const auto& queues = ctrl_->io_queues();
  // Workers of one namespace start their sequential runs spread over it.
  std::vector<host_queue*> per_core_check(o_.cpus.size(), nullptr);
  uint64_t n = 0;
  for (size_t qi = 0; qi < queues.size(); ++qi) {
    host_queue& q = *queues[qi];
    unsigned r = q.owner().index();
    per_core_check[r] = &q;
    for (size_t j = 0; j < nss.size(); ++j) {
      const auto& ns = nss[j];
      worker_config wc;
      wc.nsid = ns.nsid;
      wc.block_size = ns.block_size;
      wc.num_blocks = ns.num_blocks;
      wc.io_size = o_.io_size;
      wc.depth = depth;
      wc.random = o_.random;
      wc.read_pct = o_.read_pct;
      wc.seed = mix_seed(++n);
      uint64_t units = ns.num_blocks / (o_.io_size / ns.block_size);
      wc.first_unit = units * qi / queues.size();
      workers_.push_back(std::make_unique<perf_worker>(q, o_.cpus[r], wc, ctl_));
    }
  }
  for (size_t r = 0; r < per_core_check.size(); ++r)
    if (!per_core_check[r])
      std::fprintf(stderr, "nvmf-perf: core %d has no I/O queue (the controller granted %zu)\n", o_.cpus[r],
                   queues.size());
  result<void> prep = success();
  for (unsigned r = 0; r < pool_->size(); ++r) {
    pool_->run_on(r, [&] {
      for (auto& w : workers_)
        if (w->reactor_index() == r && prep)
          if (auto p = w->prepare(); !p) prep = p;
    });
  }
  return prep;
}

void perf_app::wait_for_end(const sigset_t& sigs) {
  for (;;) {
    int64_t now = now_ns();
    int64_t stop = ctl_.stop_ns.load();
    if (now >= stop) return;
    if (ctrl_->failed()) {
      failure_ = ctrl_->failure_reason();
      ctl_.stop_ns.store(std::min(stop, now));
      return;
    }
    int64_t wait = std::min<int64_t>(stop - now, 100'000'000);
    timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) {
      interrupted_ = true;
      ctl_.stop_ns.store(std::min(ctl_.stop_ns.load(), now_ns()));
      return;
    }
  }
}

void perf_app::drain(const sigset_t& sigs) {
  int64_t deadline = now_ns() + drain_time_ns;
  for (;;) {
    uint64_t in_flight = 0;
    for (auto& w : workers_) in_flight += w->outstanding();
    if (in_flight == 0 || ctrl_->failed() || now_ns() >= deadline) break;
    timespec ts{0, 5'000'000};
    int sig = sigtimedwait(&sigs, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) break;  // a second Ctrl-C: stop waiting
  }
  if (ctrl_->failed() && failure_.empty()) failure_ = ctrl_->failure_reason();
  ctl_.shutting_down.store(true);
  // Closing healthy queues is not news: keep their "failed: disconnected by the host" quiet.
  auto level = spdlog::get_level();
  if (failure_.empty()) spdlog::set_level(spdlog::level::err);
  ctrl_->disconnect();
  spdlog::set_level(level);
}

int perf_app::report() {
  double seconds = std::max<int64_t>(0, ctl_.stop_ns.load() - ctl_.measure_start_ns) / 1e9;
  std::map<std::pair<int, nsid_t>, aggregate> rows;  // (cpu, nsid)
  aggregate total;
  for (unsigned r = 0; r < pool_->size(); ++r) {
    pool_->run_on(r, [&] {
      for (auto& w : workers_) {
        if (w->reactor_index() != r) continue;
        rows[{w->cpu(), w->config().nsid}].add(w->stats());
        total.add(w->stats());
      }
    });
  }
  std::vector<row_figures> figs;
  json rows_json = json::array();
  for (auto& [key, agg] : rows) {
    row_figures f = figures(agg, o_.io_size, seconds);
    f.cpu = key.first;
    f.nsid = key.second;
    f.label = device_label(o_, f.nsid, f.cpu);
    rows_json.push_back(row_json(f));
    figs.push_back(f);
  }
  row_figures tot = figures(total, o_.io_size, seconds);
  tot.label = "Total";

  bool json_stdout = o_.json_path == "-";
  FILE* out = json_stdout ? stderr : stdout;
  std::fputs(format_table(figs, tot).c_str(), out);
  std::fprintf(out, "measured %.3f s%s\n", seconds, interrupted_ ? " (interrupted)" : "");
  if (total.errors || total.cut_off) {
    std::string st;
    for (const auto& s : total.statuses) st += (st.empty() ? "" : ", ") + status_text(s);
    std::string msg = fmt::format("I/O errors: {}", total.errors);
    if (!st.empty()) msg += " (" + st + ")";
    if (total.cut_off) msg += fmt::format("; {} I/Os had not completed when the drain time ran out", total.cut_off);
    std::fprintf(out, "%s\n", msg.c_str());
  }
  if (!failure_.empty()) std::fprintf(out, "controller failed: %s\n", failure_.c_str());
  std::fflush(out);

  if (!o_.json_path.empty()) {
    json j;
    j["tool"] = "nvmf-perf";
    j["parameters"] = parameters_json(o_);
    j["parameters"]["queue_depth_used"] = depth_;
    j["controller"] = {{"subnqn", o_.trid.subnqn},
                       {"io_queues", io_queue_count_},
                       {"io_queue_size", queue_size_}};
    json nss = json::array();
    for (const auto& ns : namespaces_)
      nss.push_back({{"nsid", ns.nsid.value}, {"block_size", ns.block_size}, {"num_blocks", ns.num_blocks}});
    j["namespaces"] = nss;
    j["duration_s"] = seconds;
    double elapsed = (cpu_stop_.wall_ns - cpu_start_.wall_ns) / 1e9;
    double user = cpu_stop_.user - cpu_start_.user, sys = cpu_stop_.system - cpu_start_.system;
    j["process_cpu"] = {{"user_s", user},
                        {"system_s", sys},
                        {"elapsed_s", elapsed},
                        {"cores_busy", elapsed > 0 ? (user + sys) / elapsed : 0.0}};
    j["interrupted"] = interrupted_;
    j["controller_failure"] = failure_.empty() ? json(nullptr) : json(failure_);
    j["rows"] = rows_json;
    j["total"] = row_json(tot);
    json st = json::array();
    for (const auto& s : total.statuses) st.push_back({{"sct", s.sct}, {"sc", s.sc}, {"count", s.count}});
    j["errors"] = {{"count", total.errors}, {"cut_off_at_exit", total.cut_off}, {"statuses", st}};
    std::string text = j.dump(2) + "\n";
    if (json_stdout) {
      std::fputs(text.c_str(), stdout);
    } else {
      std::ofstream f(o_.json_path);
      f << text;
      if (!f.good()) {
        std::fprintf(stderr, "nvmf-perf: cannot write %s\n", o_.json_path.c_str());
        return 1;
      }
    }
  }
  return (total.errors || total.cut_off || !failure_.empty()) ? 1 : 0;
}

int perf_app::run() {
  // Signals go to this thread only (sigtimedwait): block them before any reactor starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  pool_ = std::make_unique<reactor_pool>(static_cast<unsigned>(o_.cpus.size()), o_.cpus, o_.polling);
  FILE* info = o_.json_path == "-" ? stderr : stdout;
  std::fprintf(info, "Initializing NVMe Controllers\n");
  auto c = connect(o_.queue_depth + 1);
  if (!c) {
    std::fprintf(stderr, "nvmf-perf: cannot connect to %s: %s\n", o_.trid.to_string().c_str(), c.err().message.c_str());
    return 1;
  }
  ctrl_ = std::move(c.value());
  if (ctrl_->io_queues().empty()) {
    std::fprintf(stderr, "nvmf-perf: %s has no I/O queues (a discovery subsystem?)\n", o_.trid.subnqn.c_str());
    return 1;
  }
  if (o_.io_size > ctrl_->max_transfer_bytes()) {
    std::fprintf(stderr, "nvmf-perf: -o %u exceeds the controller's maximum transfer size (MDTS) of %u bytes\n",
                 o_.io_size, ctrl_->max_transfer_bytes());
    return 1;
  }
  namespaces_ = usable_namespaces(*ctrl_, o_.io_size);
  if (namespaces_.empty()) {
    std::fprintf(stderr, "nvmf-perf: no active namespace of %s can take %u-byte I/O\n", o_.trid.subnqn.c_str(),
                 o_.io_size);
    return 1;
  }
  // Each queue carries one worker per namespace: with several namespaces it needs more room.
  uint64_t need = uint64_t{o_.queue_depth} * namespaces_.size() + 1;
  if (need > o_.queue_depth + 1 && ctrl_->io_queues().front()->queue_size() < need) {
    ctrl_->disconnect();
    ctrl_.reset();
    auto again = connect(static_cast<uint32_t>(std::min<uint64_t>(need, 65535)));
    if (!again) {
      std::fprintf(stderr, "nvmf-perf: cannot connect to %s: %s\n", o_.trid.to_string().c_str(),
                   again.err().message.c_str());
      return 1;
    }
    ctrl_ = std::move(again.value());
    namespaces_ = usable_namespaces(*ctrl_, o_.io_size);
    if (namespaces_.empty()) return 1;
  }
  queue_size_ = ctrl_->io_queues().front()->queue_size();
  io_queue_count_ = ctrl_->io_queue_count();
  depth_ = std::min<uint32_t>(o_.queue_depth, (queue_size_ - 1) / static_cast<uint32_t>(namespaces_.size()));
  if (depth_ == 0) {
    std::fprintf(stderr, "nvmf-perf: queues of %u entries cannot carry %zu namespaces\n", queue_size_,
                 namespaces_.size());
    return 1;
  }
  if (depth_ < o_.queue_depth)
    std::fprintf(stderr,
                 "nvmf-perf: the controller grants queues of %u entries: %u I/Os per namespace per queue pair, not %u\n",
                 queue_size_, depth_, o_.queue_depth);
  std::fprintf(info, "Attached to NVMe over Fabrics controller at %s:%s: %s (%zu I/O queues of %u)\n",
               o_.trid.traddr.c_str(), o_.trid.trsvcid.c_str(), o_.trid.subnqn.c_str(), ctrl_->io_queue_count(),
               queue_size_);
  if (auto w = make_workers(namespaces_, depth_); !w) {
    std::fprintf(stderr, "nvmf-perf: %s\n", w.err().message.c_str());
    return 1;
  }
  for (const auto& ns : namespaces_)
    for (int cpu : o_.cpus)
      std::fprintf(info, "Associating %s with lcore %d\n", device_label(o_, ns.nsid, cpu).c_str(), cpu);
  std::fprintf(info, "Initialization complete. Launching workers.\n");
  std::fflush(info);

  cpu_start_ = cpu_sample::now();
  int64_t t0 = cpu_start_.wall_ns;
  ctl_.measure_start_ns = t0 + seconds_to_ns(o_.warmup_seconds);
  ctl_.stop_ns.store(ctl_.measure_start_ns + seconds_to_ns(o_.seconds));
  for (unsigned r = 0; r < pool_->size(); ++r)
    pool_->run_on(r, [&] {
      for (auto& w : workers_)
        if (w->reactor_index() == r) w->start();
    });
  wait_for_end(sigs);
  cpu_stop_ = cpu_sample::now();
  drain(sigs);
  int rc = report();
  ctrl_.reset();
  workers_.clear();
  pool_->stop();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  auto allowed = allowed_cpus();
  if (!allowed) {
    std::fprintf(stderr, "nvmf-perf: %s\n", allowed.err().message.c_str());
    return 1;
  }
  auto cl = parse_command_line(argc, argv, *allowed);
  if (cl.help) {
    std::fputs(cl.usage.c_str(), stdout);
    return 0;
  }
  if (!cl.error.empty()) {
    std::fprintf(stderr, "nvmf-perf: %s\n\n%s", cl.error.c_str(), cl.usage.c_str());
    return 2;
  }
  std::string err;
  if (!pin_main_thread(cl.options.cpus, err)) {
    std::fprintf(stderr, "nvmf-perf: -c %s: %s\n\n%s", cl.options.core_mask.c_str(), err.c_str(), cl.usage.c_str());
    return 2;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("nvmf-perf"));
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
  perf_app app(cl.options);
  return app.run();
}
