// perf_report: the latency distribution that --json carries (latency_cdf_us).
#include "apps/nvmf_perf/perf_report.h"

#include <gtest/gtest.h>

namespace nvmfd::perf {
namespace {

TEST(PerfReport, TheCdfRisesToOneOverTheRecordedLatencies) {
  aggregate a;
  for (uint64_t us : {10, 10, 10, 20, 1000}) a.latency.record(us * 1000);
  auto r = figures(a, 4096, 1.0);
  ASSERT_EQ(r.cdf.size(), 3u);  // three buckets hold values
  EXPECT_NEAR(r.cdf[0].second, 0.6, 1e-9);
  EXPECT_NEAR(r.cdf[1].second, 0.8, 1e-9);
  EXPECT_DOUBLE_EQ(r.cdf[2].second, 1.0);
  EXPECT_DOUBLE_EQ(r.cdf[2].first, 1000.0);  // the top bucket's value is kept within max
  EXPECT_GE(r.cdf[0].first, 10.0);
  EXPECT_LE(r.cdf[0].first, 10.0 * 33 / 32);  // a bucket is 1/32 of its magnitude wide
  auto j = row_json(r);
  ASSERT_EQ(j["latency_cdf_us"].size(), 3u);
  EXPECT_DOUBLE_EQ(j["latency_cdf_us"][2][1].get<double>(), 1.0);
  EXPECT_TRUE(figures(aggregate{}, 4096, 1.0).cdf.empty());
}

}  // namespace
}  // namespace nvmfd::perf
