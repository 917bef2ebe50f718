// Namespace options through the JSON-RPC handlers and the config: no_auto_visible with
// nvmf_ns_add_host / nvmf_ns_remove_host (SPDK's names and params) and ptpl_file survive a
// save_config / load_config round trip into a fresh target; bad params get clear errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "rpc_target.h"
#include "test_support.h"

namespace nvmfd {
namespace {

const std::string nqn = "nqn.2014-08.io.nvmfd.test:ns-config";
const std::string host = "nqn.2014-08.io.nvmfd.test:ns-host";

::testing::AssertionResult ok_json(const result<json>& r) {
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << to_string(r.err().code) << ": " << r.err().message;
}

TEST(ns_config_test, visibility_and_ptpl_file_survive_save_and_load) {
  char tmpl[] = "/tmp/nvmfd-ns-config.XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  const std::string dir = tmpl;
  json saved, subsystems;
  {
    rpc_target a;
    ASSERT_TRUE(ok_json(a.call("bdev_malloc_create", {{"name", "Malloc0"}, {"block_size", 512}, {"num_blocks", 2048}})));
    ASSERT_TRUE(ok_json(a.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}})));
    ASSERT_TRUE(ok_json(a.call("nvmf_subsystem_add_ns",
                               {{"nqn", nqn},
                                {"namespace", {{"bdev_name", "Malloc0"}, {"nsid", 1}, {"no_auto_visible", true},
                                               {"ptpl_file", dir + "/ns1.json"}}}})));
    ASSERT_TRUE(ok_json(a.call("nvmf_ns_add_host", {{"nqn", nqn}, {"nsid", 1}, {"host", host}})));
    ASSERT_TRUE(ok_json(a.call("nvmf_ns_add_host", {{"nqn", nqn}, {"nsid", 1}, {"host", host + "-2"}})));
    ASSERT_TRUE(ok_json(a.call("nvmf_ns_remove_host", {{"nqn", nqn}, {"nsid", 1}, {"host", host + "-2"}})));
    auto missing = a.call("nvmf_ns_remove_host", {{"nqn", nqn}, {"nsid", 1}, {"host", host + "-2"}});
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.err().code, errc::not_found);
    auto no_nsid = a.call("nvmf_ns_add_host", {{"nqn", nqn}, {"host", host}});
    ASSERT_FALSE(no_nsid.ok());
    EXPECT_NE(no_nsid.err().message.find("nsid"), std::string::npos) << no_nsid.err().message;
    auto subs = a.call("nvmf_get_subsystems", {{"nqn", nqn}});
    ASSERT_TRUE(ok_json(subs));
    subsystems = *subs;
    auto& ns = subsystems[0]["namespaces"][0];
    EXPECT_EQ(ns["no_auto_visible"], true);
    EXPECT_EQ(ns["hosts"], json::array({{{"nqn", host}}}));
    saved = a.save();
  }
  const std::string text = saved.dump();
  EXPECT_NE(text.find("\"ptpl_file\""), std::string::npos);
  EXPECT_NE(text.find("nvmf_ns_add_host"), std::string::npos);
  rpc_target b;
  ASSERT_TRUE(ok(b.load(saved)));
  auto subs = b.call("nvmf_get_subsystems", {{"nqn", nqn}});
  ASSERT_TRUE(ok_json(subs));
  EXPECT_EQ(*subs, subsystems);
  EXPECT_EQ(b.save(), saved) << "saving the loaded target gives the same config";
  std::filesystem::remove_all(dir);
}

TEST(ns_config_test, an_unusable_ptpl_file_fails_the_add_with_the_reason) {
  char tmpl[] = "/tmp/nvmfd-ns-config.XXXXXX";
  ASSERT_TRUE(mkdtemp(tmpl));
  const std::string dir = tmpl;
  { std::ofstream(dir + "/bad.json") << "{\"ptpl\": true, \"rtype\": "; }
  rpc_target a;
  ASSERT_TRUE(ok_json(a.call("bdev_malloc_create", {{"name", "Malloc0"}, {"block_size", 512}, {"num_blocks", 2048}})));
  ASSERT_TRUE(ok_json(a.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}})));
  auto r = a.call("nvmf_subsystem_add_ns",
                  {{"nqn", nqn}, {"namespace", {{"bdev_name", "Malloc0"}, {"ptpl_file", dir + "/bad.json"}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find(dir + "/bad.json"), std::string::npos) << r.err().message;
  auto empty = a.call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Malloc0"}, {"ptpl_file", ""}}}});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.err().message.find("ptpl_file"), std::string::npos);
  // The bdev is not left claimed by the refused namespace.
  ASSERT_TRUE(ok_json(a.call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Malloc0"}}}})));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nvmfd
