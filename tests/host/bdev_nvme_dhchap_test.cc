// bdev_nvme's DH-HMAC-CHAP parameters (SPDK's): dhchap_key / dhchap_ctrlr_key name keyring
// keys, bdev_nvme_set_options takes dhchap_digests / dhchap_dhgroups; bad ones are -32602
// naming the field and never the key; a controller key makes the host authenticate even when
// the controller does not ask (its refusal is the attach's error).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "host_side.h"
#include "local_target.h"
#include "rpc/jsonrpc_dispatch.h"

namespace nvmfd {
namespace {

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:bdev-dhchap";
// A DH-HMAC-CHAP secret (nvme-cli's test vector shape: 32 bytes + CRC, no transform) and a TLS PSK.
constexpr const char* secret = "DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:";
constexpr const char* tls_psk = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";

struct dhchap_host : ::testing::Test {
  test::host_side host;
  std::string dir;

  void SetUp() override {
    char tmpl[] = "/tmp/nvmfd-dhchap-rpc.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = tmpl;
    add_key("key0", secret);
    add_key("psk0", tls_psk);
  }
  void TearDown() override {
    for (auto n : {"key0", "psk0"}) std::remove((dir + "/" + n).c_str());
    rmdir(dir.c_str());
  }
  void add_key(const std::string& name, const std::string& text) {
    std::string path = dir + "/" + name;
    std::ofstream(path) << text << "\n";
    chmod(path.c_str(), 0600);
    ASSERT_TRUE(host.keyring.add_file_key(name, path));
  }
  json attach(const test::local_target& t, json patch) {
    json p = {{"name", "A"}, {"trtype", "tcp"}, {"adrfam", "ipv4"}, {"traddr", "127.0.0.1"},
              {"trsvcid", t.port_text()}, {"subnqn", nqn}, {"ctrlr_loss_timeout_sec", 0},
              {"reconnect_delay_sec", 0}, {"fast_io_fail_timeout_sec", 0}};
    p.update(patch);
    return p;
  }
};

TEST_F(dhchap_host, bad_keys_are_invalid_params_naming_the_field_not_the_key) {
  test::local_target t;
  t.add_subsystem(nqn);
  struct bad_case {
    json patch;
    const char* text;
  };
  const std::vector<bad_case> cases = {
      {{{"dhchap_key", "nokey"}}, "dhchap_key: no key named 'nokey' in the keyring"},
      {{{"dhchap_key", "psk0"}}, "dhchap_key: key 'psk0' is not a DH-HMAC-CHAP secret"},
      {{{"dhchap_key", "key0"}, {"dhchap_ctrlr_key", "psk0"}}, "dhchap_ctrlr_key: key 'psk0'"},
      {{{"dhchap_ctrlr_key", "key0"}}, "dhchap_ctrlr_key: needs dhchap_key"},
  };
  for (const auto& c : cases) {
    auto r = host.call("bdev_nvme_attach_controller", attach(t, c.patch));
    ASSERT_FALSE(r.ok()) << c.patch.dump();
    EXPECT_EQ(rpc_error_code(r.err()), rpc_error_invalid_params) << r.err().message;
    EXPECT_EQ(r.err().message.rfind(c.text, 0), 0u) << r.err().message;
    EXPECT_EQ(r.err().message.find("ia6zGod"), std::string::npos);
    EXPECT_EQ(r.err().message.find("VRLbtn"), std::string::npos);
  }
}

TEST_F(dhchap_host, set_options_takes_spdk_digest_and_group_names) {
  for (json bad : {json{{"dhchap_digests", {"md5"}}}, json{{"dhchap_digests", json::array()}},
                   json{{"dhchap_dhgroups", {"ffdhe1024"}}}, json{{"dhchap_dhgroups", "null"}}}) {
    auto r = host.call("bdev_nvme_set_options", bad);
    ASSERT_FALSE(r.ok()) << bad.dump();
    EXPECT_EQ(rpc_error_code(r.err()), rpc_error_invalid_params) << r.err().message;
    EXPECT_EQ(r.err().message.rfind(bad.begin().key(), 0), 0u) << r.err().message;
  }
  host.ok("bdev_nvme_set_options", {{"dhchap_digests", {"sha512", "sha256"}}, {"dhchap_dhgroups", {"null", "ffdhe8192"}}});
  const auto& d = host.controllers.defaults();
  EXPECT_EQ(d.dhchap_digests, (auth::hash_set{auth::hash_id::sha256, auth::hash_id::sha512}));
  EXPECT_EQ(d.dhchap_dhgroups, (auth::dh_group_set{auth::dh_group::null, auth::dh_group::ffdhe8192}));
}

TEST_F(dhchap_host, a_host_key_alone_is_unused_when_the_controller_does_not_ask) {
  test::local_target t;
  t.add_subsystem(nqn);
  EXPECT_EQ(host.ok("bdev_nvme_attach_controller", attach(t, {{"dhchap_key", "key0"}})), json::array({"An1"}));
}

TEST_F(dhchap_host, a_controller_key_authenticates_even_unasked_and_its_failure_fails_the_attach) {
  // A target that does not authenticate this host (nvmfd's without DH-HMAC-CHAP for it):
  // the exchange fails, and the attach with it, naming the step.
  test::local_target t;
  t.add_subsystem(nqn);
  auto r = host.call("bdev_nvme_attach_controller", attach(t, {{"dhchap_key", "key0"}, {"dhchap_ctrlr_key", "key0"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("DH-HMAC-CHAP on qid 0"), std::string::npos) << r.err().message;
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()), json::array());
}

}  // namespace
}  // namespace nvmfd
