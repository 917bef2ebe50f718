// framework_get_reactors / framework_set_poll_mode / framework_get_poll_mode: params,
// errors, the change reaching every reactor, and the saved "scheduler" section.
#include "rpc/reactor_rpc.h"

#include <gtest/gtest.h>

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

class reactor_rpc_test : public ::testing::Test {
 protected:
  void SetUp() override { add_reactor_methods(methods_, pool_); }
  result<json> call(const std::string& m, const json& params) {
    const rpc_handler* h = methods_.find(m);
    EXPECT_NE(h, nullptr) << m;
    return (*h)(params);
  }
  int code(const std::string& m, const json& params) {
    auto r = call(m, params);
    return r.ok() ? 0 : rpc_error_code(r.err());
  }
  json saved() { return methods_.find_config_section("scheduler")->get_config(); }

  reactor_pool pool_{2};
  rpc_method_table methods_;
};

TEST_F(reactor_rpc_test, defaults_are_adaptive_with_a_50_us_ceiling_and_save_nothing) {
  auto r = call("framework_get_poll_mode", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (json{{"mode", "adaptive"}, {"max_poll_us", 50}}));
  EXPECT_EQ(saved(), json::array());
}

TEST_F(reactor_rpc_test, set_changes_every_reactor_and_is_saved) {
  ASSERT_EQ(code("framework_set_poll_mode", {{"mode", "event"}}), 0);
  for (unsigned i = 0; i < pool_.size(); ++i) EXPECT_EQ(pool_.at(i).get_poll_settings().mode, poll_mode::event);
  ASSERT_EQ(code("framework_set_poll_mode", {{"max_poll_us", 200}}), 0);  // mode kept
  auto r = call("framework_get_poll_mode", {});
  EXPECT_EQ(*r, (json{{"mode", "event"}, {"max_poll_us", 200}}));
  EXPECT_EQ(saved(), (json::array({{{"method", "framework_set_poll_mode"},
                                     {"params", {{"mode", "event"}, {"max_poll_us", 200}}}}})));
  auto reactors = call("framework_get_reactors", {});
  ASSERT_TRUE(reactors.ok());
  ASSERT_EQ((*reactors)["reactors"].size(), 2u);
  for (const auto& x : (*reactors)["reactors"]) {
    EXPECT_TRUE(x["in_interrupt"].get<bool>());
    EXPECT_EQ(x["poll_mode"], "event");
    // SPDK's fields: the loop thread's tid and CPU time, and one lightweight thread.
    EXPECT_GT(x["tid"].get<int>(), 0);
    EXPECT_TRUE(x["usr"].is_number() && x["sys"].is_number() && x["irq"].is_number());
    ASSERT_EQ(x["lw_threads"].size(), 1u);
    EXPECT_EQ(x["lw_threads"][0]["name"].get<std::string>().rfind("nvmf_tgt_poll_group_", 0), 0u);
    EXPECT_GE(x["lw_threads"][0]["elapsed"].get<uint64_t>(), x["busy"].get<uint64_t>());
  }
}

TEST_F(reactor_rpc_test, bad_params_are_refused_by_name) {
  auto r = call("framework_set_poll_mode", {{"mode", "busy"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(rpc_error_code(r.err()), rpc_error_invalid_params);
  EXPECT_NE(r.err().message.find("mode"), std::string::npos) << r.err().message;
  r = call("framework_set_poll_mode", {{"max_poll_us", 2000000}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("max_poll_us"), std::string::npos) << r.err().message;
  EXPECT_EQ(code("framework_set_poll_mode", {{"max_poll_us", -1}}), rpc_error_invalid_params);
  EXPECT_EQ(code("framework_set_poll_mode", {{"interval", 5}}), rpc_error_invalid_params);
  EXPECT_EQ(code("framework_get_reactors", {{"x", 1}}), rpc_error_invalid_params);
  // Nothing changed.
  EXPECT_EQ(pool_.get_poll_settings().mode, poll_mode::adaptive);
  EXPECT_EQ(pool_.get_poll_settings().max_poll, 50us);
}

TEST_F(reactor_rpc_test, get_reactors_has_spdk_fields_and_counts_time) {
  auto r = call("framework_get_reactors", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["tick_rate"], 1000000000);
  EXPECT_TRUE((*r)["pid"].is_number());
  for (const auto& x : (*r)["reactors"]) {
    for (const char* k : {"lcore", "busy", "idle", "in_interrupt", "poll_mode", "poll_window_us", "passes", "sleeps"})
      EXPECT_TRUE(x.contains(k)) << k;
    EXPECT_FALSE(x["in_interrupt"].get<bool>());
  }
}

TEST_F(reactor_rpc_test, get_reactors_names_each_reactors_io_backend) {
  pool_.run_on(0, [] {});
  pool_.run_on(1, [] {});  // both loops have started: a fallback to epoll would show now
  auto r = call("framework_get_reactors", {});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ((*r)["reactors"].size(), 2u);
  for (const auto& x : (*r)["reactors"]) {
    EXPECT_EQ(x["io_backend"], std::string(to_string(pool_.backend())));
    EXPECT_TRUE(x["io_backend"] == "epoll" || x["io_backend"] == "uring");
  }
}

}  // namespace
}  // namespace nvmfd
