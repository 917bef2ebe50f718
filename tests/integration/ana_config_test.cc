// ANA configuration through the JSON-RPC handlers (issue 4): nvmf_subsystem_get_listeners
// in SPDK's shape, and a save_config / load_config round trip of per-listener, per-group
// ANA states into a fresh target (the daemon's config loader), with clear errors for bad
// states and group IDs.
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <tuple>

#include "rpc_target.h"
#include "target_fixture.h"
#include "test_controller.h"
#include "test_support.h"

namespace nvmfd {
namespace {

const std::string ana_nqn = "nqn.2014-08.io.nvmfd.test:ana-config";
const std::string plain_nqn = "nqn.2014-08.io.nvmfd.test:plain";

std::vector<std::string> free_ports(size_t n) { return target_fixture::free_ports(n); }

json address(const std::string& traddr, const std::string& trsvcid) {
  return {{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", traddr}, {"trsvcid", trsvcid}};
}

// SPDK's ana_states: one entry per group 1..max_namespaces.
json ana_states(std::initializer_list<const char*> states) {
  json out = json::array();
  uint32_t g = 1;
  for (const char* s : states) out.push_back({{"ana_group", g++}, {"ana_state", s}});
  return out;
}

::testing::AssertionResult ok_json(const result<json>& r) {
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << to_string(r.err().code) << ": " << r.err().message;
}

json get_listeners(rpc_target& t, const std::string& nqn) {
  auto r = t.call("nvmf_subsystem_get_listeners", {{"nqn", nqn}});
  EXPECT_TRUE(ok_json(r));
  return r ? *r : json();
}

// A subsystem with ana_reporting, max_namespaces 4 and two RAM namespaces: nsid 1 in ANA
// group 1, nsid 2 in ANA group 2.
void make_ana_subsystem(rpc_target& t) {
  ASSERT_TRUE(ok_json(t.call("nvmf_create_transport", {{"trtype", "TCP"}})));
  for (const char* name : {"Malloc0", "Malloc1"})
    ASSERT_TRUE(ok_json(t.call("bdev_malloc_create", {{"name", name}, {"block_size", 512}, {"num_blocks", 2048}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_create_subsystem", {{"nqn", ana_nqn},
                                                         {"allow_any_host", true},
                                                         {"ana_reporting", true},
                                                         {"max_namespaces", 4},
                                                         {"serial_number", "ANA0001"}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_add_ns",
                             {{"nqn", ana_nqn}, {"namespace", {{"bdev_name", "Malloc0"}, {"nsid", 1}, {"anagrpid", 1}}}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_add_ns",
                             {{"nqn", ana_nqn}, {"namespace", {{"bdev_name", "Malloc1"}, {"nsid", 2}, {"anagrpid", 2}}}})));
}

json set_ana_state_params(const json& addr, const char* state, std::optional<uint32_t> grp) {
  json p = {{"nqn", ana_nqn}, {"listen_address", addr}, {"ana_state", state}};
  if (grp) p["anagrpid"] = *grp;
  return p;
}

TEST(ana_config_test, get_listeners_has_spdks_shape) {
  auto ports = free_ports(2);
  ASSERT_EQ(ports.size(), 2u);
  const json l1 = address("127.0.0.1", ports[0]), l2 = address("127.0.0.2", ports[1]);
  rpc_target t;
  make_ana_subsystem(t);
  ASSERT_FALSE(testing::Test::HasFatalFailure());

  EXPECT_EQ(get_listeners(t, ana_nqn), json::array());
  ASSERT_TRUE(ok_json(
      t.call("nvmf_subsystem_add_listener", {{"nqn", ana_nqn}, {"listen_address", l1}, {"ana_state", "inaccessible"}})));
  EXPECT_EQ(get_listeners(t, ana_nqn),
            json::array({{{"address", l1},
                          {"ana_states", ana_states({"inaccessible", "inaccessible", "inaccessible", "inaccessible"})}}}))
      << "add_listener's ana_state applies to every group, with namespaces or not";

  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_listener_set_ana_state", set_ana_state_params(l1, "non_optimized", 2))));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_add_listener", {{"nqn", ana_nqn}, {"listen_address", l2}})));
  EXPECT_EQ(get_listeners(t, ana_nqn),
            json::array({{{"address", l1},
                          {"ana_states", ana_states({"inaccessible", "non_optimized", "inaccessible", "inaccessible"})}},
                         {{"address", l2},
                          {"ana_states", ana_states({"optimized", "optimized", "optimized", "optimized"})}}}));

  // Without anagrpid: every group of that listener only.
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_listener_set_ana_state", set_ana_state_params(l2, "change", {}))));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_listener_set_ana_state", set_ana_state_params(l2, "persistent_loss", 3))));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_listener_set_ana_state", set_ana_state_params(l1, "optimized", 4))));
  const json both = json::array(
      {{{"address", l1}, {"ana_states", ana_states({"inaccessible", "non_optimized", "inaccessible", "optimized"})}},
       {{"address", l2}, {"ana_states", ana_states({"change", "change", "persistent_loss", "change"})}}});
  EXPECT_EQ(get_listeners(t, ana_nqn), both);

  // A failed change leaves everything as it was.
  EXPECT_FALSE(t.call("nvmf_subsystem_listener_set_ana_state", set_ana_state_params(l1, "optimized", 5)));
  EXPECT_FALSE(t.call("nvmf_subsystem_listener_set_ana_state", set_ana_state_params(l1, "optimal", 1)));
  EXPECT_EQ(get_listeners(t, ana_nqn), both);

  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_remove_listener", {{"nqn", ana_nqn}, {"listen_address", l1}})));
  EXPECT_EQ(get_listeners(t, ana_nqn), json::array({both[1]}));

  auto missing = t.call("nvmf_subsystem_get_listeners", {{"nqn", "nqn.2014-08.io.nvmfd.test:none"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.err().code, errc::not_found);
}

TEST(ana_config_test, get_listeners_without_ana_reporting_shows_addresses_only) {
  auto ports = free_ports(1);
  ASSERT_EQ(ports.size(), 1u);
  const json l1 = address("127.0.0.1", ports[0]);
  rpc_target t;
  ASSERT_TRUE(ok_json(t.call("nvmf_create_transport", {{"trtype", "TCP"}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_create_subsystem", {{"nqn", plain_nqn}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_add_listener", {{"nqn", plain_nqn}, {"listen_address", l1}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_add_listener",
                             {{"nqn", std::string(discovery_nqn)}, {"listen_address", l1}})));
  const json want = json::array({{{"address", l1}}});
  EXPECT_EQ(get_listeners(t, plain_nqn), want);
  EXPECT_EQ(get_listeners(t, std::string(discovery_nqn)), want);
}

// The expected listeners of the round-trip configuration: l1 non-uniform (so saved as one
// call per group), l2 mixed, l3 uniform (saved as one call without anagrpid).
json round_trip_listeners(const json& l1, const json& l2, const json& l3) {
  return json::array(
      {{{"address", l1}, {"ana_states", ana_states({"non_optimized", "persistent_loss", "non_optimized", "non_optimized"})}},
       {{"address", l2}, {"ana_states", ana_states({"change", "inaccessible", "optimized", "optimized"})}},
       {{"address", l3}, {"ana_states", ana_states({"inaccessible", "inaccessible", "inaccessible", "inaccessible"})}}});
}

TEST(ana_config_test, states_survive_save_and_load_into_a_fresh_target) {
  auto ports = free_ports(3);
  ASSERT_EQ(ports.size(), 3u);
  const json l1 = address("127.0.0.1", ports[0]), l2 = address("127.0.0.2", ports[1]),
             l3 = address("127.0.0.1", ports[2]);
  json saved, listeners, subsystems;
  {
    rpc_target a;
    make_ana_subsystem(a);
    ASSERT_FALSE(testing::Test::HasFatalFailure());
    ASSERT_TRUE(ok_json(a.call("nvmf_create_subsystem", {{"nqn", plain_nqn}})));
    for (const json& l : {l1, l2, l3})
      ASSERT_TRUE(ok_json(a.call("nvmf_subsystem_add_listener", {{"nqn", ana_nqn}, {"listen_address", l}})));
    ASSERT_TRUE(ok_json(a.call("nvmf_subsystem_add_listener", {{"nqn", plain_nqn}, {"listen_address", l1}})));
    for (auto& [addr, state, grp] : std::vector<std::tuple<json, const char*, std::optional<uint32_t>>>{
             {l1, "non_optimized", {}}, {l1, "persistent_loss", 2}, {l2, "change", 1}, {l2, "inaccessible", 2},
             {l3, "inaccessible", {}}})
      ASSERT_TRUE(ok_json(a.call("nvmf_subsystem_listener_set_ana_state", set_ana_state_params(addr, state, grp))));
    listeners = get_listeners(a, ana_nqn);
    ASSERT_EQ(listeners, round_trip_listeners(l1, l2, l3));
    auto subs = a.call("nvmf_get_subsystems");
    ASSERT_TRUE(ok_json(subs));
    subsystems = *subs;
    saved = a.save();
  }  // a is gone, its ports free again

  rpc_target b;
  auto loaded = b.load(saved);
  ASSERT_TRUE(ok(loaded));
  EXPECT_EQ(get_listeners(b, ana_nqn), listeners);
  EXPECT_EQ(get_listeners(b, plain_nqn), json::array({{{"address", l1}}}));
  auto subs = b.call("nvmf_get_subsystems");
  ASSERT_TRUE(ok_json(subs));
  EXPECT_EQ(*subs, subsystems);
  EXPECT_EQ(b.save(), saved) << "saving the loaded target gives the same config";

  // The loaded states reach the I/O path of each listener.
  test_controller_params p;
  p.subnqn = ana_nqn;
  p.addr = "127.0.0.1";
  p.port = static_cast<uint16_t>(std::stoul(ports[0]));
  auto via_l1 = test_controller::connect(p);
  ASSERT_TRUE(ok(via_l1));
  EXPECT_TRUE(succeeded(via_l1->io.read(1, 0, 1, 512))) << "non-optimized serves I/O";
  EXPECT_TRUE(has_status(via_l1->io.read(2, 0, 1, 512), nvme_status::path(sc_path::ana_persistent_loss)));
  p.addr = "127.0.0.2";
  p.port = static_cast<uint16_t>(std::stoul(ports[1]));
  auto via_l2 = test_controller::connect(p);
  ASSERT_TRUE(ok(via_l2));
  EXPECT_TRUE(has_status(via_l2->io.read(1, 0, 1, 512), nvme_status::path(sc_path::ana_transition)));
  EXPECT_TRUE(has_status(via_l2->io.read(2, 0, 1, 512), nvme_status::path(sc_path::ana_inaccessible)));
}

// A config that makes RAM bdevs Malloc0 and Malloc1, sets up ana_nqn (max_namespaces 4)
// with Malloc0 as nsid 1 and one listener, then makes the call `bad`.
json config_with(const json& addr, const json& bad) {
  json nvmf = json::array(
      {{{"method", "nvmf_create_transport"}, {"params", {{"trtype", "TCP"}}}},
       {{"method", "nvmf_create_subsystem"},
        {"params", {{"nqn", ana_nqn}, {"ana_reporting", true}, {"max_namespaces", 4}}}},
       {{"method", "nvmf_subsystem_add_ns"}, {"params", {{"nqn", ana_nqn}, {"namespace", {{"bdev_name", "Malloc0"}}}}}},
       {{"method", "nvmf_subsystem_add_listener"}, {"params", {{"nqn", ana_nqn}, {"listen_address", addr}}}},
       bad});
  json bdev = json::array();
  for (const char* name : {"Malloc0", "Malloc1"})
    bdev.push_back({{"method", "bdev_malloc_create"},
                    {"params", {{"name", name}, {"block_size", 512}, {"num_blocks", 2048}}}});
  return {{"subsystems", json::array({{{"subsystem", "bdev"}, {"config", bdev}},
                                      {{"subsystem", "nvmf"}, {"config", nvmf}}})}};
}

TEST(ana_config_test, a_bad_ana_state_or_group_in_a_config_is_a_clear_error) {
  auto ports = free_ports(1);
  ASSERT_EQ(ports.size(), 1u);
  const json l1 = address("127.0.0.1", ports[0]);
  auto set_state = [&](const json& extra) {
    json p = {{"nqn", ana_nqn}, {"listen_address", l1}};
    p.update(extra);
    return json{{"method", "nvmf_subsystem_listener_set_ana_state"}, {"params", p}};
  };
  struct row {
    const char* name;
    json call;
    errc code;
    std::string message;  // the end of the error message
  };
  const std::vector<row> rows{
      {"unknown state", set_state({{"ana_state", "optimised"}}), errc::invalid_argument,
       "ana_state: expected one of optimized, non_optimized, inaccessible, persistent_loss, change, got \"optimised\""},
      {"group above max_namespaces", set_state({{"ana_state", "inaccessible"}, {"anagrpid", 5}}),
       errc::invalid_argument, "anagrpid must be 1..4"},
      {"group 0", set_state({{"ana_state", "inaccessible"}, {"anagrpid", 0}}), errc::invalid_argument,
       "anagrpid must be 1..4"},
      {"group of a namespace above max_namespaces",
       {{"method", "nvmf_subsystem_add_ns"},
        {"params", {{"nqn", ana_nqn}, {"namespace", {{"bdev_name", "Malloc1"}, {"nsid", 2}, {"anagrpid", 5}}}}}},
       errc::invalid_argument, "anagrpid 5 is above max_namespaces 4"},
      {"add_listener takes SPDK's three states only",
       {{"method", "nvmf_subsystem_add_listener"},
        {"params", {{"nqn", ana_nqn}, {"listen_address", address("127.0.0.1", "1")}, {"ana_state", "change"}}}},
       errc::invalid_argument, "ana_state: expected one of optimized, non_optimized, inaccessible, got \"change\""},
      {"a listener the subsystem does not have", set_state({{"ana_state", "inaccessible"}, {"listen_address",
                                                                                            address("127.0.0.3", "9")}}),
       errc::not_found, "has no listener 127.0.0.3:9"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    rpc_target t;
    auto loaded = t.load(config_with(l1, r.call));
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.err().code, r.code);
    const std::string& msg = loaded.err().message;
    EXPECT_EQ(msg.rfind("config: " + r.call["method"].get<std::string>(), 0), 0u) << msg;
    EXPECT_TRUE(msg.ends_with(r.message)) << msg;
    // The calls before the bad one stay applied; the listener shows no ANA change.
    EXPECT_EQ(get_listeners(t, ana_nqn),
              json::array({{{"address", l1}, {"ana_states", ana_states({"optimized", "optimized", "optimized",
                                                                          "optimized"})}}}));
  }
}

}  // namespace
}  // namespace nvmfd
