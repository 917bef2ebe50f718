#pragma once
// nvmf-perf's command line: spdk_nvme_perf's flags for what applies to NVMe/TCP.
//
//   nvmf-perf -q DEPTH -o IO_SIZE -w read|write|randread|randwrite|rw|randrw [-M READ_PCT]
//             -t SECONDS -r 'trtype:tcp adrfam:ipv4 traddr:... trsvcid:... subnqn:...'
//             [-c CORE_MASK] [-P QPAIRS_PER_NS] [--hdgst] [--ddgst] [--json FILE|-]
//             [--warmup SECONDS] [--psk-path FILE]
//
// Cores: -c must name CPUs this process may run on (its affinity: taskset, cpuset). Without
// -c it runs on one core, the first CPU it may use: spdk_nvme_perf's default is core 0
// alone, and one core keeps that, but under `taskset -c 1` the one core is CPU 1.
//
// parse_command_line() never exits or prints: it returns the options, or asks for the usage
// (help), or names what is wrong (the caller prints it with the usage and exits 2).
#include <cstdint>
#include <string>
#include <vector>

#include "base/core_mask.h"
#include "base/result.h"
#include "host/transport_id.h"
#include "reactor/poll_window.h"

namespace nvmfd::perf {

struct perf_options {
  uint32_t queue_depth = 0;      // -q: I/Os kept outstanding per worker (namespace x queue pair)
  uint32_t io_size = 0;          // -o: bytes per I/O
  std::string workload;          // -w, as given
  bool random = false;
  uint32_t read_pct = 100;       // -M for rw/randrw (default 50); 100 for reads, 0 for writes
  double seconds = 0;            // -t: measured time
  double warmup_seconds = 0;     // --warmup: run before measuring, excluded from the figures
  std::string trid_text;         // -r
  transport_id trid;
  std::string hostnqn;           // "hostnqn:" of -r (as spdk_nvme_perf); empty: nvmfd's own
  poll_settings polling;         // --poll-mode, --poll-us
  std::string core_mask;         // -c as given; without -c, "[N]" of the CPU chosen
  std::vector<int> cpus;         // CPUs of the mask, ascending: one reactor each
  uint32_t qpairs_per_ns = 1;    // -P: I/O queue pairs per core
  bool hdgst = false;
  bool ddgst = false;
  // --dhchap-secret / --dhchap-ctrl-secret: DHHC-1 secrets for DH-HMAC-CHAP, as nvme-cli's.
  std::string dhchap_secret;
  std::string dhchap_ctrl_secret;
  std::string json_path;         // --json: a file, or "-" for stdout (the table then goes to stderr)
  std::string psk_path;          // --psk-path: TLS 1.3 with the PSK of this interchange key file
};

struct command_line {
  perf_options options;
  bool help = false;             // -h: print usage, exit 0
  std::string error;             // non-empty: bad flags; print it and the usage, exit 2
  std::string usage;
};

// allowed: the CPUs this process may run on (allowed_cpus()), ascending.
command_line parse_command_line(int argc, const char* const* argv, const std::vector<int>& allowed);


}  // namespace nvmfd::perf
