#include "rpc/framework_methods.h"

#include <gtest/gtest.h>

#include "fake_sections.h"

namespace nvmfd {
namespace {

class framework_methods_test : public ::testing::Test {
 protected:
  void SetUp() override {
    target_.register_in(methods_);
    add_framework_methods(methods_);
  }
  result<json> call(const std::string& m, const json& params = json()) {
    const rpc_handler* h = methods_.find(m);
    EXPECT_NE(h, nullptr) << m;
    return (*h)(params);
  }

  test::fake_target target_;
  rpc_method_table methods_;
};

TEST_F(framework_methods_test, rpc_get_methods_lists_all_sorted) {
  auto all = call("rpc_get_methods", {{"include_aliases", false}});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, json(methods_.names()));
  EXPECT_TRUE(std::find(all->begin(), all->end(), "framework_start_init") != all->end());
  auto cur = call("rpc_get_methods", {{"current", true}, {"include_aliases", false}});
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->size(), all->size() - 1);  // framework_start_init is STARTUP-only in SPDK
  EXPECT_TRUE(std::find(cur->begin(), cur->end(), "framework_start_init") == cur->end());
  EXPECT_TRUE(std::find(cur->begin(), cur->end(), "bdev_create") != cur->end());
  EXPECT_TRUE(call("rpc_get_methods").ok());
  auto bad = call("rpc_get_methods", {{"current", "yes"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(rpc_error_code(bad.err()), -32602);
}

TEST_F(framework_methods_test, framework_get_subsystems_in_dependency_order) {
  auto r = call("framework_get_subsystems");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, json::parse(R"([{"subsystem":"bdev","depends_on":[]},
                                {"subsystem":"nvmf","depends_on":["bdev"]}])"));
  EXPECT_FALSE(call("framework_get_subsystems", {{"x", 1}}).ok());
  EXPECT_TRUE(call("framework_get_subsystems", json::object()).ok());
}

TEST_F(framework_methods_test, framework_get_config) {
  ASSERT_TRUE(call("bdev_create", {{"name", "Malloc0"}}).ok());
  auto r = call("framework_get_config", {{"name", "bdev"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, json::parse(R"([{"method":"bdev_create","params":{"name":"Malloc0"}}])"));
  EXPECT_EQ(*call("framework_get_config", {{"name", "nvmf"}}), json::array());

  auto missing = call("framework_get_config", {{"name", "accel"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.err().message, "Subsystem 'accel' not found");
  EXPECT_EQ(rpc_error_code(missing.err()), -32602);
  EXPECT_FALSE(call("framework_get_config").ok());
}

TEST_F(framework_methods_test, framework_get_config_flattens_batches_unless_asked) {
  methods_.add_config_section({"batched", {}, [] {
                                 return json::parse(R"([{"method":"a"},[{"method":"b"},{"method":"c"}]])");
                               }});
  auto flat = call("framework_get_config", {{"name", "batched"}});
  EXPECT_EQ(flat->size(), 3u);
  auto kept = call("framework_get_config", {{"name", "batched"}, {"with_batches", true}});
  EXPECT_EQ(kept->size(), 2u);
}

TEST_F(framework_methods_test, init_methods_and_version) {
  EXPECT_EQ(*call("framework_start_init"), json(true));
  EXPECT_EQ(*call("framework_wait_init"), json(true));
  auto v = call("spdk_get_version");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)["version"], std::string("nvmfd v") + nvmfd_version);
  EXPECT_EQ((*v)["fields"]["minor"], 1);
}

}  // namespace
}  // namespace nvmfd
