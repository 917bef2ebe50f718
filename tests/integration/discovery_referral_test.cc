// Referrals through SPDK's RPCs (nvmf_discovery_add_referral / _remove_referral /
// _get_referrals): their result shape, their entries in the discovery log, save_config /
// load_config, and nvmf_set_config's discovery_filter; bad params are clear -32602 errors.
#include <gtest/gtest.h>

#include "discovery_support.h"

namespace nvmfd {
namespace {

using namespace discovery_support;

const std::string remote_nqn = "nqn.2014-08.io.nvmfd.test:remote";

class discovery_referral_test : public discovery_rpc_test {};

TEST_F(discovery_referral_test, referrals_come_and_go_in_the_log_and_in_get_referrals) {
  test_client c;
  ASSERT_TRUE(connect_discovery(c));
  EXPECT_EQ(read_log(c).entries, (std::vector<entry>{current("127.0.0.1", ports[0])}));

  ASSERT_TRUE(ok_json(t.call("nvmf_discovery_add_referral",
                             {{"address", address("10.0.0.5", "8009")}, {"secure_channel", true}, {"tgt_name", "x"}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_discovery_add_referral",
                             {{"address", address("10.0.0.6", "4420")}, {"subnqn", remote_nqn}})));
  const json both = json::array(
      {{{"address", address("10.0.0.5", "8009")}, {"secure_channel", true}, {"subnqn", std::string(discovery_nqn)}},
       {{"address", address("10.0.0.6", "4420")}, {"secure_channel", false}, {"subnqn", remote_nqn}}});
  auto got = t.call("nvmf_discovery_get_referrals");
  ASSERT_TRUE(ok_json(got));
  EXPECT_EQ(*got, both);

  auto log = read_log(c);
  const std::vector<entry> want{
      current("127.0.0.1", ports[0]),
      {static_cast<uint8_t>(subsystem_type::referral), std::string(discovery_nqn), "10.0.0.5", "8009", 0,
       treq_bits::secure_channel_required},
      {static_cast<uint8_t>(subsystem_type::nvme), remote_nqn, "10.0.0.6", "4420", 0,
       treq_bits::secure_channel_not_specified}};
  EXPECT_EQ(log.entries, want);
  ASSERT_EQ(log.raw.size(), 3u);
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(log.raw[i].trtype, static_cast<uint8_t>(transport_type::tcp));
    EXPECT_EQ(log.raw[i].adrfam, static_cast<uint8_t>(address_family::ipv4));
    EXPECT_EQ(log.raw[i].portid.get(), 0) << "another service's port: no port ID of ours";
    EXPECT_EQ(log.raw[i].cntlid.get(), cntlid_dynamic);
  }

  // Adding one again succeeds and changes nothing (SPDK ignores it too).
  ASSERT_TRUE(ok_json(t.call("nvmf_discovery_add_referral", {{"address", address("10.0.0.5", "8009")}})));
  EXPECT_EQ(read_log(c).genctr, log.genctr);
  EXPECT_EQ(*t.call("nvmf_discovery_get_referrals"), both);

  // Removing: the key is address, service and subnqn.
  auto wrong = t.call("nvmf_discovery_remove_referral", {{"address", address("10.0.0.6", "4420")}});
  ASSERT_FALSE(wrong) << "10.0.0.6:4420 is a referral for " << remote_nqn << ", not the discovery NQN";
  EXPECT_EQ(wrong.err().code, errc::not_found);
  EXPECT_EQ(wrong.err().message, "no referral to 10.0.0.6:4420 for nqn.2014-08.org.nvmexpress.discovery");
  ASSERT_TRUE(ok_json(t.call("nvmf_discovery_remove_referral", {{"address", address("10.0.0.5", "8009")}})));
  EXPECT_EQ(read_log(c).entries, (std::vector<entry>{want[0], want[2]}));
  ASSERT_TRUE(ok_json(
      t.call("nvmf_discovery_remove_referral", {{"address", address("10.0.0.6", "4420")}, {"subnqn", remote_nqn}})));
  EXPECT_EQ(read_log(c).entries, (std::vector<entry>{want[0]}));
  EXPECT_EQ(*t.call("nvmf_discovery_get_referrals"), json::array());
}

TEST_F(discovery_referral_test, referrals_and_the_filter_survive_save_and_load) {
  const std::string nqn = "nqn.2014-08.io.nvmfd.test:saved";
  json saved, referrals;
  {
    rpc_target a;
    ASSERT_TRUE(ok_json(a.call("nvmf_create_transport", {{"trtype", "TCP"}})));
    ASSERT_TRUE(ok_json(a.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}})));
    ASSERT_TRUE(ok_json(
        a.call("nvmf_subsystem_add_listener", {{"nqn", nqn}, {"listen_address", address("127.0.0.1", ports[1])}})));
    ASSERT_TRUE(ok_json(a.call("nvmf_subsystem_add_listener",
                               {{"nqn", std::string(discovery_nqn)}, {"listen_address", address("127.0.0.1", ports[2])}})));
    ASSERT_TRUE(ok_json(a.call("nvmf_set_config", {{"discovery_filter", "svcid,address"}})));
    ASSERT_TRUE(ok_json(a.call("nvmf_discovery_add_referral",
                               {{"address", address("10.0.0.5", "8009")}, {"secure_channel", true}})));
    ASSERT_TRUE(ok_json(
        a.call("nvmf_discovery_add_referral", {{"address", address("10.0.0.6", "4420")}, {"subnqn", remote_nqn}})));
    referrals = *a.call("nvmf_discovery_get_referrals");
    saved = a.save();
  }
  json nvmf;
  for (auto& s : saved["subsystems"])
    if (s["subsystem"] == "nvmf") nvmf = s["config"];
  ASSERT_TRUE(nvmf.is_array());
  ASSERT_GE(nvmf.size(), 4u);
  EXPECT_EQ(nvmf.front(),
            (json{{"method", "nvmf_set_config"}, {"params", {{"discovery_filter", "address,svcid"}}}}));
  // Referrals last, after every listener.
  const size_t n = nvmf.size();
  EXPECT_EQ(nvmf[n - 2], (json{{"method", "nvmf_discovery_add_referral"}, {"params", referrals[0]}}));
  EXPECT_EQ(nvmf[n - 1], (json{{"method", "nvmf_discovery_add_referral"}, {"params", referrals[1]}}));
  EXPECT_EQ(nvmf[n - 3]["method"], "nvmf_subsystem_add_listener");

  rpc_target b;
  ASSERT_TRUE(ok(b.load(saved)));
  EXPECT_EQ(*b.call("nvmf_discovery_get_referrals"), referrals);
  EXPECT_EQ(b.target().current_discovery_filter().to_string(), "address,svcid");
  EXPECT_EQ(b.save(), saved);
}

TEST_F(discovery_referral_test, bad_params_are_clear_invalid_params_errors) {
  struct row {
    const char* method;
    json params;
    std::string message;
  };
  const std::vector<row> rows{
      {"nvmf_discovery_add_referral", json::object(), "address: required"},
      {"nvmf_discovery_add_referral", {{"address", {{"trtype", "FC"}, {"traddr", "10.0.0.5"}, {"trsvcid", "4420"}}}},
       "address.trtype: 'FC' is not supported; nvmfd serves TCP and RDMA"},
      {"nvmf_discovery_add_referral", {{"address", {{"trtype", "TCP"}, {"traddr", "10.0.0.5"}}}},
       "address.trsvcid: required for a referral"},
      {"nvmf_discovery_add_referral", {{"address", address("host.example", "4420")}},
       "address.traddr: 'host.example' is not a numeric IPv4 address"},
      {"nvmf_discovery_add_referral", {{"address", address("10.0.0.5", "4420")}, {"subnqn", "not-an-nqn"}},
       "subnqn: "},
      {"nvmf_discovery_add_referral", {{"address", address("10.0.0.5", "4420")}, {"secure_channel", "yes"}},
       "secure_channel: expected boolean"},
      {"nvmf_discovery_add_referral", {{"address", address("10.0.0.5", "4420")}, {"hostnqn", "x"}}, "hostnqn"},
      {"nvmf_discovery_remove_referral", {{"address", address("10.0.0.5", "4420")}, {"secure_channel", true}},
       "secure_channel"},
      {"nvmf_discovery_get_referrals", {{"nqn", "x"}}, "nqn"},
      {"nvmf_set_config", {{"discovery_filter", "match_any,address"}},
       "discovery_filter: match_any cannot be combined with other filters"},
      {"nvmf_set_config", {{"discovery_filter", "addr"}},
       "discovery_filter: 'addr' is not one of match_any, transport, address, svcid"},
      {"nvmf_set_config", {{"discovery_filter", ""}}, "discovery_filter: '' is not one of"},
      {"nvmf_set_config", {{"admin_cmd_passthru", {{"identify_ctrlr", true}}}},
       "admin_cmd_passthru.identify_ctrlr: admin command passthrough is not supported"},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(std::string(r.method) + " " + r.params.dump());
    auto got = t.call(r.method, r.params);
    ASSERT_FALSE(got);
    EXPECT_EQ(rpc_error_code(got.err()), rpc_error_invalid_params) << got.err().message;
    EXPECT_NE(got.err().message.find(r.message), std::string::npos) << got.err().message;
  }
  EXPECT_EQ(*t.call("nvmf_discovery_get_referrals"), json::array()) << "nothing was added";
  EXPECT_TRUE(t.target().current_discovery_filter().match_any()) << "the filter did not change";
  // SPDK's own nvmf_set_config, as its save_config writes it, loads.
  EXPECT_TRUE(ok_json(t.call("nvmf_set_config", {{"discovery_filter", "match_any"},
                                                  {"admin_cmd_passthru", {{"identify_ctrlr", false}}},
                                                  {"dhchap_digests", {"sha256", "sha384", "sha512"}},
                                                  {"dhchap_dhgroups", {"null", "ffdhe2048"}}})));
}

}  // namespace
}  // namespace nvmfd
