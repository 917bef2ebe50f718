#pragma once
// nvmfctl iostat: a live per-bdev table from bdev_get_iostat, as SPDK's scripts/iostat.py:
//   nvmfctl [-s SOCKET] iostat [-i SECONDS] [-c COUNT] [-b BDEV]...
// Every SECONDS (default 1) one table of what happened since the previous sample: per bdev
// IOPS (reads + writes + unmaps) and reads/s, writes/s, read and write MiB/s, and the average
// read and write latency in microseconds (latency ticks / ops / tick_rate). The first table
// comes after the first interval (rates need two samples). COUNT tables, then exit 0 (default:
// until interrupted). -b: only these bdevs (bdev_get_iostat's `names`).
// Input: SPDK's bdev_get_iostat result, {"tick_rate", "ticks", "bdevs": [{"name",
// "bytes_read", "num_read_ops", "bytes_written", "num_write_ops", "bytes_unmapped",
// "num_unmap_ops", "read_latency_ticks", "write_latency_ticks", ...}]}.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "rpc_client.h"

namespace nvmfd::ctl {

struct bdev_io_counters {
  uint64_t bytes_read = 0, num_read_ops = 0, bytes_written = 0, num_write_ops = 0;
  uint64_t bytes_unmapped = 0, num_unmap_ops = 0;
  uint64_t read_latency_ticks = 0, write_latency_ticks = 0;
};

struct iostat_sample {
  uint64_t tick_rate = 0;  // ticks per second
  uint64_t ticks = 0;      // when the sample was taken
  std::map<std::string, bdev_io_counters> bdevs;
};

// protocol_error naming the field when the result does not have SPDK's shape.
result<iostat_sample> parse_iostat(const nlohmann::json& result);
// The table of what happened between two samples of the same daemon (bdevs in `now` only;
// one that is new, or whose counters went back (reset), counts from zero).
std::string iostat_table(const iostat_sample& before, const iostat_sample& now);

struct iostat_options {
  double interval_s = 1.0;
  long count = -1;  // tables to print; < 0: until interrupted
  std::vector<std::string> names;
};
// invalid_argument naming the problem.
result<iostat_options> iostat_params(const std::vector<std::string>& args);
int iostat_command(rpc_client& client, const std::vector<std::string>& args);

}  // namespace nvmfd::ctl
