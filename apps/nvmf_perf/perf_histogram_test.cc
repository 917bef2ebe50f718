#include "apps/nvmf_perf/perf_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace nvmfd::perf {
namespace {

using H = latency_histogram;

TEST(LatencyHistogram, BucketsTileTheRangeWithoutGaps) {
  EXPECT_EQ(H::bucket_of(0), 0u);
  EXPECT_EQ(H::bucket_of(UINT64_MAX), H::bucket_count - 1);
  EXPECT_EQ(H::bucket_high(H::bucket_count - 1), UINT64_MAX);
  for (unsigned b = 0; b + 1 < H::bucket_count; ++b) {
    ASSERT_EQ(H::bucket_high(b) + 1, H::bucket_low(b + 1)) << b;
    ASSERT_EQ(H::bucket_of(H::bucket_low(b)), b);
    ASSERT_EQ(H::bucket_of(H::bucket_high(b)), b);
  }
}

TEST(LatencyHistogram, BucketWidthIsAtMostOneThirtySecondOfItsValues) {
  for (unsigned b = H::sub_count; b < H::bucket_count; ++b) {
    long double width = static_cast<long double>(H::bucket_high(b) - H::bucket_low(b)) + 1;
    ASSERT_LE(width / H::bucket_low(b), 1.0L / H::sub_count) << b;
  }
}

TEST(LatencyHistogram, EmptyReportsZeroes) {
  H h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.percentile(99), 0u);
}

TEST(LatencyHistogram, RankIsTheNearestRank) {
  EXPECT_EQ(H::rank_for(50, 1), 1u);
  EXPECT_EQ(H::rank_for(50, 2), 1u);
  EXPECT_EQ(H::rank_for(50, 3), 2u);
  EXPECT_EQ(H::rank_for(99.9, 1000), 999u);   // not 1000 from 99.9 / 100 * 1000 = 999.0000000000001
  EXPECT_EQ(H::rank_for(99.9, 1001), 1000u);
  EXPECT_EQ(H::rank_for(100, 7), 7u);
  EXPECT_EQ(H::rank_for(0.0001, 7), 1u);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  H h;
  for (uint64_t v = 1; v <= 20; ++v) h.record(v);
  EXPECT_EQ(h.percentile(50), 10u);
  EXPECT_EQ(h.percentile(100), 20u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 20u);
  EXPECT_DOUBLE_EQ(h.mean(), 10.5);
}

// Percentiles against a brute-force sort: the histogram's answer lies in the same bucket as
// the exact nearest-rank value, i.e. within 1/32 of it.
void check_against_sort(std::vector<uint64_t> values) {
  H h;
  for (uint64_t v : values) h.record(v);
  std::sort(values.begin(), values.end());
  ASSERT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
  long double sum = 0;
  for (uint64_t v : values) sum += v;
  EXPECT_NEAR(h.mean(), static_cast<double>(sum / values.size()), 1e-6 * h.mean());
  for (double p : {0.1, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    uint64_t exact = values[H::rank_for(p, values.size()) - 1];
    uint64_t got = h.percentile(p);
    EXPECT_EQ(H::bucket_of(got), H::bucket_of(exact)) << "p" << p << " exact " << exact << " got " << got;
    EXPECT_LE(std::fabs(static_cast<double>(got) - static_cast<double>(exact)), exact / 32.0 + 1) << "p" << p;
  }
}

TEST(LatencyHistogram, PercentilesMatchSortedDataUniform) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<uint64_t> d(1'000, 2'000'000);
  std::vector<uint64_t> v(100'000);
  for (auto& x : v) x = d(rng);
  check_against_sort(v);
}

TEST(LatencyHistogram, PercentilesMatchSortedDataLogNormalWithTail) {
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> d(std::log(30'000.0), 0.6);
  std::uniform_int_distribution<int> tail(0, 999);
  std::vector<uint64_t> v(200'001);
  for (auto& x : v) x = static_cast<uint64_t>(d(rng)) * (tail(rng) == 0 ? 100 : 1);
  check_against_sort(v);
}

TEST(LatencyHistogram, PercentilesMatchSortedDataSmallSets) {
  std::mt19937_64 rng(3);
  for (size_t n : {1u, 2u, 3u, 10u, 99u, 1000u, 1001u}) {
    std::vector<uint64_t> v(n);
    for (auto& x : v) x = (rng() >> 24) >> (rng() % 40);  // up to 2^40 ns (18 min): sums fit
    check_against_sort(v);
  }
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(4);
  H a, b, all;
  for (int i = 0; i < 50'000; ++i) {
    uint64_t x = rng() % 10'000'000;
    (i % 3 ? a : b).record(x);
    all.record(x);
  }
  H m;
  m.merge(a);
  m.merge(b);
  EXPECT_EQ(m.count(), all.count());
  EXPECT_EQ(m.sum(), all.sum());
  EXPECT_EQ(m.min(), all.min());
  EXPECT_EQ(m.max(), all.max());
  for (double p : {1.0, 50.0, 99.0, 99.9}) EXPECT_EQ(m.percentile(p), all.percentile(p));
  H empty;
  m.merge(empty);
  EXPECT_EQ(m.min(), all.min());
}

}  // namespace
}  // namespace nvmfd::perf
