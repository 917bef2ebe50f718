// nvmfd: the NVMe-over-Fabrics (NVMe/TCP) target daemon.
//
//   nvmfd [-c CONFIG.json] [-r RPC_SOCKET] [-m CORE_MASK] [-L LOG_LEVEL]
//         [--poll-mode adaptive|event|always] [--poll-us N] [--interrupt-mode]
//         [--io-backend auto|epoll|uring] [--metrics-address IP:PORT] [--rpc-methods]
//
// Without -m, a reactor runs on every CPU the process may use (its affinity: taskset,
// cpuset); a mask naming any other CPU is refused (exit 2).
//
// Wiring only: reactors, the target, block devices, RPC methods, the config, the RPC
// server; then it waits for SIGINT/SIGTERM and shuts down in reverse order. SIGHUP (systemd's
// ExecReload) changes nothing: it logs that the daemon runs. Under systemd (Type=notify) it
// says READY=1 once the config is loaded and the RPC server is up, STOPPING=1 at the signal,
// and pings the watchdog while WatchdogSec= asks for it (service_notify.h).
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "apps/nvmfd/default_config.h"
#include "apps/nvmfd/service_notify.h"
#include "apps/nvmfd/service_watchdog.h"
#include "base/core_mask.h"
#include "base/log.h"
#include "base/tick_clock.h"
#include "bdev/bdev_registry.h"
#include "bdev/rbd/rbd_image_closer.h"
#include "metrics/metrics_rpc.h"
#include "reactor/loop_thread.h"
#include "reactor/reactor.h"
#include "rpc/bdev_nvme_rpc.h"
#include "rpc/bdev_rbd_rpc.h"
#include "rpc/gateway_rpc.h"
#include "rpc/bdev_rpc.h"
#include "rpc/lvol_rpc.h"
#include "rpc/cdc_rpc.h"
#include "rpc/config_loader.h"
#include "rpc/framework_methods.h"
#include "rpc/keyring_rpc.h"
#include "rpc/nvmf_auth_rpc.h"
#include "rpc/mdns_rpc.h"
#include "rpc/nvmf_rpc.h"
#include "rpc/log_rpc.h"
#include "rpc/reactor_rpc.h"
#include "rpc/stats_rpc.h"
#include "rpc/rpc_server.h"
#include "target/nvmf_target.h"

int main(int argc, char** argv) {
  using namespace nvmfd;
  CLI::App app{"nvmfd: NVMe-over-Fabrics (NVMe/TCP) target"};
  std::string config_path, rpc_path = "/var/tmp/nvmfd.sock", core_mask, log_level = "info";
  app.add_option("-c,--config", config_path, "JSON config (SPDK save_config format); without it, the default config");
  app.add_option("-r,--rpc-socket", rpc_path, "JSON-RPC Unix socket path")->capture_default_str();
  app.add_option("-m,--cpumask", core_mask,
                 "cores to run reactors on, hexadecimal (0x3) or a list ([0,2-3]), all of them among the CPUs "
                 "this process may use (default: every such CPU, e.g. only core 0 under taskset -c 0)");
  app.add_option("-L,--log-level", log_level, "trace, debug, info, warn, error")->capture_default_str();
  poll_settings polling;
  std::string poll_mode_name{to_string(polling.mode)};
  uint64_t poll_us = static_cast<uint64_t>(polling.max_poll.count());
  bool interrupt_mode = false;
  app.add_option("--poll-mode", poll_mode_name,
                 "adaptive: poll for a while after work, then sleep; event: never poll; always: never sleep "
                 "(a core per reactor at 100%, as SPDK)")
      ->check(CLI::IsMember({"adaptive", "event", "always"}))
      ->capture_default_str();
  app.add_option("--poll-us", poll_us, "ceiling of the adaptive polling window, microseconds")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1000000}))
      ->capture_default_str();
  app.add_flag("--interrupt-mode", interrupt_mode, "same as --poll-mode event (SPDK's flag)");
  std::string io_backend_name = "auto";
  app.add_option("--io-backend", io_backend_name,
                 "socket I/O: epoll, uring (io_uring: multishot receive, sends on the ring), or auto: uring "
                 "where the kernel supports it (NVMFD_IO_BACKEND may set what auto means)")
      ->check(CLI::IsMember({"auto", "epoll", "uring"}))
      ->capture_default_str();
  std::string metrics_address;
  app.add_option("--metrics-address", metrics_address,
                 "serve Prometheus metrics at http://IP:PORT/metrics (off by default; also the RPC metrics_set_address)");
  bool list_methods = false;
  app.add_flag("--rpc-methods", list_methods,
               "print the names of the JSON-RPC methods, one per line, and exit (for shell completion)");
  CLI11_PARSE(app, argc, argv);
  polling.mode = interrupt_mode ? poll_mode::event : *parse_poll_mode(poll_mode_name);
  polling.max_poll = std::chrono::microseconds(poll_us);

  (void)tick_clock::rate();  // measured once (20 ms), here rather than when a reactor first asks
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");

  // One reactor per CPU of -m, or per CPU this process may run on (taskset, cpuset).
  auto allowed = allowed_cpus();
  if (!allowed) {
    std::fprintf(stderr, "nvmfd: %s\n", allowed.err().message.c_str());
    return 1;
  }
  auto selected = select_cpus(core_mask, cpu_default::all_allowed, *allowed);
  if (!selected) {
    std::fprintf(stderr, "nvmfd: -m %s: %s\n", core_mask.c_str(), selected.err().message.c_str());
    return 2;
  }
  const std::vector<int> cpus = std::move(selected.value());

  // Signals go to the main thread only: block them before any thread starts.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  json config;
  if (list_methods) {
    config = json::object();  // the method table is all that is wanted
  } else if (!config_path.empty()) {
    auto c = read_config_file(config_path);
    if (!c) {
      std::fprintf(stderr, "nvmfd: %s\n", c.err().message.c_str());
      return 1;
    }
    config = std::move(c.value());
  } else {
    config = default_config();
  }

  io_settings io;
  io.backend = *parse_io_backend(io_backend_name);
  reactor_pool reactors(static_cast<unsigned>(cpus.size()), cpus, polling, io);
  int rc = 0;
  {
    // The RPC thread: a loop outside the pool that may block. RPC handlers, Avahi (mDNS
    // publishing and browsing) and mDNS discovery's events run on it. Declared first, so it
    // outlives everything that runs there (the target keeps the mDNS advertisement alive).
    loop_thread rpc_loop("rpc");
    // The daemon's named keys (keyring_file_add_key); target and host code hold what they use.
    keys::keyring keyring;
    nvmf_target target(reactors);
    target.set_dhchap_key_resolver(keyring_dhchap_resolver(keyring));  // DH-HMAC-CHAP keys by name
    rbd_cluster_registry rbd_clusters;  // outlives the bdevs that use its connections
    bdev_registry bdevs;
    lvol::lvol_manager lvols(reactors, bdevs);  // examines the bdevs the config creates
    nvme_controller_registry nvme_controllers(reactors, bdevs);
    // Gateway groups: after the target (they manage its ANA states) and the bdevs (whose
    // images they take over), so that they go first.
    gateway::gateway_registry gateways(target);
    rpc_method_table methods;
    add_framework_methods(methods);
    add_keyring_methods(methods, keyring);  // first: the sections that name keys load after it
    add_reactor_methods(methods, reactors);
    add_bdev_methods(methods, bdevs);
    add_lvol_methods(methods, lvols);
    add_bdev_rbd_methods(methods, bdevs, rbd_clusters, reactors);
    add_gateway_methods(methods, gateways, rbd_clusters, target);  // before nvmf: its section loads first
    add_bdev_nvme_methods(methods, nvme_controllers, &rpc_loop.loop(), &keyring);  // before nvmf: its config section must load first
    add_nvmf_methods(methods, target, bdevs, &keyring);
    add_mdns_methods(methods, target, &rpc_loop.loop());
    add_stats_methods(methods, reactors, bdevs, target);
    add_log_methods(methods);
    add_cdc_methods(methods, target, nvme_controllers);  // after nvmf: enables on loaded listeners  // its config section loads after nvmf's listeners
    metrics::metrics_service metrics_endpoint(std::make_shared<metrics::metrics_collector>(methods, bdevs, target),
                                              rpc_loop.loop());
    metrics::add_metrics_methods(methods, metrics_endpoint);

    load_config_options load_opts;
    load_opts.warn_only_methods = {"nvmf_publish_mdns_prr",  // no avahi-daemon: run on without mDNS
                                   "bdev_nvme_start_mdns_discovery"};
    if (list_methods) {
      for (const auto& name : methods.names()) std::printf("%s\n", name.c_str());
    } else if (auto l = load_config(config, methods, load_opts); !l) {
      std::fprintf(stderr, "nvmfd: config %s: %s\n", config_path.empty() ? "(default)" : config_path.c_str(),
                   l.err().message.c_str());
      rc = 1;
    } else if (auto m = metrics_address.empty() ? success() : metrics_endpoint.set_address(metrics_address); !m) {
      std::fprintf(stderr, "nvmfd: --metrics-address: %s\n", m.err().message.c_str());
      rc = 1;
    } else if (auto server = rpc_server::start(rpc_path, methods, rpc_loop.loop()); !server) {
      std::fprintf(stderr, "nvmfd: RPC socket %s: %s\n", rpc_path.c_str(), server.err().message.c_str());
      rc = 1;
    } else {
      NVMFD_LOG_INFO("nvmfd {} running on {} reactor(s), core(s) {}, {} socket I/O; RPC on {}", nvmfd_version,
                     reactors.size(), format_cpu_list(cpus), to_string(reactors.backend()), rpc_path);
      notify_ready(fmt::format("running on {} reactor(s); RPC on {}", reactors.size(), rpc_path));
      std::optional<service_watchdog> watchdog;
      // Pings prove the reactors (the data path) alive, from the control reactor: the RPC
      // thread may block for minutes in a handler by design (bdev_nvme connects, Ceph).
      if (auto interval = watchdog_ping_interval())
        watchdog.emplace(reactors, reactors.control(), *interval, notify_watchdog);
      int sig = 0;
      while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
        NVMFD_LOG_INFO("SIGHUP: nothing to reload, still running (RPC on {})", rpc_path);
      }
      notify_stopping(fmt::format("signal {}: shutting down", sig));
      NVMFD_LOG_INFO("signal {}: shutting down", sig);
      if (watchdog) watchdog->stop();
      server.value()->stop();
    }
    metrics_endpoint.stop();  // no RPC runs any more: nothing else touches it
    gateways.stop_all();  // hand the ANA groups over while the listeners still tell the hosts
    target.shutdown();
  }
  // The RBD bdevs' images close in parallel in the background (rbd_image_closer.h): with
  // the cluster gone each takes about three OSD op timeouts, the whole shutdown about that too.
  rbd_image_closer::instance().wait_all(std::chrono::minutes(3));
  reactors.stop();
  return rc;
}
