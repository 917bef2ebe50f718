// The DH-HMAC-CHAP RPCs with SPDK's names: nvmf_subsystem_add_host --dhchap-key/--dhchap-ctrlr-key
// (keyring names, checked), nvmf_subsystem_set_keys (re-key, clear), nvmf_set_config
// dhchap_digests/dhchap_dhgroups, nvmf_get_subsystems showing the names, and save_config
// keeping names (never key material) that load back.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "proto/nqn.h"
#include "rpc_target.h"
#include "test_support.h"

namespace nvmfd {
namespace {

constexpr std::string_view nqn = "nqn.2016-06.io.nvmfd:auth-rpc";
constexpr std::string_view host = "nqn.2014-08.org.nvmexpress:uuid:0b0c0d0e-0000-4000-8000-000000000001";
// 32 bytes 00..1f with their CRC-32 (the keys module's own test secret).
constexpr std::string_view secret = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";

class dhchap_rpc_test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dhchap_rpc.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A key file with text, added to t's keyring as name.
  void add_key(rpc_target& t, const std::string& name, std::string_view text = secret) {
    std::string path = (dir_ / name).string();
    { std::ofstream(path) << text << "\n"; }
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    ASSERT_TRUE(ok(t.call("keyring_file_add_key", {{"name", name}, {"path", path}})));
  }
  void make_subsystem(rpc_target& t) {
    ASSERT_TRUE(ok(t.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", false}})));
  }
  static json hosts_of(rpc_target& t, std::string_view subnqn) {
    auto s = t.call("nvmf_get_subsystems", {{"nqn", subnqn}});
    return s.ok() ? (*s)[0]["hosts"] : json();
  }

  std::filesystem::path dir_;
};

TEST_F(dhchap_rpc_test, add_host_with_keys_shows_their_names) {
  rpc_target t;
  add_key(t, "key0");
  add_key(t, "ckey0");
  make_subsystem(t);
  ASSERT_TRUE(ok(t.call("nvmf_subsystem_add_host",
                        {{"nqn", nqn}, {"host", host}, {"dhchap_key", "key0"}, {"dhchap_ctrlr_key", "ckey0"}})));
  EXPECT_EQ(hosts_of(t, nqn),
            json::parse(R"([{"nqn":")" + std::string(host) + R"(","dhchap_key":"key0","dhchap_ctrlr_key":"ckey0"}])"));
}

TEST_F(dhchap_rpc_test, add_host_refuses_unknown_keys_and_a_lone_controller_key) {
  rpc_target t;
  add_key(t, "key0");
  add_key(t, "notdhchap", "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:");
  make_subsystem(t);
  auto missing = t.call("nvmf_subsystem_add_host", {{"nqn", nqn}, {"host", host}, {"dhchap_key", "nokey"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.err().code, errc::not_found);
  EXPECT_EQ(hosts_of(t, nqn), json::array()) << "a refused add_host must not leave the host allowed";
  auto lone = t.call("nvmf_subsystem_add_host", {{"nqn", nqn}, {"host", host}, {"dhchap_ctrlr_key", "key0"}});
  ASSERT_FALSE(lone.ok());
  EXPECT_EQ(lone.err().code, errc::invalid_argument);
  auto tls = t.call("nvmf_subsystem_add_host", {{"nqn", nqn}, {"host", host}, {"dhchap_key", "notdhchap"}});
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.err().code, errc::invalid_argument);
  EXPECT_EQ(hosts_of(t, nqn), json::array());
}

TEST_F(dhchap_rpc_test, set_keys_rekeys_and_clears) {
  rpc_target t;
  add_key(t, "key0");
  add_key(t, "key1");
  make_subsystem(t);
  ASSERT_TRUE(ok(t.call("nvmf_subsystem_add_host", {{"nqn", nqn}, {"host", host}, {"dhchap_key", "key0"}})));
  ASSERT_TRUE(ok(t.call("nvmf_subsystem_set_keys",
                        {{"nqn", nqn}, {"host", host}, {"dhchap_key", "key1"}, {"dhchap_ctrlr_key", "key0"}})));
  EXPECT_EQ(hosts_of(t, nqn)[0]["dhchap_key"], "key1");
  EXPECT_EQ(hosts_of(t, nqn)[0]["dhchap_ctrlr_key"], "key0");
  ASSERT_TRUE(ok(t.call("nvmf_subsystem_set_keys", {{"nqn", nqn}, {"host", host}})));
  EXPECT_EQ(hosts_of(t, nqn), json::parse(R"([{"nqn":")" + std::string(host) + R"("}])"));
  auto stranger = t.call("nvmf_subsystem_set_keys",
                         {{"nqn", nqn}, {"host", "nqn.2014-08.org.nvmexpress:uuid:other"}, {"dhchap_key", "key0"}});
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.err().code, errc::not_found);
}

TEST_F(dhchap_rpc_test, set_config_digests_and_dhgroups) {
  rpc_target t;
  ASSERT_TRUE(ok(t.call("nvmf_set_config", {{"dhchap_digests", {"sha384", "sha512"}},
                                            {"dhchap_dhgroups", {"null", "ffdhe4096"}}})));
  auto p = t.target().current_dhchap_policy();
  EXPECT_TRUE(p.digests == (auth::hash_set{auth::hash_id::sha384, auth::hash_id::sha512}));
  EXPECT_TRUE(p.dhgroups == (auth::dh_group_set{auth::dh_group::null, auth::dh_group::ffdhe4096}));
  EXPECT_FALSE(t.call("nvmf_set_config", {{"dhchap_digests", {"md5"}}}).ok());
  EXPECT_FALSE(t.call("nvmf_set_config", {{"dhchap_dhgroups", json::array()}}).ok());
  EXPECT_TRUE(t.target().current_dhchap_policy().digests ==
              (auth::hash_set{auth::hash_id::sha384, auth::hash_id::sha512}))
      << "a refused call changes nothing";
}

TEST_F(dhchap_rpc_test, save_config_keeps_names_and_loads_back) {
  json saved;
  {
    rpc_target t;
    add_key(t, "key0");
    add_key(t, "ckey0");
    make_subsystem(t);
    ASSERT_TRUE(ok(t.call("nvmf_subsystem_add_host",
                          {{"nqn", nqn}, {"host", host}, {"dhchap_key", "key0"}, {"dhchap_ctrlr_key", "ckey0"}})));
    ASSERT_TRUE(ok(t.call("nvmf_subsystem_add_host", {{"nqn", std::string(discovery_nqn)}, {"host", host},
                                                      {"dhchap_key", "key0"}})));
    ASSERT_TRUE(ok(t.call("nvmf_set_config", {{"dhchap_digests", {"sha512"}}})));
    saved = t.save();
  }
  const std::string text = saved.dump();
  EXPECT_EQ(text.find("AAECAw"), std::string::npos) << "key material in the config";
  EXPECT_NE(text.find(R"("dhchap_ctrlr_key":"ckey0")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("dhchap_digests":["sha512"])"), std::string::npos) << text;

  rpc_target again;
  ASSERT_TRUE(ok(again.load(saved)));
  EXPECT_EQ(hosts_of(again, nqn)[0]["dhchap_ctrlr_key"], "ckey0");
  EXPECT_EQ(hosts_of(again, discovery_nqn)[0]["dhchap_key"], "key0");
  EXPECT_TRUE(again.target().current_dhchap_policy().digests == auth::hash_set{auth::hash_id::sha512});
  EXPECT_EQ(again.save(), saved);
}

}  // namespace
}  // namespace nvmfd
