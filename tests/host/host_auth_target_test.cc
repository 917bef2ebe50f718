// Our host's DH-HMAC-CHAP against our target (src/target's AUTH_Send/AUTH_Receive), over
// loopback: one and both directions on the admin and every I/O queue, each hash, an FFDHE
// group and the null group, a wrong host key refused by the target, a wrong controller key
// detected by the host, a target that requires a key the host does not have, and bdev_nvme
// with keyring-named keys authenticating again when it reconnects after a link cut.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "../integration/log_capture.h"
#include "host/host_controller.h"
#include "host_side.h"
#include "keys/dhchap_secret.h"
#include "link_proxy.h"
#include "local_target.h"
#include "tests/lib/wait_until.h"

namespace nvmfd {
namespace {

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:host-auth";
constexpr const char* hostnqn = "nqn.2014-08.org.nvmexpress:uuid:8d3f0b6a-41c2-4e7f-b5a9-2c6e1d0f9a37";

auth::dhchap_key make_key(uint8_t transform, uint8_t seed, size_t len = 32) {
  std::vector<uint8_t> raw(len);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(seed * 29 + i);
  return {transform, auth::secret_bytes(raw)};
}

struct host_auth_target : ::testing::Test {
  test::local_target t;
  reactor_pool pool{2};
  std::map<std::string, auth::dhchap_key> keys{
      {"key0", make_key(1, 1)}, {"ckey0", make_key(3, 2, 64)}, {"wrong", make_key(1, 9)}};

  void SetUp() override {
    t.target().set_dhchap_key_resolver([this](std::string_view name) -> result<auth::dhchap_key> {
      auto it = keys.find(std::string(name));
      if (it == keys.end()) return error{errc::not_found, "no such key"};
      return it->second;
    });
    t.add_subsystem(nqn, 512, 32768, false);
    ASSERT_TRUE(t.target().add_host(nqn, hostnqn));
    ASSERT_TRUE(t.target().set_host_keys(nqn, hostnqn, {"key0", "ckey0"}));
  }
  // The target's choice, restricted to one hash and one group.
  void target_allows(auth::hash_id h, auth::dh_group g) { t.target().set_dhchap_policy({{h}, {g}}); }

  result<std::shared_ptr<host_controller>> connect(std::optional<std::string> key,
                                                   std::optional<std::string> ctrl_key = std::nullopt) {
    transport_id trid;
    trid.traddr = "127.0.0.1";
    trid.trsvcid = t.port_text();
    trid.subnqn = nqn;
    controller_options o;
    o.hostnqn = hostnqn;
    if (key) o.dhchap_key = keys.at(*key);
    if (ctrl_key) o.dhchap_ctrl_key = keys.at(*ctrl_key);
    return host_controller::connect(pool, trid, o);
  }
};

class each_hash_on_target : public host_auth_target, public ::testing::WithParamInterface<auth::hash_id> {};

TEST_P(each_hash_on_target, unidirectional_with_the_null_group_on_every_queue) {
  target_allows(GetParam(), auth::dh_group::null);
  auto c = connect("key0");
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ((*c)->io_queue_count(), 2u);  // each authenticated, or the target would have failed them
  ASSERT_EQ((*c)->namespaces().size(), 1u);
  (*c)->disconnect();
}

INSTANTIATE_TEST_SUITE_P(hashes, each_hash_on_target,
                         ::testing::Values(auth::hash_id::sha256, auth::hash_id::sha384, auth::hash_id::sha512),
                         [](const auto& info) { return std::string(auth::name(info.param)); });

TEST_F(host_auth_target, bidirectional_with_ffdhe2048) {
  target_allows(auth::hash_id::sha384, auth::dh_group::ffdhe2048);
  auto c = connect("key0", "ckey0");
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ((*c)->io_queue_count(), 2u);
  // The queues work: an admin command after authentication.
  nvme_sqe id{};
  id.opcode = static_cast<uint8_t>(admin_opcode::identify);
  id.cdw10 = 1;
  std::vector<std::byte> buf(4096);
  auto r = (*c)->admin(id, buf.data(), 4096);
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_TRUE(r->status.ok());
  (*c)->disconnect();
}

TEST_F(host_auth_target, wrong_host_key_is_refused_by_the_target) {
  target_allows(auth::hash_id::sha256, auth::dh_group::null);
  auto c = connect("wrong");
  ASSERT_FALSE(c);
  EXPECT_NE(c.err().message.find("DH-HMAC-CHAP on qid 0 failed: the controller sent AUTH_Failure1"),
            std::string::npos)
      << c.err().message;
}

TEST_F(host_auth_target, wrong_controller_key_is_detected_by_the_host) {
  target_allows(auth::hash_id::sha256, auth::dh_group::ffdhe2048);
  auto c = connect("key0", "wrong");
  ASSERT_FALSE(c);
  EXPECT_NE(c.err().message.find("does not match"), std::string::npos) << c.err().message;
}

TEST_F(host_auth_target, a_target_requiring_a_key_the_host_lacks_is_a_clear_error) {
  auto c = connect(std::nullopt);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.err().code, errc::invalid_argument);
  EXPECT_NE(c.err().message.find("requires DH-HMAC-CHAP authentication (AUTHREQ.ATR) but no DH-HMAC-CHAP key is "
                                 "configured for host " + std::string(hostnqn)),
            std::string::npos)
      << c.err().message;
}

TEST_F(host_auth_target, no_group_in_common_fails_naming_it) {
  target_allows(auth::hash_id::sha256, auth::dh_group::ffdhe8192);
  transport_id trid{};
  auto c = [&] {
    controller_options o;
    o.hostnqn = hostnqn;
    o.dhchap_key = keys.at("key0");
    o.dhchap_dhgroups = {auth::dh_group::null, auth::dh_group::ffdhe2048};
    trid.traddr = "127.0.0.1";
    trid.trsvcid = t.port_text();
    trid.subnqn = nqn;
    return host_controller::connect(pool, trid, o);
  }();
  ASSERT_FALSE(c);
  EXPECT_NE(c.err().message.find("DH-HMAC-CHAP on qid 0 failed"), std::string::npos) << c.err().message;
}

// The path supervisor's reconnect goes through the same connector: after the link is cut
// (Keep Alive finds out) and restored, the host authenticates again, with the keys it read
// from the keyring at attach.
TEST_F(host_auth_target, a_reconnect_authenticates_again) {
  target_allows(auth::hash_id::sha512, auth::dh_group::ffdhe2048);
  test::link_proxy proxy("127.0.0.1", "127.0.0.1", t.port());
  test::host_side host{2};
  char tmpl[] = "/tmp/nvmfd-host-auth.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  for (const char* name : {"key0", "ckey0"}) {
    const auto& k = keys.at(name);
    std::string path = dir + "/" + name;
    std::ofstream(path) << keys::format_dhchap_secret({k.transform, {k.secret.data(), k.secret.data() + k.secret.size()}});
    chmod(path.c_str(), 0600);
    ASSERT_TRUE(host.keyring.add_file_key(name, path));
    std::remove(path.c_str());  // the keyring holds the material
  }
  rmdir(dir.c_str());
  log_capture log(spdlog::level::info);
  host.ok("bdev_nvme_set_options", {{"keep_alive_timeout_ms", 1000}});
  host.ok("bdev_nvme_attach_controller", {{"name", "A"}, {"trtype", "tcp"}, {"adrfam", "ipv4"},
                                          {"traddr", "127.0.0.1"}, {"trsvcid", std::to_string(proxy.port())},
                                          {"subnqn", nqn}, {"hostnqn", hostnqn}, {"dhchap_key", "key0"},
                                          {"dhchap_ctrlr_key", "ckey0"}, {"ctrlr_loss_timeout_sec", -1},
                                          {"reconnect_delay_sec", 1}, {"fast_io_fail_timeout_sec", 0}});
  auto authentications = [&] {
    size_t n = 0;
    for (const auto& l : log.lines())
      if (l.find("DH-HMAC-CHAP: authenticated to " + std::string(nqn) + " (sha512, ffdhe2048, bidirectional)") !=
          std::string::npos)
        ++n;
    return n;
  };
  auto state = [&] { return host.ok("bdev_nvme_get_controllers", {{"name", "A"}})[0]["ctrlrs"][0]["state"]; };
  EXPECT_EQ(authentications(), 1u);
  proxy.cut();
  ASSERT_TRUE(wait_until([&] { return state() != "enabled"; }, std::chrono::seconds(30)));
  proxy.restore();
  ASSERT_TRUE(wait_until([&] { return state() == "enabled"; }, std::chrono::seconds(30))) << state();
  EXPECT_EQ(authentications(), 2u);
  ASSERT_TRUE(host.controllers.detach("A"));
}

}  // namespace
}  // namespace nvmfd
