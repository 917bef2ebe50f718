// bdev_lvol_* RPCs: SPDK's result shapes, and bad params, unknown names and conflicts as
// clear JSON-RPC errors (-32602, -19 No such device, -17 File exists, -16 busy).
#include <gtest/gtest.h>

#include "bdev/bdev_registry.h"
#include "bdev/lvol/lvol_manager.h"
#include "reactor/reactor.h"
#include "rpc/bdev_rpc.h"
#include "rpc/lvol_rpc.h"

namespace nvmfd {
namespace {

class lvol_rpc_test : public ::testing::Test {
 protected:
  void SetUp() override {
    add_bdev_methods(methods_, bdevs_);
    add_lvol_methods(methods_, lvols_);
    ASSERT_TRUE(call("bdev_malloc_create", {{"name", "Malloc0"}, {"num_blocks", 65536}, {"block_size", 512}}).ok());
  }
  void TearDown() override { pool_.stop(); }
  result<json> call(const std::string& m, const json& params) {
    const rpc_handler* h = methods_.find(m);
    EXPECT_NE(h, nullptr) << m;
    return (*h)(params);
  }
  int code(const std::string& m, const json& params) {
    auto r = call(m, params);
    return r.ok() ? 0 : rpc_error_code(r.err());
  }
  json ok(const std::string& m, const json& params) {
    auto r = call(m, params);
    EXPECT_TRUE(r.ok()) << m << " " << params.dump() << ": " << (r ? "" : r.err().message);
    return r ? *r : json();
  }

  reactor_pool pool_{1};
  bdev_registry bdevs_;
  lvol::lvol_manager lvols_{pool_, bdevs_};
  rpc_method_table methods_;
};

TEST_F(lvol_rpc_test, shapes_like_spdk) {
  json id = ok("bdev_lvol_create_lvstore", {{"bdev_name", "Malloc0"}, {"lvs_name", "lvs0"}, {"cluster_sz", 1048576}});
  ASSERT_TRUE(id.is_string());
  json stores = ok("bdev_lvol_get_lvstores", json::object());
  ASSERT_EQ(stores.size(), 1u);
  for (auto k : {"uuid", "name", "base_bdev", "total_data_clusters", "free_clusters", "block_size", "cluster_size"})
    EXPECT_TRUE(stores[0].contains(k)) << k;
  EXPECT_EQ(stores[0]["uuid"], id);
  EXPECT_EQ(stores[0]["cluster_size"], 1048576);
  EXPECT_EQ(ok("bdev_lvol_get_lvstores", {{"lvs_name", "lvs0"}}), stores);
  EXPECT_EQ(ok("bdev_lvol_get_lvstores", {{"uuid", id}}), stores);

  json vol = ok("bdev_lvol_create", {{"lvol_name", "v"}, {"size_in_mib", 4}, {"lvs_name", "lvs0"}, {"thin_provision", true}});
  json thick = ok("bdev_lvol_create", {{"lvol_name", "t"}, {"size_in_mib", 2}, {"uuid", id}, {"clear_method", "unmap"}});
  json lvols = ok("bdev_lvol_get_lvols", json::object());
  ASSERT_EQ(lvols.size(), 2u);
  EXPECT_EQ(lvols[0]["alias"], "lvs0/v");
  EXPECT_EQ(lvols[0]["uuid"], vol);
  EXPECT_EQ(lvols[0]["is_thin_provisioned"], true);
  EXPECT_EQ(lvols[1]["is_thin_provisioned"], false);
  EXPECT_EQ(lvols[0]["lvs"], json({{"name", "lvs0"}, {"uuid", id}}));
  json b = ok("bdev_get_bdevs", {{"name", "lvs0/v"}});
  EXPECT_EQ(b[0]["name"], vol);
  EXPECT_EQ(b[0]["aliases"], json::array({"lvs0/v"}));
  EXPECT_EQ(b[0]["product_name"], "Logical Volume");
  EXPECT_EQ(b[0]["driver_specific"]["lvol"]["thin_provision"], true);

  json snap = ok("bdev_lvol_snapshot", {{"lvol_name", "lvs0/v"}, {"snapshot_name", "s"}});
  json clone = ok("bdev_lvol_clone", {{"snapshot_name", "lvs0/s"}, {"clone_name", "c"}});
  EXPECT_TRUE(snap.is_string() && clone.is_string());
  json sb = ok("bdev_get_bdevs", {{"name", "lvs0/s"}});
  EXPECT_EQ(sb[0]["driver_specific"]["lvol"]["clones"], json::array({"v", "c"}));
  EXPECT_EQ(ok("bdev_lvol_inflate", {{"name", "lvs0/c"}}), true);
  EXPECT_EQ(ok("bdev_lvol_decouple_parent", {{"name", "lvs0/v"}}), true);
  json after = ok("bdev_lvol_get_lvols", {{"lvs_name", "lvs0"}});
  for (auto& l : after) EXPECT_EQ(l["is_clone"], false) << l.dump();
  EXPECT_EQ(ok("bdev_lvol_resize", {{"name", "lvs0/t"}, {"size_in_mib", 3}}), true);
  EXPECT_EQ(ok("bdev_lvol_rename", {{"old_name", "lvs0/t"}, {"new_name", "t2"}}), true);
  EXPECT_EQ(ok("bdev_lvol_set_read_only", {{"name", "lvs0/t2"}}), true);
  EXPECT_EQ(ok("bdev_lvol_rename_lvstore", {{"old_name", "lvs0"}, {"new_name", "lvs1"}}), true);
  EXPECT_TRUE(bdevs_.find("lvs1/t2"));
  EXPECT_EQ(ok("bdev_lvol_grow_lvstore", {{"lvs_name", "lvs1"}}), true);
  EXPECT_EQ(ok("bdev_lvol_delete", {{"name", "lvs1/t2"}}), true);
  EXPECT_EQ(ok("bdev_lvol_delete_lvstore", {{"lvs_name", "lvs1"}}), true);
  EXPECT_EQ(ok("bdev_lvol_get_lvstores", json::object()), json::array());
  EXPECT_EQ(ok("bdev_get_bdevs", json::object()).size(), 1u) << "only Malloc0 is left";
}

TEST_F(lvol_rpc_test, bad_input_is_a_clear_error) {
  EXPECT_EQ(code("bdev_lvol_create_lvstore", {{"lvs_name", "x"}}), -32602);
  EXPECT_EQ(code("bdev_lvol_create_lvstore", {{"bdev_name", "nope"}, {"lvs_name", "x"}}), -19);
  EXPECT_EQ(code("bdev_lvol_create_lvstore", {{"bdev_name", "Malloc0"}, {"lvs_name", "x"}, {"cluster_sz", 3000}}), -32602);
  EXPECT_EQ(code("bdev_lvol_create_lvstore", {{"bdev_name", "Malloc0"}, {"lvs_name", "x"}, {"clear_method", "fast"}}),
            -32602);
  EXPECT_EQ(code("bdev_lvol_create_lvstore", {{"bdev_name", "Malloc0"}, {"lvs_name", "a/b"}}), -32602);
  ok("bdev_lvol_create_lvstore", {{"bdev_name", "Malloc0"}, {"lvs_name", "lvs0"}, {"cluster_sz", 1048576}});
  EXPECT_NE(code("bdev_lvol_create_lvstore", {{"bdev_name", "Malloc0"}, {"lvs_name", "lvs9"}}), 0) << "claimed base";
  EXPECT_EQ(code("bdev_lvol_create", {{"lvol_name", "v"}, {"lvs_name", "lvs0"}}), -32602) << "size missing";
  EXPECT_EQ(code("bdev_lvol_create", {{"lvol_name", "v"}, {"size_in_mib", 1}}), -32602) << "no store named";
  EXPECT_EQ(code("bdev_lvol_create", {{"lvol_name", "v"}, {"size_in_mib", 0}, {"lvs_name", "lvs0"}}), -32602);
  EXPECT_EQ(code("bdev_lvol_create", {{"lvol_name", "v"}, {"size_in_mib", 1}, {"lvs_name", "nope"}}), -19);
  EXPECT_EQ(code("bdev_lvol_create", {{"lvol_name", "v"}, {"size_in_mib", "big"}, {"lvs_name", "lvs0"}}), -32602);
  EXPECT_EQ(code("bdev_lvol_create", {{"lvol_name", "big"}, {"size_in_mib", 100000}, {"lvs_name", "lvs0"}}), -28)
      << "thick beyond the free clusters: -ENOSPC";
  ok("bdev_lvol_create", {{"lvol_name", "v"}, {"size_in_mib", 1}, {"lvs_name", "lvs0"}});
  EXPECT_EQ(code("bdev_lvol_create", {{"lvol_name", "v"}, {"size_in_mib", 1}, {"lvs_name", "lvs0"}}), -17);
  EXPECT_EQ(code("bdev_lvol_delete", {{"name", "lvs0/nope"}}), -19);
  EXPECT_EQ(code("bdev_lvol_resize", {{"name", "lvs0/v"}}), -32602);
  EXPECT_EQ(code("bdev_lvol_clone", {{"snapshot_name", "lvs0/v"}, {"clone_name", "c"}}), -32602) << "not a snapshot";
  EXPECT_EQ(code("bdev_lvol_decouple_parent", {{"name", "lvs0/v"}}), -32602) << "no parent";
  EXPECT_EQ(code("bdev_lvol_get_lvstores", {{"uuid", "x"}, {"lvs_name", "lvs0"}}), -32602);
  EXPECT_EQ(code("bdev_lvol_delete_lvstore", json::object()), -32602);
  EXPECT_EQ(code("bdev_lvol_rename", {{"old_name", "lvs0/v"}, {"new_name", ""}}), -32602);
  EXPECT_EQ(code("bdev_lvol_get_lvols", {{"lvs_name", "nope"}}), -19);
  EXPECT_EQ(code("bdev_malloc_delete", {{"name", "Malloc0"}}), -16) << "the store holds its base";
}

}  // namespace
}  // namespace nvmfd
