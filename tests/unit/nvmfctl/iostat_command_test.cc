// nvmfctl iostat: parsing SPDK's bdev_get_iostat result, the rates between two samples, the
// options.
#include <gtest/gtest.h>

#include "apps/nvmfctl/iostat_command.h"

namespace nvmfd::ctl {
namespace {

using nlohmann::json;

json result_at(uint64_t ticks, uint64_t reads, uint64_t writes, uint64_t read_lat_ticks) {
  json bdev = {{"name", "Malloc0"},
               {"bytes_read", reads * 4096},
               {"num_read_ops", reads},
               {"bytes_written", writes * 131072},
               {"num_write_ops", writes},
               {"bytes_unmapped", 0},
               {"num_unmap_ops", 0},
               {"read_latency_ticks", read_lat_ticks},
               {"write_latency_ticks", writes * 50}};
  json r = {{"tick_rate", 1000000}, {"ticks", ticks}};
  r["bdevs"] = json::array({bdev});
  return r;
}

TEST(Iostat, RatesAndLatencyBetweenTwoSamples) {
  auto a = parse_iostat(result_at(1000000, 100, 10, 1000));
  auto b = parse_iostat(result_at(3000000, 2100, 1034, 1000 + 2000 * 25));  // 2 s later
  ASSERT_TRUE(a && b);
  std::string t = iostat_table(*a, *b);
  // 2000 reads + 1024 writes in 2 s: 1512 IOPS, 1000 r/s, 512 w/s; 1000 r/s x 4 KiB = 3.91 MiB/s;
  // 512 w/s x 128 KiB = 64 MiB/s; 25 ticks of 1 us per read, 50 per write.
  EXPECT_NE(t.find("Malloc0"), std::string::npos) << t;
  EXPECT_NE(t.find("1512.0"), std::string::npos) << t;
  EXPECT_NE(t.find("1000.0"), std::string::npos) << t;
  EXPECT_NE(t.find("512.0"), std::string::npos) << t;
  EXPECT_NE(t.find("3.91"), std::string::npos) << t;
  EXPECT_NE(t.find("64.00"), std::string::npos) << t;
  EXPECT_NE(t.find("25.0"), std::string::npos) << t;
  EXPECT_NE(t.find("50.0"), std::string::npos) << t;
}

TEST(Iostat, ANewBdevOrAResetCountsFromZero) {
  auto a = parse_iostat(result_at(1000000, 5000, 0, 0));
  auto b = parse_iostat(result_at(2000000, 300, 0, 0));  // reset: 300 since
  ASSERT_TRUE(a && b);
  EXPECT_NE(iostat_table(*a, *b).find(" 300.0"), std::string::npos);
  iostat_sample empty = *a;
  empty.bdevs.clear();
  EXPECT_NE(iostat_table(empty, *b).find(" 300.0"), std::string::npos);
}

TEST(Iostat, ResultsWithoutSpdksShapeAreRefusedNamingTheField) {
  EXPECT_FALSE(parse_iostat(json::array()));
  json r = result_at(1, 1, 1, 1);
  r.erase("tick_rate");
  EXPECT_NE(parse_iostat(r).err().message.find("tick_rate"), std::string::npos);
  r = result_at(1, 1, 1, 1);
  r["bdevs"][0]["num_read_ops"] = "many";
  EXPECT_NE(parse_iostat(r).err().message.find("Malloc0: num_read_ops"), std::string::npos);
  r = result_at(1, 1, 1, 1);
  r["tick_rate"] = 0;
  EXPECT_FALSE(parse_iostat(r));
}

TEST(Iostat, Options) {
  auto o = iostat_params({"-i", "0.5", "-c", "3", "-b", "Malloc0", "--bdev", "Null0"});
  ASSERT_TRUE(o);
  EXPECT_DOUBLE_EQ(o->interval_s, 0.5);
  EXPECT_EQ(o->count, 3);
  EXPECT_EQ(o->names, (std::vector<std::string>{"Malloc0", "Null0"}));
  for (auto bad : std::vector<std::vector<std::string>>{{"-i", "0"}, {"-i", "x"}, {"-c", "0"}, {"-c"}, {"-x"}})
    EXPECT_FALSE(iostat_params(bad)) << bad[0];
}

}  // namespace
}  // namespace nvmfd::ctl
