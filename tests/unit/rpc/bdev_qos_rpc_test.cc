// bdev_set_qos_limit: params and errors, bdev_get_bdevs' assigned_rate_limits, and the saved
// config that sets the limits again after the bdev's creation.
#include <gtest/gtest.h>

#include "bdev/bdev_registry.h"
#include "rpc/bdev_rpc.h"
#include "rpc_call.h"

namespace nvmfd {
namespace {

class qos_rpc_test : public ::testing::Test {
 protected:
  void SetUp() override {
    add_bdev_methods(methods_, bdevs_);
    ASSERT_EQ(code("bdev_malloc_create", {{"name", "M0"}, {"num_blocks", 256}, {"block_size", 512}}), 0);
  }
  int code(const std::string& m, const json& params) { return test::call_code(methods_, m, params); }
  json limits(const std::string& name) {
    auto r = test::call_method(methods_, "bdev_get_bdevs", {{"name", name}});
    EXPECT_TRUE(r.ok());
    return r.ok() ? (*r)[0]["assigned_rate_limits"] : json();
  }
  static json want(uint64_t ios, uint64_t rw, uint64_t r, uint64_t w) {
    return {{"rw_ios_per_sec", ios}, {"rw_mbytes_per_sec", rw}, {"r_mbytes_per_sec", r}, {"w_mbytes_per_sec", w}};
  }

  bdev_registry bdevs_;
  rpc_method_table methods_;
};

TEST_F(qos_rpc_test, set_shows_and_absent_params_stay) {
  EXPECT_EQ(limits("M0"), want(0, 0, 0, 0));
  ASSERT_EQ(code("bdev_set_qos_limit", {{"name", "M0"}, {"rw_ios_per_sec", 20000}, {"r_mbytes_per_sec", 10}}), 0);
  EXPECT_EQ(limits("M0"), want(20000, 0, 10, 0));
  ASSERT_EQ(code("bdev_set_qos_limit", {{"name", "M0"}, {"w_mbytes_per_sec", 5}, {"rw_mbytes_per_sec", 100}}), 0);
  EXPECT_EQ(limits("M0"), want(20000, 100, 10, 5));
  ASSERT_EQ(code("bdev_set_qos_limit", {{"name", "M0"}, {"rw_ios_per_sec", 0}, {"r_mbytes_per_sec", 0}}), 0);
  EXPECT_EQ(limits("M0"), want(0, 100, 0, 5));
  EXPECT_EQ(bdevs_.find("M0")->get_qos_limits().rw_mbytes_per_sec, 100u);
  ASSERT_EQ(code("bdev_set_qos_limit", {{"name", "M0"}, {"rw_mbytes_per_sec", 0}, {"w_mbytes_per_sec", 0}}), 0);
  EXPECT_EQ(limits("M0"), want(0, 0, 0, 0));
}

TEST_F(qos_rpc_test, errors) {
  EXPECT_EQ(code("bdev_set_qos_limit", {{"name", "nope"}, {"rw_ios_per_sec", 1000}}), -ENODEV);
  for (const json& p : {json::object(),                                              // no name
                        json{{"rw_ios_per_sec", 1000}},                              // no name
                        json{{"name", "M0"}},                                        // no limit
                        json{{"name", true}, {"rw_ios_per_sec", 1000}},              // name not a string
                        json{{"name", "M0"}, {"rw_ios_per_sec", "1000"}},            // not an integer
                        json{{"name", "M0"}, {"rw_ios_per_sec", -1000}},             // negative
                        json{{"name", "M0"}, {"r_mbytes_per_sec", 1.5}},             // fraction
                        json{{"name", "M0"}, {"w_mbytes_per_sec", UINT64_MAX}},      // overflows bytes
                        json{{"name", "M0"}, {"rw_ios_per_sec", 1000}, {"rw_iops", 1}}}) {  // unknown key
    auto r = test::call_method(methods_, "bdev_set_qos_limit", p);
    ASSERT_FALSE(r.ok()) << p.dump();
    EXPECT_EQ(rpc_error_code(r.err()), rpc_error_invalid_params) << p.dump();
    EXPECT_FALSE(r.err().message.empty());
  }
  EXPECT_EQ(limits("M0"), want(0, 0, 0, 0));  // nothing changed by a failed call
}

TEST_F(qos_rpc_test, iops_round_up_to_a_multiple_of_1000_as_spdk) {
  ASSERT_EQ(code("bdev_set_qos_limit", {{"name", "M0"}, {"rw_ios_per_sec", 1500}}), 0);
  EXPECT_EQ(limits("M0"), want(2000, 0, 0, 0));
  ASSERT_EQ(code("bdev_set_qos_limit", {{"name", "M0"}, {"rw_ios_per_sec", 1}}), 0);
  EXPECT_EQ(limits("M0"), want(1000, 0, 0, 0));
}

TEST_F(qos_rpc_test, saved_config_sets_the_limits_after_the_creation) {
  ASSERT_EQ(code("bdev_malloc_create", {{"name", "M1"}, {"num_blocks", 256}, {"block_size", 512}}), 0);
  ASSERT_EQ(code("bdev_set_qos_limit", {{"name", "M1"}, {"rw_ios_per_sec", 3000}, {"w_mbytes_per_sec", 7}}), 0);
  json calls = methods_.find_config_section("bdev")->get_config();
  int created = -1, limited = -1, qos_calls = 0;
  for (int i = 0; i < static_cast<int>(calls.size()); ++i) {
    if (calls[i]["method"] == "bdev_malloc_create" && calls[i]["params"]["name"] == "M1") created = i;
    if (calls[i]["method"] == "bdev_set_qos_limit") {
      ++qos_calls;
      limited = i;
      // As SPDK writes it: only the limits that are set.
      EXPECT_EQ(calls[i]["params"], json({{"name", "M1"}, {"rw_ios_per_sec", 3000}, {"w_mbytes_per_sec", 7}}));
    }
  }
  EXPECT_EQ(qos_calls, 1);  // M0 has no limits
  ASSERT_GE(created, 0);
  EXPECT_GT(limited, created);

  // Replayed into another process's tables, the calls make the same bdevs with the same limits.
  bdev_registry other;
  rpc_method_table t;
  add_bdev_methods(t, other);
  for (auto& c : calls) {
    auto r = test::call_method(t, c["method"], c.value("params", json::object()));
    ASSERT_TRUE(r.ok()) << c.dump() << ": " << r.err().message;
  }
  EXPECT_EQ(other.find("M1")->get_qos_limits(), (qos_limits{3000, 0, 0, 7}));
  EXPECT_FALSE(other.find("M0")->get_qos_limits().any());
}

}  // namespace
}  // namespace nvmfd
