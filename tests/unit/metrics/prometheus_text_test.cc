#include "metrics/prometheus_text.h"

#include <gtest/gtest.h>

#include <array>

#include "metrics/metrics_server.h"

namespace nvmfd::metrics {
namespace {

TEST(PrometheusText, FamilyHeaderThenSamplesWithEscapedLabels) {
  prometheus_text p;
  p.family("nvmfd_x_total", "counter", "An example.");
  p.sample("nvmfd_x_total", {{"bdev", "a\"b\\c\nd"}, {"op", "read"}}, 42);
  p.sample("nvmfd_x_total", {}, 0.25);
  EXPECT_EQ(p.text(),
            "# HELP nvmfd_x_total An example.\n"
            "# TYPE nvmfd_x_total counter\n"
            "nvmfd_x_total{bdev=\"a\\\"b\\\\c\\nd\",op=\"read\"} 42\n"
            "nvmfd_x_total 0.25\n");
}

TEST(PrometheusText, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  prometheus_text p;
  std::array<double, 2> bounds = {1e-5, 2.5e-5};
  std::array<uint64_t, 3> counts = {3, 0, 2};
  p.histogram("h_seconds", {{"op", "read"}}, bounds, counts, 0.5);
  EXPECT_EQ(p.text(),
            "h_seconds_bucket{op=\"read\",le=\"1e-05\"} 3\n"
            "h_seconds_bucket{op=\"read\",le=\"2.5e-05\"} 3\n"
            "h_seconds_bucket{op=\"read\",le=\"+Inf\"} 5\n"
            "h_seconds_sum{op=\"read\"} 0.5\n"
            "h_seconds_count{op=\"read\"} 5\n");
}

TEST(PrometheusText, ValuesReadBackExactly) {
  EXPECT_EQ(format_value(3), "3");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(format_value(1e300), "1e+300");
}

TEST(MetricsAddress, ParsesIpv4AndBracketedIpv6AndRefusesTheRest) {
  auto a = parse_listen_address("127.0.0.1:9464");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 9464);
  auto b = parse_listen_address("[::1]:0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->first, "::1");
  EXPECT_EQ(b->second, 0);
  for (const char* bad : {"", "127.0.0.1", "localhost:80", "::1:80", "[::1]80", "127.0.0.1:", "127.0.0.1:65536",
                          "127.0.0.1:-1", "127.0.0.1:12a", "[::1:80"}) {
    auto r = parse_listen_address(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) EXPECT_NE(r.err().message.find("expected IP:PORT"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace nvmfd::metrics
