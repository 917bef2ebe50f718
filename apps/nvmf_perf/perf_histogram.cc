#include "apps/nvmf_perf/perf_histogram.h"

#include <algorithm>
#include <cmath>

namespace nvmfd::perf {

void latency_histogram::merge(const latency_histogram& o) {
  for (unsigned i = 0; i < bucket_count; ++i) counts_[i] += o.counts_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

uint64_t latency_histogram::rank_for(double p, uint64_t n) {
  if (n == 0) return 0;
  // Percentiles such as 99.9 are not exact in binary: round p / 100 * n to 1e-9 before the
  // ceiling so that 99.9 % of 1000 is rank 999, not 1000.
  long double r = std::ceil(std::round(static_cast<long double>(p) / 100.0L * n * 1e9L) / 1e9L);
  if (r < 1) return 1;
  if (r > static_cast<long double>(n)) return n;
  return static_cast<uint64_t>(r);
}

uint64_t latency_histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  uint64_t rank = rank_for(p, count_);
  uint64_t seen = 0;
  for (unsigned b = 0; b < bucket_count; ++b) {
    seen += counts_[b];
    if (seen >= rank) return std::clamp(bucket_high(b), min_, max_);
  }
  return max_;
}

uint64_t latency_histogram::bucket_low(unsigned b) {
  if (b < sub_count) return b;
  unsigned shift = b / sub_count - 1;
  return (uint64_t{sub_count} + b % sub_count) << shift;
}

uint64_t latency_histogram::bucket_high(unsigned b) {
  if (b < sub_count) return b;
  unsigned shift = b / sub_count - 1;
  return bucket_low(b) + ((uint64_t{1} << shift) - 1);
}

}  // namespace nvmfd::perf
