// bdev_volatile_cache_create / _delete: params, errors, bdev_get_bdevs, and the saved
// config that recreates the bdev.
#include <gtest/gtest.h>

#include "../bdev/temp_file.h"
#include "bdev/bdev_registry.h"
#include "bdev/volatile_cache_bdev.h"
#include "rpc/bdev_rpc.h"

namespace nvmfd {
namespace {

class volatile_cache_rpc_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(file_.create("/tmp", 64 * 1024));
    add_bdev_methods(methods_, bdevs_);
  }
  result<json> call(const std::string& m, const json& params) {
    const rpc_handler* h = methods_.find(m);
    EXPECT_NE(h, nullptr) << m;
    return (*h)(params);
  }
  // The JSON-RPC error code of a failed call (0 if it succeeded).
  int code(const std::string& m, const json& params) {
    auto r = call(m, params);
    return r.ok() ? 0 : rpc_error_code(r.err());
  }

  test::temp_file file_;
  bdev_registry bdevs_;
  rpc_method_table methods_;
};

TEST_F(volatile_cache_rpc_test, create_describe_delete) {
  auto r = call("bdev_volatile_cache_create", {{"name", "vc0"}, {"filename", file_.path()}});
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(*r, json("vc0"));
  auto b = std::dynamic_pointer_cast<volatile_cache_bdev>(bdevs_.find("vc0"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->block_size(), 512u);  // the default
  EXPECT_EQ(b->num_blocks(), 128u);

  auto got = call("bdev_get_bdevs", {{"name", "vc0"}});
  ASSERT_TRUE(got.ok());
  const json& d = (*got)[0];
  EXPECT_EQ(d["product_name"], "Volatile cache disk");
  EXPECT_EQ(d["volatile_write_cache"], true);
  EXPECT_EQ(d["driver_specific"]["volatile_cache"]["filename"], file_.path());
  EXPECT_EQ(d["driver_specific"]["volatile_cache"]["cached_blocks"], 0);

  // Only this kind's delete removes it.
  EXPECT_EQ(code("bdev_aio_delete", {{"name", "vc0"}}), -ENODEV);
  EXPECT_EQ(code("bdev_volatile_cache_delete", {{"name", "vc0"}}), 0);
  EXPECT_EQ(bdevs_.find("vc0"), nullptr);
  EXPECT_EQ(code("bdev_volatile_cache_delete", {{"name", "vc0"}}), -ENODEV);
  EXPECT_EQ(code("bdev_volatile_cache_delete", json::object()), rpc_error_invalid_params);
}

TEST_F(volatile_cache_rpc_test, bad_params) {
  const std::string f = file_.path();
  for (const json& params : {json::object(), json{{"name", "x"}}, json{{"filename", f}},
                             json{{"name", "x"}, {"filename", f}, {"block_size", 1000}},
                             json{{"name", "x"}, {"filename", f}, {"block_size", -1}},
                             json{{"name", "x"}, {"filename", f}, {"uuid", "nope"}},
                             json{{"name", "x"}, {"filename", f}, {"readonly", true}},
                             json{{"name", "x"}, {"filename", "/tmp"}}}) {
    auto r = call("bdev_volatile_cache_create", params);
    ASSERT_FALSE(r.ok()) << params.dump();
    EXPECT_EQ(rpc_error_code(r.err()), rpc_error_invalid_params) << params.dump();
    EXPECT_FALSE(r.err().message.empty());
  }
  EXPECT_EQ(code("bdev_volatile_cache_create", {{"name", "x"}, {"filename", "/tmp/nvmfd-no-such-file"}}),
            -ENODEV);
  ASSERT_EQ(code("bdev_volatile_cache_create", {{"name", "x"}, {"filename", f}}), 0);
  EXPECT_NE(code("bdev_volatile_cache_create", {{"name", "x"}, {"filename", f}}), 0);  // name taken
  EXPECT_TRUE(bdevs_.list().size() == 1);
}

TEST_F(volatile_cache_rpc_test, saved_config_recreates_the_bdev) {
  auto id = uuid::random_v4();
  ASSERT_EQ(code("bdev_volatile_cache_create",
                 {{"name", "vc1"}, {"filename", file_.path()}, {"block_size", 4096}, {"uuid", id.to_string()}}),
            0);
  const config_section* s = methods_.find_config_section("bdev");
  ASSERT_NE(s, nullptr);
  json calls = s->get_config();
  json want = {{"method", "bdev_volatile_cache_create"},
               {"params", {{"name", "vc1"}, {"filename", file_.path()}, {"block_size", 4096},
                           {"uuid", id.to_string()}}}};
  ASSERT_GE(calls.size(), 1u);
  EXPECT_EQ(calls[0], want);

  // Replayed into another process's tables, the call makes the same bdev.
  bdev_registry other;
  rpc_method_table t;
  add_bdev_methods(t, other);
  auto r = (*t.find("bdev_volatile_cache_create"))(calls[0]["params"]);
  ASSERT_TRUE(r.ok()) << r.err().message;
  auto b = other.find("vc1");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->block_size(), 4096u);
  EXPECT_EQ(b->id(), id);
  EXPECT_EQ(b->product_name(), "Volatile cache disk");
}

}  // namespace
}  // namespace nvmfd
