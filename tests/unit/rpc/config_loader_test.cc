#include "rpc/config_loader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "config/spdk_only_methods.h"
#include "fake_sections.h"

namespace nvmfd {
namespace {

class config_loader_test : public ::testing::Test {
 protected:
  void SetUp() override { target_.register_in(methods_); }
  test::fake_target target_;
  rpc_method_table methods_;
};

TEST_F(config_loader_test, sections_ordered_by_dependency) {
  auto order = ordered_config_sections(methods_);
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0]->name, "bdev");
  EXPECT_EQ(order[1]->name, "nvmf");
}

TEST_F(config_loader_test, cycle_and_unknown_dependency_do_not_hang) {
  rpc_method_table t;
  t.add_config_section({"a", {"b", "nope"}, nullptr});
  t.add_config_section({"b", {"a"}, nullptr});
  t.add_config_section({"c", {"nope"}, nullptr});
  auto order = ordered_config_sections(t);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0]->name, "c");
}

TEST_F(config_loader_test, applies_in_dependency_order_with_unknown_empty_sections) {
  auto cfg = json::parse(R"({"subsystems":[
    {"subsystem":"keyring","config":[]},
    {"subsystem":"nvmf","config":[{"method":"nvmf_create","params":{"nqn":"n1"}}]},
    {"subsystem":"vmd","config":null},
    {"subsystem":"scheduler"},
    {"subsystem":"bdev","config":[{"method":"bdev_create","params":{"name":"M0"}},
                                  [{"method":"bdev_create","params":{"name":"M1"}}]]}]})");
  auto r = load_config(cfg, methods_);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(target_.log,
            (std::vector<std::string>{"bdev_create:M0", "bdev_create:M1", "nvmf_create:n1"}));
}

TEST_F(config_loader_test, unsupported_methods_all_named_before_anything_runs) {
  auto cfg = json::parse(R"({"subsystems":[
    {"subsystem":"bdev","config":[{"method":"bdev_create","params":{"name":"M0"}},
                                  {"method":"bdev_raid_create","params":{}},
                                  {"method":"bdev_set_options","params":{}},
                                  {"method":"bdev_passthru_create","params":{}},
                                  {"method":"bdev_raid_create","params":{}}]},
    {"subsystem":"nbd","config":[{"method":"nbd_start_disk","params":{}}]}]})");
  auto r = load_config(cfg, methods_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::not_supported);
  EXPECT_EQ(r.err().message,
            "config: nvmfd does not support methods 'bdev_raid_create' (section 'bdev'), "
            "'bdev_passthru_create' (section 'bdev'), 'nbd_start_disk' (section 'nbd'); nothing "
            "was applied (docs/spdk-migration.md)");
  EXPECT_TRUE(target_.log.empty());
}

TEST_F(config_loader_test, spdk_only_methods_skipped_in_any_section_or_refused) {
  auto cfg = json::parse(R"({"subsystems":[
    {"subsystem":"iobuf","config":[{"method":"iobuf_set_options","params":{"small_pool_count":8192}}]},
    {"subsystem":"sock","config":[{"method":"sock_impl_set_options","params":{"impl_name":"ssl"}},
                                  {"method":"sock_impl_set_options","params":{"impl_name":"posix"}},
                                  {"method":"bdev_create","params":{"name":"fromsock"}}]},
    {"subsystem":"bdev","config":[{"method":"bdev_set_options","params":{}},
                                  {"method":"bdev_create","params":{"name":"M0"}}]}]})");
  auto r = load_config(cfg, methods_);
  ASSERT_TRUE(r.ok()) << r.err().message;
  // an unknown section's methods we do have run, before the known sections
  EXPECT_EQ(target_.log, (std::vector<std::string>{"bdev_create:fromsock", "bdev_create:M0"}));

  target_.log.clear();
  auto strict = load_config(cfg, methods_, {.accept_spdk_only_methods = false});
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.err().message,
            "config: nvmfd does not support methods 'iobuf_set_options' (section 'iobuf'), "
            "'sock_impl_set_options' (section 'sock'), 'bdev_set_options' (section 'bdev'); "
            "nothing was applied (docs/spdk-migration.md)");
  EXPECT_TRUE(target_.log.empty());
}

TEST(spdk_only_methods, lookup) {
  ASSERT_NE(find_spdk_only_method("iobuf_set_options"), nullptr);
  EXPECT_FALSE(find_spdk_only_method("iobuf_set_options")->reason.empty());
  EXPECT_EQ(find_spdk_only_method("bdev_raid_create"), nullptr);
  EXPECT_EQ(find_spdk_only_method(""), nullptr);
  EXPECT_EQ(find_spdk_only_method("zzz"), nullptr);
  for (const auto& m : spdk_only_methods()) EXPECT_EQ(find_spdk_only_method(m.name), &m);
}

TEST_F(config_loader_test, first_failing_call_stops_with_method_params_and_message) {
  auto cfg = json::parse(R"({"subsystems":[
    {"subsystem":"nvmf","config":[{"method":"nvmf_create","params":{"nqn":"n1"}},
                                  {"method":"nvmf_create","params":{"nqn":"fail"}},
                                  {"method":"nvmf_create","params":{"nqn":"n3"}}]}]})");
  auto r = load_config(cfg, methods_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::busy);
  EXPECT_EQ(r.err().message, R"(config: nvmf_create {"nqn":"fail"} failed: target is busy)");
  EXPECT_EQ(target_.log, (std::vector<std::string>{"nvmf_create:n1"}));
}

TEST_F(config_loader_test, a_warn_only_method_failing_does_not_stop_loading) {
  auto cfg = json::parse(R"({"subsystems":[
    {"subsystem":"nvmf","config":[{"method":"nvmf_create","params":{"nqn":"n1"}},
                                  {"method":"nvmf_create","params":{"nqn":"fail"}},
                                  {"method":"nvmf_create","params":{"nqn":"n3"}}]}]})");
  load_config_options o;
  o.warn_only_methods = {"nvmf_create"};
  ASSERT_TRUE(load_config(cfg, methods_, o).ok());
  EXPECT_EQ(target_.log, (std::vector<std::string>{"nvmf_create:n1", "nvmf_create:n3"}));
}

TEST_F(config_loader_test, handler_without_params_gets_null) {
  json seen = "unset";
  methods_.add("noparams", [&](const json& p) -> result<json> {
    seen = p;
    return json(true);
  });
  auto cfg = json::parse(R"({"subsystems":[{"subsystem":"bdev","config":[{"method":"noparams"}]}]})");
  ASSERT_TRUE(load_config(cfg, methods_).ok());
  EXPECT_TRUE(seen.is_null());
}

TEST_F(config_loader_test, shape_errors) {
  struct tc {
    const char* cfg;
    const char* msg;
  };
  const tc cases[] = {
      {R"([])", "config: expected an object with a \"subsystems\" array"},
      {R"({})", "config: no \"subsystems\" array"},
      {R"({"subsystems":{}})", "config: no \"subsystems\" array"},
      {R"({"subsystems":[{"config":[]}]})", "subsystems[0]: no \"subsystem\" name"},
      {R"({"subsystems":[{"subsystem":"bdev","config":{}}]})",
       "subsystems[0] (bdev): \"config\" must be an array"},
      {R"({"subsystems":[{"subsystem":"bdev","config":[{"params":{}}]}]})",
       "subsystems[0] (bdev).config[0]: no \"method\" string"},
      {R"({"subsystems":[{"subsystem":"bdev","config":[{"method":"bdev_create","params":5}]}]})",
       "subsystems[0] (bdev).config[0] (bdev_create): \"params\" must be an object"},
      {R"({"subsystems":[{"subsystem":"bdev","config":[[{"method":"a"},7]]}]})",
       "subsystems[0] (bdev).config[0][1]: expected an object"},
  };
  for (const auto& c : cases) {
    auto r = load_config(json::parse(c.cfg), methods_);
    ASSERT_FALSE(r.ok()) << c.cfg;
    EXPECT_EQ(r.err().code, errc::invalid_argument) << c.cfg;
    EXPECT_EQ(r.err().message, c.msg) << c.cfg;
  }
}

TEST_F(config_loader_test, save_config_format_and_round_trip) {
  auto empty = save_config(methods_);
  EXPECT_EQ(empty, json::parse(R"({"subsystems":[{"subsystem":"bdev","config":[]},
                                                 {"subsystem":"nvmf","config":[]}]})"));
  auto cfg = json::parse(R"({"subsystems":[
    {"subsystem":"bdev","config":[{"method":"bdev_create","params":{"name":"M0"}}]},
    {"subsystem":"nvmf","config":[{"method":"nvmf_create","params":{"nqn":"n1"}}]}]})");
  ASSERT_TRUE(load_config(cfg, methods_).ok());
  EXPECT_EQ(save_config(methods_), cfg);

  test::fake_target other;
  rpc_method_table t2;
  other.register_in(t2);
  ASSERT_TRUE(load_config(save_config(methods_), t2).ok());
  EXPECT_EQ(other.log, target_.log);
}

TEST_F(config_loader_test, save_config_tolerates_missing_or_bad_get_config) {
  rpc_method_table t;
  t.add_config_section({"a", {}, nullptr});
  t.add_config_section({"b", {}, [] { return json("oops"); }});
  EXPECT_EQ(save_config(t), json::parse(R"({"subsystems":[{"subsystem":"a","config":[]},
                                                          {"subsystem":"b","config":[]}]})"));
}

class config_file_test : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }
  void write(const std::string& text) { std::ofstream(path_) << text; }
  std::string path_ = "/tmp/nvmfd_config_test_" + std::to_string(::getpid()) + ".json";
};

TEST_F(config_file_test, reads_json_with_comments) {
  write("// saved by nvmfd\n{\"subsystems\": [] /* none */}\n");
  auto r = read_config_file(path_);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(*r, json::parse(R"({"subsystems":[]})"));
}

TEST_F(config_file_test, missing_file) {
  auto r = read_config_file("/tmp/nvmfd_no_such_dir/x.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::not_found);
  EXPECT_EQ(r.err().message,
            "cannot read config file /tmp/nvmfd_no_such_dir/x.json: No such file or directory");
}

TEST_F(config_file_test, syntax_error_has_position) {
  write("{\n  \"subsystems\": [\n    {\"subsystem\": \"bdev\",}\n  ]\n}\n");
  auto r = read_config_file(path_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  EXPECT_NE(r.err().message.find(path_ + ": parse error at line 3, column"), std::string::npos)
      << r.err().message;
}

// Found by the fuzz campaign: a number beyond double's range is nlohmann's out_of_range, not
// a parse_error, and ended nvmfd with std::terminate.
TEST_F(config_file_test, number_out_of_range_is_a_clear_error) {
  write(R"({"subsystems": [{"subsystem": "bdev", "config": [{"method": "bdev_malloc_create",
          "params": {"name": "m0", "num_blocks": 7.77E724, "block_size": 512}}]}]})");
  auto r = read_config_file(path_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  EXPECT_NE(r.err().message.find("7.77E724"), std::string::npos) << r.err().message;
}

}  // namespace
}  // namespace nvmfd
