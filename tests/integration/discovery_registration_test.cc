// Registrations of other targets' subsystems (nvmf_discovery_register / _deregister /
// _get_registrations, the explicit feed of a Centralized Discovery Controller): their log
// entries, one per (subnqn, address) whatever the sources, none for what the target serves
// itself, one new generation per real change, save/load of explicit ones, clear errors.
#include <gtest/gtest.h>

#include "discovery_support.h"

namespace nvmfd {
namespace {

using namespace discovery_support;

const std::string far_nqn = "nqn.2014-08.io.nvmfd.test:far";
const std::string other_nqn = "nqn.2014-08.io.nvmfd.test:other";

class discovery_registration_test : public discovery_rpc_test {
 protected:
  result<json> reg(const char* method, const std::string& nqn, const std::string& traddr, const std::string& svc) {
    return t.call(method, {{"subnqn", nqn}, {"listen_address", address(traddr, svc)}});
  }
};

TEST_F(discovery_registration_test, registered_subsystems_show_in_the_log_once) {
  test_client c;
  ASSERT_TRUE(connect_discovery(c));
  uint64_t g0 = read_log(c).genctr;
  ASSERT_TRUE(ok_json(reg("nvmf_discovery_register", far_nqn, "127.0.0.9", "4420")));
  ASSERT_TRUE(ok_json(reg("nvmf_discovery_register", other_nqn, "127.0.0.10", "4421")));
  auto log = read_log(c);
  EXPECT_GT(log.genctr, g0);
  EXPECT_EQ(log.entries, (std::vector<entry>{current("127.0.0.1", ports[0]), nvm(far_nqn, "127.0.0.9", "4420"),
                                             nvm(other_nqn, "127.0.0.10", "4421")}));
  ASSERT_EQ(log.raw.size(), 3u);
  EXPECT_EQ(log.raw[1].portid.get(), 0) << "not a port of ours";
  EXPECT_EQ(log.raw[1].cntlid.get(), cntlid_dynamic);

  // The same again, and the same subsystem found by a discovery service: still one entry, and
  // the explicit repeat is no change at all.
  ASSERT_TRUE(ok_json(reg("nvmf_discovery_register", far_nqn, "127.0.0.9", "4420")));
  EXPECT_EQ(read_log(c).genctr, log.genctr);
  discovery_registration found;
  found.subnqn = far_nqn;
  found.address.trtype = "TCP";
  found.address.adrfam = "IPv4";
  found.address.traddr = "127.0.0.9";
  found.address.trsvcid = "4420";
  t.target().set_registrations("discovery:d1", {found});
  EXPECT_EQ(read_log(c).entries.size(), 3u);
  auto regs = t.call("nvmf_discovery_get_registrations");
  ASSERT_TRUE(ok_json(regs));
  ASSERT_EQ(regs->size(), 3u);
  EXPECT_EQ((*regs)[0], (json{{"subnqn", far_nqn}, {"listen_address", address("127.0.0.9", "4420")}, {"source", "rpc"}}));
  EXPECT_EQ((*regs)[2]["source"], "discovery:d1");

  // Deregistering the explicit one leaves the service's: the entry stays.
  ASSERT_TRUE(ok_json(reg("nvmf_discovery_deregister", far_nqn, "127.0.0.9", "4420")));
  EXPECT_EQ(read_log(c).entries.size(), 3u);
  t.target().set_registrations("discovery:d1", {});
  EXPECT_EQ(read_log(c).entries, (std::vector<entry>{current("127.0.0.1", ports[0]), nvm(other_nqn, "127.0.0.10", "4421")}));

  // A subsystem this target serves at that address is listed once, as its own.
  ASSERT_TRUE(ok_json(t.call("nvmf_create_subsystem", {{"nqn", far_nqn}, {"allow_any_host", true}})));
  ASSERT_TRUE(ok_json(add_listener(far_nqn, "127.0.0.1", ports[1])));
  ASSERT_TRUE(ok_json(reg("nvmf_discovery_register", far_nqn, "127.0.0.1", ports[1])));
  auto entries = read_log(c).entries;
  EXPECT_EQ(std::count(entries.begin(), entries.end(), nvm(far_nqn, "127.0.0.1", ports[1])), 1) << entries.size();
}

TEST_F(discovery_registration_test, explicit_registrations_survive_save_and_load) {
  json saved;
  {
    rpc_target a;  // no listener: nothing to collide with the fixture's ports
    ASSERT_TRUE(ok_json(a.call("nvmf_discovery_register",
                               {{"subnqn", far_nqn}, {"listen_address", address("127.0.0.9", "4420")}})));
    discovery_registration found;
    found.subnqn = other_nqn;
    found.address.traddr = "127.0.0.10";
    found.address.trsvcid = "4421";
    a.target().set_registrations("discovery:d1", {found});
    saved = a.save();
  }
  rpc_target fresh;
  ASSERT_TRUE(fresh.load(saved).ok());
  auto regs = fresh.call("nvmf_discovery_get_registrations");
  ASSERT_TRUE(ok_json(regs));
  EXPECT_EQ(*regs, json::array({{{"subnqn", far_nqn}, {"listen_address", address("127.0.0.9", "4420")}, {"source", "rpc"}}}))
      << "a discovery service's findings come back with the service, not from the config";
}

TEST_F(discovery_registration_test, bad_params_are_clear_errors) {
  struct bad {
    json params;
    const char* field;
  };
  std::vector<bad> cases = {
      {{{"listen_address", address("127.0.0.9", "4420")}}, "subnqn"},
      {{{"subnqn", "not an nqn"}, {"listen_address", address("127.0.0.9", "4420")}}, "subnqn"},
      {{{"subnqn", std::string(discovery_nqn)}, {"listen_address", address("127.0.0.9", "4420")}}, "subnqn"},
      {{{"subnqn", far_nqn}}, "listen_address"},
      {{{"subnqn", far_nqn}, {"listen_address", {{"trtype", "TCP"}, {"traddr", "127.0.0.9"}}}}, "trsvcid"},
      {{{"subnqn", far_nqn}, {"listen_address", address("127.0.0.9", "4420")}, {"extra", 1}}, "extra"},
  };
  for (auto& c : cases) {
    auto r = t.call("nvmf_discovery_register", c.params);
    ASSERT_FALSE(r) << c.params.dump();
    EXPECT_EQ(r.err().code, errc::invalid_argument) << r.err().message;
    EXPECT_NE(r.err().message.find(c.field), std::string::npos) << r.err().message;
  }
  auto none = reg("nvmf_discovery_deregister", far_nqn, "127.0.0.9", "4420");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.err().code, errc::not_found);
}

}  // namespace
}  // namespace nvmfd
