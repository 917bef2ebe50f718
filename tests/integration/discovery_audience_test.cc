// Who sees what in the discovery log: registrations and referrals, like the target's own
// subsystems, are shown only to hosts that may use them (discovery_log_page.cc shown_to): a
// registration or referral of a subsystem the target serves follows that subsystem's allow
// list, and an entry with "hosts" only those hosts.
#include <gtest/gtest.h>

#include "discovery_support.h"

namespace nvmfd {
namespace {

using namespace discovery_support;

const std::string acl_nqn = "nqn.2014-08.io.nvmfd.test:audience-acl";
const std::string far_nqn = "nqn.2014-08.io.nvmfd.test:audience-far";
const std::string host_a = "nqn.2014-08.io.nvmfd.test:audience-host-a";
const std::string host_b = "nqn.2014-08.io.nvmfd.test:audience-host-b";

class discovery_audience_test : public discovery_rpc_test {
 protected:
  void SetUp() override {
    discovery_rpc_test::SetUp();
    // acl_nqn: only host_a may connect; it listens on ports[1].
    ASSERT_TRUE(ok_json(t.call("nvmf_create_subsystem", {{"nqn", acl_nqn}, {"allow_any_host", false}})));
    ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_add_host", {{"nqn", acl_nqn}, {"host", host_a}})));
    ASSERT_TRUE(ok_json(add_listener(acl_nqn, "127.0.0.1", ports[1])));
  }

  // The (subnqn, traddr) pairs of the log host reads.
  std::vector<std::pair<std::string, std::string>> seen_by(const std::string& host) {
    client_options o;
    o.hostnqn = host;
    test_client c(o);
    std::vector<std::pair<std::string, std::string>> out;
    if (!connect_discovery(c)) {
      ADD_FAILURE() << "discovery connect failed for " << host;
      return out;
    }
    for (auto& e : read_log(c).entries) out.emplace_back(e.subnqn, e.traddr);
    return out;
  }
  static bool has(const std::vector<std::pair<std::string, std::string>>& v, const std::string& nqn,
                  const std::string& traddr) {
    return std::find(v.begin(), v.end(), std::make_pair(nqn, traddr)) != v.end();
  }
};

TEST_F(discovery_audience_test, registration_of_an_acl_subsystem_is_shown_only_to_its_hosts) {
  // acl_nqn also served elsewhere (another target's port), registered here.
  ASSERT_TRUE(ok_json(t.call("nvmf_discovery_register",
                             {{"subnqn", acl_nqn}, {"listen_address", address("127.0.0.9", "4420")}})));
  auto a = seen_by(host_a), b = seen_by(host_b);
  EXPECT_TRUE(has(a, acl_nqn, "127.0.0.9"));
  EXPECT_FALSE(has(b, acl_nqn, "127.0.0.9")) << "a host not allowed on the subsystem learned its other address";
  EXPECT_FALSE(has(b, acl_nqn, "127.0.0.1"));
}

TEST_F(discovery_audience_test, referral_to_an_acl_subsystem_is_shown_only_to_its_hosts) {
  ASSERT_TRUE(ok_json(t.call("nvmf_discovery_add_referral",
                             {{"address", address("127.0.0.8", "4420")}, {"subnqn", acl_nqn}})));
  EXPECT_TRUE(has(seen_by(host_a), acl_nqn, "127.0.0.8"));
  EXPECT_FALSE(has(seen_by(host_b), acl_nqn, "127.0.0.8"));
}

TEST_F(discovery_audience_test, hosts_limit_a_registration_and_a_referral) {
  ASSERT_TRUE(ok_json(t.call("nvmf_discovery_register", {{"subnqn", far_nqn},
                                                         {"listen_address", address("127.0.0.9", "4420")},
                                                         {"hosts", json::array({host_a})}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_discovery_add_referral", {{"address", address("127.0.0.7", "8009")},
                                                             {"hosts", json::array({host_a})}})));
  auto a = seen_by(host_a), b = seen_by(host_b);
  EXPECT_TRUE(has(a, far_nqn, "127.0.0.9"));
  EXPECT_TRUE(has(a, std::string(discovery_nqn), "127.0.0.7"));
  EXPECT_FALSE(has(b, far_nqn, "127.0.0.9"));
  EXPECT_FALSE(has(b, std::string(discovery_nqn), "127.0.0.7"));
  // An entry without hosts is for everyone, as before.
  ASSERT_TRUE(ok_json(t.call("nvmf_discovery_add_referral", {{"address", address("127.0.0.6", "8009")}})));
  EXPECT_TRUE(has(seen_by(host_b), std::string(discovery_nqn), "127.0.0.6"));
  // The hosts come back from the get methods (and so in save_config).
  auto regs = t.call("nvmf_discovery_get_registrations");
  ASSERT_TRUE(ok_json(regs));
  ASSERT_EQ(regs->size(), 1u);
  EXPECT_EQ((*regs)[0]["hosts"], json::array({host_a}));
  // A bad host NQN is refused.
  EXPECT_FALSE(ok_json(t.call("nvmf_discovery_add_referral", {{"address", address("127.0.0.5", "8009")},
                                                              {"hosts", json::array({"not an nqn"})}})));
}

}  // namespace
}  // namespace nvmfd
