#pragma once
// latency_histogram: a log-linear histogram of nanosecond latencies (HdrHistogram's layout
// with 32 linear sub-buckets per power of two), so a percentile is exact to within 1/32 of
// its value (3.1 %) at any magnitude, recording costs a few instructions and allocates
// nothing, and histograms of different workers merge by adding counts.
//
// Values below 32 ns have a bucket each; a value v >= 32 with k = floor(log2 v) falls in one
// of the 32 equal-width buckets that split [2^k, 2^(k+1)). Count, sum, min and max are kept
// exactly. Not thread-safe: one owner records; merge() and the queries run after recording.
#include <array>
#include <cstdint>

namespace nvmfd::perf {

class latency_histogram {
 public:
  static constexpr unsigned sub_bits = 5;
  static constexpr unsigned sub_count = 1u << sub_bits;            // linear sub-buckets
  static constexpr unsigned bucket_count = (64 - sub_bits + 1) * sub_count;

  void record(uint64_t ns) {
    ++counts_[bucket_of(ns)];
    ++count_;
    sum_ += ns;
    if (ns < min_) min_ = ns;
    if (ns > max_) max_ = ns;
  }
  void merge(const latency_histogram& o);
  void clear() { *this = latency_histogram{}; }

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  // The p-th percentile (0 < p <= 100) by nearest rank: a value of the bucket that holds the
  // rank_for(p, count())-th smallest recorded value (the bucket's highest value, kept inside
  // [min(), max()]). 0 when empty.
  uint64_t percentile(double p) const;

  // The 1-based rank that the p-th percentile of n values names: ceil(p / 100 * n), at least 1.
  static uint64_t rank_for(double p, uint64_t n);

  static unsigned bucket_of(uint64_t v) {
    if (v < sub_count) return static_cast<unsigned>(v);
    unsigned k = 63u - static_cast<unsigned>(__builtin_clzll(v));  // floor(log2 v) >= sub_bits
    unsigned shift = k - sub_bits;
    return (shift + 1) * sub_count + static_cast<unsigned>((v >> shift) - sub_count);
  }
  uint64_t count_in(unsigned b) const { return counts_[b]; }
  static uint64_t bucket_low(unsigned b);
  static uint64_t bucket_high(unsigned b);

 private:
  std::array<uint64_t, bucket_count> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace nvmfd::perf
