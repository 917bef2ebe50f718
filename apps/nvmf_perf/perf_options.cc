#include "apps/nvmf_perf/perf_options.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace nvmfd::perf {

namespace {

// Takes "hostnqn:NQN" out of a transport ID string (spdk_nvme_perf reads it from -r too).
std::string take_hostnqn(std::string& trid) {
  std::string kept, hostnqn;
  size_t pos = 0;
  while (pos < trid.size()) {
    size_t end = trid.find_first_of(" \t", pos);
    if (end == std::string::npos) end = trid.size();
    std::string word = trid.substr(pos, end - pos);
    if (word.rfind("hostnqn:", 0) == 0)
      hostnqn = word.substr(8);
    else if (!word.empty())
      kept += (kept.empty() ? "" : " ") + word;
    pos = end + 1;
  }
  trid = kept;
  return hostnqn;
}

}  // namespace

command_line parse_command_line(int argc, const char* const* argv, const std::vector<int>& allowed) {
  command_line out;
  perf_options& o = out.options;
  int read_pct = -1;
  CLI::App app{"nvmf-perf: NVMe/TCP load generator (spdk_nvme_perf's flags)", "nvmf-perf"};
  app.add_option("-q,--io-depth", o.queue_depth, "I/Os kept outstanding per namespace per queue pair")
      ->required()->check(CLI::Range(1u, 65535u));
  app.add_option("-o,--io-size", o.io_size, "I/O size in bytes (a multiple of the namespace block size)")
      ->required()->check(CLI::Range(1u, 1u << 30));
  app.add_option("-w,--io-pattern", o.workload, "read, write, randread, randwrite, rw, randrw")
      ->required()->check(CLI::IsMember({"read", "write", "randread", "randwrite", "rw", "randrw"}));
  app.add_option("-M,--rwmixread", read_pct, "percentage of reads for rw/randrw (default 50)")
      ->check(CLI::Range(0, 100));
  app.add_option("-t,--time", o.seconds, "measured time in seconds")->required()->check(CLI::PositiveNumber);
  app.add_option("-r,--transport", o.trid_text,
                 "transport ID: 'trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:4420 subnqn:NQN'")
      ->required();
  app.add_option("-c,--core-mask", o.core_mask,
                 "cores to run on, hexadecimal (0x3) or a list ([0,2-3]), among the CPUs this process may use "
                 "(default: the first of those, one core: core 0 unless taskset or a cpuset says otherwise)");
  app.add_option("-P,--num-qpairs", o.qpairs_per_ns, "I/O queue pairs per core")
      ->capture_default_str()->check(CLI::Range(1u, 1024u));
  app.add_flag("--hdgst", o.hdgst, "enable the NVMe/TCP header digest");
  app.add_flag("--ddgst", o.ddgst, "enable the NVMe/TCP data digest");
  app.add_option("--psk-path", o.psk_path,
                 "TLS 1.3 with the PSK of this interchange key file (NVMeTLSkey-1:..., mode 0600), as spdk_nvme_perf");
  app.add_option("--json", o.json_path, "also write the results as JSON to FILE ('-': stdout)");
  app.add_option("--warmup", o.warmup_seconds, "seconds run before measuring, excluded from the figures")
      ->check(CLI::NonNegativeNumber);
  std::string poll_mode_name{to_string(o.polling.mode)};
  uint64_t poll_us = static_cast<uint64_t>(o.polling.max_poll.count());
  app.add_option("--poll-mode", poll_mode_name,
                 "reactor polling: adaptive (poll after work, sleep when idle), event (never poll), always "
                 "(never sleep, as spdk_nvme_perf)")
      ->check(CLI::IsMember({"adaptive", "event", "always"}))
      ->capture_default_str();
  app.add_option("--poll-us", poll_us, "ceiling of the adaptive polling window, microseconds")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1000000}))
      ->capture_default_str();
  app.add_option("--dhchap-secret", o.dhchap_secret, "DH-HMAC-CHAP secret of the host (DHHC-1:..:..:)");
  app.add_option("--dhchap-ctrl-secret", o.dhchap_ctrl_secret,
                 "DH-HMAC-CHAP secret of the controller (bidirectional authentication)");
  out.usage = app.help();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.help = true;
    return out;
  } catch (const CLI::CallForAllHelp&) {
    out.help = true;
    return out;
  } catch (const CLI::ParseError& e) {
    out.error = e.what();
    return out;
  }

  o.random = o.workload.rfind("rand", 0) == 0;
  std::string base = o.random ? o.workload.substr(4) : o.workload;
  if (base == "rw") {
    o.read_pct = read_pct < 0 ? 50 : static_cast<uint32_t>(read_pct);
  } else {
    if (read_pct >= 0 && read_pct != (base == "read" ? 100 : 0)) {
      out.error = fmt::format("-M applies to rw and randrw, not to {}", o.workload);
      return out;
    }
    o.read_pct = base == "read" ? 100 : 0;
  }
  if (!std::isfinite(o.seconds) || o.seconds > 1e7 || !std::isfinite(o.warmup_seconds) || o.warmup_seconds > 1e7) {
    out.error = "-t and --warmup must be below 10^7 seconds";
    return out;
  }
  auto cpus = select_cpus(o.core_mask, cpu_default::first_allowed, allowed);
  if (!cpus) {
    out.error = o.core_mask.empty() ? cpus.err().message : fmt::format("-c {}: {}", o.core_mask, cpus.err().message);
    return out;
  }
  o.cpus = std::move(cpus.value());
  if (o.core_mask.empty()) o.core_mask = "[" + format_cpu_list(o.cpus) + "]";
  o.polling = {*parse_poll_mode(poll_mode_name), std::chrono::microseconds(poll_us)};
  std::string trid_text = o.trid_text;
  o.hostnqn = take_hostnqn(trid_text);
  auto trid = transport_id::parse(trid_text);
  if (!trid) {
    out.error = fmt::format("-r: {}", trid.err().message);
    return out;
  }
  o.trid = std::move(trid.value());
  if (o.trid.traddr.empty() || o.trid.subnqn.empty()) {
    out.error = "-r: the transport ID needs traddr and subnqn";
    return out;
  }
  return out;
}

}  // namespace nvmfd::perf
