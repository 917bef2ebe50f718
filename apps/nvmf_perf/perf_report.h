#pragma once
// The figures nvmf-perf prints: per (namespace, core) rows and a total, as spdk_nvme_perf's
// table (with percentiles added) and as JSON with the same numbers. Pure functions of the
// workers' stats; no I/O.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/nvmf_perf/perf_histogram.h"
#include "apps/nvmf_perf/perf_worker.h"

namespace nvmfd::perf {

// The stats of several workers added up.
struct aggregate {
  latency_histogram latency;
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t errors = 0;
  uint64_t cut_off = 0;
  std::vector<status_count> statuses;

  void add(const worker_stats& w);
};

struct row_figures {
  std::string label;
  nsid_t nsid;                      // 0 in the total row
  int cpu = -1;                     // -1 in the total row
  uint64_t ios = 0;
  uint64_t reads = 0;
  uint64_t writes = 0;
  uint64_t errors = 0;
  double iops = 0;
  double mib_per_s = 0;
  double avg_us = 0, min_us = 0, max_us = 0, p50_us = 0, p99_us = 0, p99_9_us = 0;
  // The latency distribution: for each histogram bucket that holds values, its highest value
  // (us, kept within min..max) and the fraction of all I/Os at or below it; ascending.
  std::vector<std::pair<double, double>> cdf;
};

// IOPS and MiB/s over `seconds` (0 when seconds <= 0); latencies in microseconds.
row_figures figures(const aggregate& a, uint32_t io_size, double seconds);

// spdk_nvme_perf's table: a header, one line per row, a rule, the total.
std::string format_table(const std::vector<row_figures>& rows, const row_figures& total);

nlohmann::json row_json(const row_figures& r);

}  // namespace nvmfd::perf
