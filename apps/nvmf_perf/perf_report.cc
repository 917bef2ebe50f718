#include "apps/nvmf_perf/perf_report.h"

#include <fmt/format.h>

#include <algorithm>

namespace nvmfd::perf {

void aggregate::add(const worker_stats& w) {
  latency.merge(w.latency);
  reads += w.reads;
  writes += w.writes;
  errors += w.errors;
  cut_off += w.cut_off;
  for (const auto& s : w.statuses) {
    auto it = std::find_if(statuses.begin(), statuses.end(),
                           [&](const status_count& e) { return e.sct == s.sct && e.sc == s.sc; });
    if (it == statuses.end())
      statuses.push_back(s);
    else
      it->count += s.count;
  }
}

row_figures figures(const aggregate& a, uint32_t io_size, double seconds) {
  row_figures r;
  r.ios = a.latency.count();
  r.reads = a.reads;
  r.writes = a.writes;
  r.errors = a.errors + a.cut_off;
  if (seconds > 0) {
    r.iops = static_cast<double>(r.ios) / seconds;
    r.mib_per_s = r.iops * io_size / (1024.0 * 1024.0);
  }
  auto us = [](double ns) { return ns / 1000.0; };
  r.avg_us = us(a.latency.mean());
  r.min_us = us(static_cast<double>(a.latency.min()));
  r.max_us = us(static_cast<double>(a.latency.max()));
  r.p50_us = us(static_cast<double>(a.latency.percentile(50)));
  r.p99_us = us(static_cast<double>(a.latency.percentile(99)));
  r.p99_9_us = us(static_cast<double>(a.latency.percentile(99.9)));
  uint64_t seen = 0, n = a.latency.count();
  for (unsigned b = 0; b < latency_histogram::bucket_count && seen < n; ++b) {
    uint64_t c = a.latency.count_in(b);
    if (c == 0) continue;
    seen += c;
    uint64_t high = std::clamp(latency_histogram::bucket_high(b), a.latency.min(), a.latency.max());
    r.cdf.emplace_back(us(static_cast<double>(high)), static_cast<double>(seen) / static_cast<double>(n));
  }
  return r;
}

std::string format_table(const std::vector<row_figures>& rows, const row_figures& total) {
  size_t w = std::string("Device Information").size();
  for (const auto& r : rows) w = std::max(w, r.label.size());
  auto line = [&](const std::string& label, const row_figures& r) {
    return fmt::format("{:<{}} : {:>12.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f}\n",
                       label, w, r.iops, r.mib_per_s, r.avg_us, r.min_us, r.max_us, r.p50_us, r.p99_us, r.p99_9_us);
  };
  std::string rule(w + 3 + 13 + 7 * 11, '=');
  std::string out;
  out += rule + "\n";
  out += fmt::format("{:<{}}   {:>12} {:>10} {:^65}\n", "", w, "", "", "Latency(us)");
  out += fmt::format("{:<{}} : {:>12} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "Device Information", w,
                     "IOPS", "MiB/s", "Average", "min", "max", "p50", "p99", "p99.9");
  for (const auto& r : rows) out += line(r.label, r);
  out += rule + "\n";
  out += line("Total", total);
  return out;
}

nlohmann::json row_json(const row_figures& r) {
  nlohmann::json j;
  if (r.nsid.value) j["nsid"] = r.nsid.value;
  if (r.cpu >= 0) j["core"] = r.cpu;
  j["ios"] = r.ios;
  j["reads"] = r.reads;
  j["writes"] = r.writes;
  j["errors"] = r.errors;
  j["iops"] = r.iops;
  j["mib_per_s"] = r.mib_per_s;
  j["latency_us"] = {{"average", r.avg_us}, {"min", r.min_us}, {"max", r.max_us},
                     {"p50", r.p50_us},     {"p99", r.p99_us}, {"p99_9", r.p99_9_us}};
  nlohmann::json cdf = nlohmann::json::array();
  for (auto& [v, f] : r.cdf) cdf.push_back({v, f});
  j["latency_cdf_us"] = cdf;
  return j;
}

}  // namespace nvmfd::perf
