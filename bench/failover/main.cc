// nvmf-failover-bench: how long I/O stops when a path goes away, host and target in one
// process over loopback (path A: 127.0.0.1; path B: 127.0.0.2 behind a link_proxy on
// 127.0.0.3, whose link can be cut silently).
//
// A pump keeps --qd 4 KiB reads in flight on the multipath bdev (active_passive), so all I/O
// goes through the current path. Each sample triggers one event and measures the time from
// the trigger to the first I/O completed through the other path:
//   ana_change        the current path's listener is set ANA inaccessible (an RPC on the
//                     target; the host learns it from the ANA status of its I/O and the AEN)
//   listener_removed  the current path's listener is removed (its connections are closed)
//   link_cut          the current path's link goes silent (nothing is closed: only the host's
//                     Keep Alive timeout tells), once per --kato-ms value
// Baseline from the same run: the mean latency of the pump's reads before the events. After
// each sample the path is restored and I/O is back on it before the next one. Every I/O
// error is counted (there must be none). Output: a table, and JSON with --json.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "base/log.h"
#include "base/tick_clock.h"
#include "bdev/bdev_registry.h"
#include "host/nvme_controller_registry.h"
#include "reactor/reactor.h"
#include "rpc/bdev_nvme_rpc.h"
#include "rpc/bdev_rpc.h"
#include "rpc/nvmf_rpc.h"
#include "target/nvmf_target.h"
#include "tests/host/free_port.h"
#include "tests/host/link_proxy.h"

namespace {

using namespace nvmfd;
using namespace std::chrono_literals;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:failover";
constexpr const char* addr_a = "127.0.0.1";
constexpr const char* addr_b = "127.0.0.2";
constexpr const char* addr_proxy = "127.0.0.3";

json call(rpc_method_table& m, const std::string& method, const json& params) {
  auto r = (*m.find(method))(params);
  if (!r) throw std::runtime_error(method + ": " + r.err().message);
  return *r;
}

// Keeps `qd` reads in flight on reactor 0 until stopped.
class io_pump final : public bdev_io_callback {
 public:
  io_pump(bdev& b, reactor& r, unsigned qd) : b_(b), r_(r), buf_(size_t{qd} * 4096), ios_(qd) {
    for (unsigned i = 0; i < qd; ++i) {
      bdev_io& io = ios_[i];
      io.op = bdev_op::read;
      io.num_blocks = 4096 / b.block_size();
      io.offset_blocks = (uint64_t{i} * 7919 * io.num_blocks) % (b.num_blocks() - io.num_blocks);
      io.buf = buf_.data() + size_t{i} * 4096;
      io.owner = &r;
      io.done = this;
    }
  }
  void start() {
    running_ = true;
    inflight_ = ios_.size();
    r_.post([this] {
      for (auto& io : ios_) b_.submit(io);
    });
  }
  void stop() {
    running_ = false;
    while (inflight_.load() > 0) std::this_thread::sleep_for(1ms);
  }
  void on_bdev_io_done(bdev_io& io) override {
    if (io.status != 0) ++errors_;
    if (!running_) {
      --inflight_;
      return;
    }
    io.offset_blocks = (io.offset_blocks + 104729 * io.num_blocks) % (b_.num_blocks() - io.num_blocks);
    b_.submit(io);
  }
  uint64_t errors() const { return errors_.load(); }

 private:
  bdev& b_;
  reactor& r_;
  std::vector<std::byte> buf_;
  std::vector<bdev_io> ios_;
  std::atomic<bool> running_{false};
  std::atomic<size_t> inflight_{0};
  std::atomic<uint64_t> errors_{0};
};

struct bench {
  unsigned qd = 32;
  unsigned samples = 5;
  std::vector<unsigned> katos{1000, 3000};

  reactor_pool target_pool{1};
  std::unique_ptr<nvmf_target> target_owner = std::make_unique<nvmf_target>(target_pool);
  nvmf_target& target = *target_owner;
  bdev_registry target_bdevs;
  rpc_method_table tm;
  std::string port;
  std::unique_ptr<test::link_proxy> proxy;

  reactor_pool host_pool{1};
  bdev_registry host_bdevs;
  std::unique_ptr<nvme_controller_registry> controllers;
  rpc_method_table hm;

  ~bench() {
    drop_host();
    proxy.reset();
    target.shutdown();
    target_owner.reset();  // its teardown runs on its reactors: before they stop
    host_pool.stop();
    target_pool.stop();
  }

  json listen_address(const std::string& traddr) {
    return {{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", traddr}, {"trsvcid", port}};
  }
  void set_ana(const std::string& traddr, const char* state) {
    call(tm, "nvmf_subsystem_listener_set_ana_state",
         {{"nqn", nqn}, {"listen_address", listen_address(traddr)}, {"ana_state", state}});
  }

  void setup_target() {
    add_bdev_methods(tm, target_bdevs);
    add_nvmf_methods(tm, target, target_bdevs);
    call(tm, "nvmf_create_transport", {{"trtype", "TCP"}});
    call(tm, "bdev_malloc_create", {{"name", "Shared"}, {"block_size", 4096}, {"num_blocks", 16384}});
    call(tm, "nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}, {"ana_reporting", true}});
    call(tm, "nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Shared"}, {"anagrpid", 1}}}});
    port = std::to_string(test::free_port());
    for (auto* a : {addr_a, addr_b})
      call(tm, "nvmf_subsystem_add_listener", {{"nqn", nqn}, {"listen_address", listen_address(a)}});
    proxy = std::make_unique<test::link_proxy>(addr_proxy, addr_b, static_cast<uint16_t>(std::stoi(port)));
  }

  // A fresh host with Keep Alive timeout kato_ms and both paths attached.
  void drop_host() {
    if (!controllers) return;
    for (auto* e : controllers->list()) (void)controllers->detach(e->name);
    controllers.reset();
  }
  void setup_host(unsigned kato_ms) {
    drop_host();
    hm = rpc_method_table{};
    controllers = std::make_unique<nvme_controller_registry>(host_pool, host_bdevs);
    add_bdev_nvme_methods(hm, *controllers);
    call(hm, "bdev_nvme_set_options", {{"keep_alive_timeout_ms", kato_ms}, {"reconnect_delay_sec", 1}});
    json a = {{"name", "Nvme0"}, {"trtype", "tcp"}, {"traddr", addr_a}, {"trsvcid", port}, {"subnqn", nqn},
              {"fabrics_connect_timeout_us", 2000000}};
    call(hm, "bdev_nvme_attach_controller", a);
    a["traddr"] = addr_proxy;
    a["trsvcid"] = std::to_string(proxy->port());
    a["multipath"] = "multipath";
    call(hm, "bdev_nvme_attach_controller", a);
  }

  nvme_bdev& dev() { return *controllers->find_bdev("Nvme0n1").second; }
  // Reads completed through the path whose address is traddr.
  uint64_t reads_via(const std::string& traddr) {
    auto t = dev().paths();
    for (auto& p : t->paths)
      if (p.path->get_status().trid.traddr == traddr) return p.stats->totals().num_read_ops;
    return 0;
  }
  double mean_read_latency_us() {
    uint64_t ticks = 0, n = 0;
    for (auto& p : dev().paths()->paths) {
      auto s = p.stats->totals();
      ticks += s.read_latency_ticks, n += s.num_read_ops;
    }
    return n ? static_cast<double>(tick_clock::to_ns(ticks)) / 1000.0 / static_cast<double>(n) : 0;
  }
  // Waits until reads flow through traddr (and, if only, through nothing else).
  bool flowing_only_via(const std::string& traddr, const std::string& other, std::chrono::seconds limit) {
    auto deadline = steady::now() + limit;
    while (steady::now() < deadline) {
      uint64_t a0 = reads_via(traddr), o0 = reads_via(other);
      std::this_thread::sleep_for(100ms);
      if (reads_via(traddr) > a0 + 10 && reads_via(other) == o0) return true;
    }
    return false;
  }
  // Milliseconds from trigger() to the first read completed through `to`.
  double time_to_flow(const std::function<void()>& trigger, const std::string& to) {
    uint64_t before = reads_via(to);
    auto t0 = steady::now();
    trigger();
    while (reads_via(to) == before) {
      if (steady::now() - t0 > 60s) return -1;
      std::this_thread::sleep_for(20us);
    }
    return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
  }
  void prefer(const std::string& traddr, const std::string& svc) {
    call(hm, "bdev_nvme_set_preferred_path", {{"name", "Nvme0n1"}, {"cntlid", 0}, {"traddr", traddr}, {"trsvcid", svc}});
  }
};

json summarize(const std::string& event, unsigned kato, std::vector<double> ms, double baseline_us) {
  std::sort(ms.begin(), ms.end());
  double median = ms.empty() ? -1 : ms[ms.size() / 2];
  json j = {{"event", event},         {"kato_ms", kato},           {"samples_ms", ms},
            {"median_ms", median},    {"min_ms", ms.empty() ? -1 : ms.front()},
            {"max_ms", ms.empty() ? -1 : ms.back()},
            {"median_over_io_latency", baseline_us > 0 ? median * 1000.0 / baseline_us : 0}};
  if (event == "link_cut") j["median_over_kato"] = median / kato;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"nvmf-failover-bench: time from a path event to I/O flowing on the other path"};
  bench b;
  std::string json_out;
  app.add_option("--qd", b.qd, "reads in flight")->check(CLI::Range(1u, 128u));
  app.add_option("--samples", b.samples, "samples per event")->check(CLI::Range(1u, 100u));
  app.add_option("--kato-ms", b.katos, "Keep Alive timeouts to measure a link cut with");
  app.add_option("--json", json_out, "write the results here");
  CLI11_PARSE(app, argc, argv);
  if (!getenv("FAILOVER_BENCH_LOG")) spdlog::set_level(spdlog::level::err);  // the events are expected

  try {
    b.setup_target();
    json results = json::array();
    uint64_t errors = 0;
    double baseline_us = 0;
    for (size_t k = 0; k < b.katos.size(); ++k) {
      unsigned kato = b.katos[k];
      b.setup_host(kato);
      const std::string svc_a = b.port, svc_b = std::to_string(b.proxy->port());
      io_pump pump(b.dev(), b.host_pool.at(0), b.qd);
      pump.start();
      if (!b.flowing_only_via(addr_a, addr_proxy, 10s)) throw std::runtime_error("no I/O through path A");
      std::this_thread::sleep_for(1s);
      if (k == 0) baseline_us = b.mean_read_latency_us();

      if (k == 0) {
        std::vector<double> ana, removed;
        for (unsigned i = 0; i < b.samples; ++i) {
          ana.push_back(b.time_to_flow([&] { b.set_ana(addr_a, "inaccessible"); }, addr_proxy));
          b.set_ana(addr_a, "optimized");
          if (!b.flowing_only_via(addr_a, addr_proxy, 20s)) throw std::runtime_error("I/O did not return to A");
        }
        for (unsigned i = 0; i < b.samples; ++i) {
          removed.push_back(b.time_to_flow(
              [&] {
                call(b.tm, "nvmf_subsystem_remove_listener", {{"nqn", nqn}, {"listen_address", b.listen_address(addr_a)}});
              },
              addr_proxy));
          call(b.tm, "nvmf_subsystem_add_listener", {{"nqn", nqn}, {"listen_address", b.listen_address(addr_a)}});
          if (!b.flowing_only_via(addr_a, addr_proxy, 30s)) throw std::runtime_error("I/O did not return to A");
        }
        results.push_back(summarize("ana_change", kato, ana, baseline_us));
        results.push_back(summarize("listener_removed", kato, removed, baseline_us));
      }
      // Link cut on B, the preferred path now; A takes over.
      b.prefer(addr_proxy, svc_b);
      if (!b.flowing_only_via(addr_proxy, addr_a, 20s)) throw std::runtime_error("no I/O through path B");
      std::vector<double> cut;
      for (unsigned i = 0; i < b.samples; ++i) {
        cut.push_back(b.time_to_flow([&] { b.proxy->cut(); }, addr_a));
        b.proxy->restore();
        if (!b.flowing_only_via(addr_proxy, addr_a, 30s)) throw std::runtime_error("I/O did not return to B");
      }
      results.push_back(summarize("link_cut", kato, cut, baseline_us));
      pump.stop();
      errors += pump.errors();
    }
    b.drop_host();

    json out = {{"qd", b.qd}, {"samples", b.samples}, {"baseline_read_latency_us", baseline_us},
                {"io_errors", errors}, {"events", results}};
    std::printf("baseline: mean 4 KiB read latency %.1f us at QD %u; I/O errors: %llu\n", baseline_us, b.qd,
                static_cast<unsigned long long>(errors));
    std::printf("%-17s %8s %10s %10s %10s %12s\n", "event", "KATO ms", "median ms", "min ms", "max ms", "x latency");
    for (auto& r : results)
      std::printf("%-17s %8u %10.1f %10.1f %10.1f %12.0f\n", r["event"].get<std::string>().c_str(),
                  r["kato_ms"].get<unsigned>(), r["median_ms"].get<double>(), r["min_ms"].get<double>(),
                  r["max_ms"].get<double>(), r["median_over_io_latency"].get<double>());
    if (!json_out.empty()) std::ofstream(json_out) << out.dump(2) << "\n";
    return errors == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nvmf-failover-bench: %s\n", e.what());
    return 1;
  }
}
