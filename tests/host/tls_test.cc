// TLS 1.3 with PSK (TP 8011), our host against our target in one process: a secure_channel
// listener, a host with the right PSK does verified I/O over it on every queue, and the
// RPCs show the key's name (a keyring key, as in SPDK) and the secure channel; a wrong PSK, no
// PSK, a PSK on a clear port, an unknown key name, a key that is no TLS PSK and a port both
// secure and clear are refused.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "host/dhchap_key_text.h"
#include "host/discovery_client.h"
#include "host/host_controller.h"
#include "host/io_command.h"
#include "local_target.h"
#include "proto/discovery_log.h"
#include "proto/nqn.h"
#include "run_io.h"
#include "target/discovery_log_page.h"
#include "tls/psk_file.h"

namespace nvmfd {
namespace {

using test::run_io;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:tls";
constexpr const char* hostnqn = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
// Interchange keys (32 bytes, hash 01) with their CRC-32, made by Python's base64/zlib.
constexpr const char* key_a = "NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";
constexpr const char* key_b = "NVMeTLSkey-1:01:ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmYRZmNw:";
// DH-HMAC-CHAP secrets (32 bytes, no transform) with their CRC-32, made the same way.
constexpr const char* chap_host = "DHHC-1:00:ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj/jBqb2:";
constexpr const char* chap_ctrl = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";

// A key file in a directory of its own, removed at the end.
class key_file {
 public:
  explicit key_file(const char* text, mode_t mode = 0600) {
    char tmpl[] = "/tmp/nvmfd-tls-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/key";
    std::ofstream(path_) << text;
    chmod(path_.c_str(), mode);
  }
  ~key_file() {
    std::remove(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }
  std::shared_ptr<const tls::configured_psk> psk() const {
    auto k = tls::read_psk_file(path_);
    EXPECT_TRUE(k) << k.err().message;
    return k ? std::make_shared<const tls::configured_psk>(std::move(*k)) : nullptr;
  }

 private:
  std::string dir_;
  std::string path_;
};

json listen_at(uint16_t port) {
  return {{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", "127.0.0.1"}, {"trsvcid", std::to_string(port)}};
}

class tls_io : public ::testing::Test {
 protected:
  void SetUp() override {
    t_.call("bdev_malloc_create", {{"name", "Malloc0"}, {"block_size", 512}, {"num_blocks", 8192}});
    t_.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", false}});
    t_.call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Malloc0"}}}});
    t_.call("keyring_file_add_key", {{"name", "key0"}, {"path", key_.path()}});
    t_.call("nvmf_subsystem_add_host", {{"nqn", nqn}, {"host", hostnqn}, {"psk", "key0"}});
    secure_port_ = test::free_port();
    t_.call("nvmf_subsystem_add_listener", {{"nqn", nqn}, {"secure_channel", true}, {"listen_address", listen_at(secure_port_)}});
  }

  result<std::shared_ptr<host_controller>> connect(uint16_t port, std::shared_ptr<const tls::configured_psk> psk,
                                                   const char* dhchap = nullptr, const char* dhchap_ctrl = nullptr,
                                                   std::string_view subnqn = nqn) {
    controller_options o;
    if (dhchap) o.dhchap_key = *parse_dhchap_key(dhchap);
    if (dhchap_ctrl) o.dhchap_ctrl_key = *parse_dhchap_key(dhchap_ctrl);
    o.hostnqn = hostnqn;
    o.num_io_queues = 2;
    o.connect_timeout_ms = 5000;
    o.tls_psk = std::move(psk);
    transport_id id;
    id.traddr = "127.0.0.1";
    id.trsvcid = std::to_string(port);
    id.subnqn = std::string(subnqn);
    if (is_discovery_nqn(subnqn)) o.num_io_queues = 0;
    return host_controller::connect(pool_, id, o);
  }

  test::local_target t_;
  reactor_pool pool_{2};
  key_file key_{key_a};
  uint16_t secure_port_ = 0;
};

TEST_F(tls_io, verified_io_over_tls_on_every_queue) {
  auto c = connect(secure_port_, key_.psk());
  ASSERT_TRUE(c) << c.err().message;
  std::mt19937 rng(7);
  uint64_t lba = 0;
  for (uint32_t len : {512u, 4096u, 16384u, 65536u, 131072u, 1048576u}) {
    for (int rep = 0; rep < 2; ++rep) {  // two I/O queues, round-robin
      std::vector<std::byte> out(len), in(len);
      for (auto& b : out) b = static_cast<std::byte>(rng());
      uint32_t nlb = len / 512;
      lba = (lba + nlb) % (8192 - 2048);
      ASSERT_TRUE(run_io(pool_, **c, make_rw(io_opcode::write, nsid_t{1}, lba, nlb), out.data(), len, true).status.ok()) << len;
      ASSERT_TRUE(run_io(pool_, **c, make_rw(io_opcode::read, nsid_t{1}, lba, nlb), in.data(), len, false).status.ok()) << len;
      EXPECT_EQ(in, out) << "length " << len;
    }
  }
  auto ctrls = t_.call("nvmf_subsystem_get_controllers", {{"nqn", nqn}});
  ASSERT_EQ(ctrls.size(), 1u);
  std::string sc = ctrls[0].value("secure_channel", "");
  EXPECT_TRUE(sc == "TLS_AES_128_GCM_SHA256, user-space" || sc == "TLS_AES_128_GCM_SHA256, kTLS" ||
              sc == "TLS_AES_128_GCM_SHA256, kTLS send")
      << sc;
  auto subs = t_.call("nvmf_get_subsystems", {{"nqn", nqn}});
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0]["hosts"][0]["psk"], "key0");
  (*c)->disconnect();
}

TEST_F(tls_io, wrong_psk_no_psk_and_psk_on_a_clear_port_are_refused) {
  key_file other(key_b);
  auto wrong = connect(secure_port_, other.psk());
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.err().message.find("TLS"), std::string::npos) << wrong.err().message;
  auto clear = connect(secure_port_, nullptr);
  EXPECT_FALSE(clear);
  // The clear-text port of the local target (its discovery listener) does not speak TLS.
  t_.call("nvmf_subsystem_add_listener", {{"nqn", nqn}, {"listen_address", listen_at(t_.port())}});
  auto tls_to_clear = connect(t_.port(), key_.psk());
  EXPECT_FALSE(tls_to_clear);
  // And the same host in clear text through that port is served (the key does not force TLS
  // where the listener does not).
  auto ok = connect(t_.port(), nullptr);
  ASSERT_TRUE(ok) << ok.err().message;
  (*ok)->disconnect();
}

TEST_F(tls_io, dhchap_runs_inside_the_tls_channel) {
  key_file host_secret(chap_host), ctrl_secret(chap_ctrl);
  t_.call("keyring_file_add_key", {{"name", "hk"}, {"path", host_secret.path()}});
  t_.call("keyring_file_add_key", {{"name", "ck"}, {"path", ctrl_secret.path()}});
  t_.call("nvmf_subsystem_set_keys", {{"nqn", nqn}, {"host", hostnqn}, {"dhchap_key", "hk"}, {"dhchap_ctrlr_key", "ck"}});
  // The right PSK alone no longer does: the controller asks for DH-HMAC-CHAP.
  auto tls_only = connect(secure_port_, key_.psk());
  ASSERT_FALSE(tls_only);
  EXPECT_NE(tls_only.err().message.find("DH-HMAC-CHAP"), std::string::npos) << tls_only.err().message;
  // A wrong controller secret fails the bidirectional check.
  auto wrong = connect(secure_port_, key_.psk(), chap_host, chap_host);
  EXPECT_FALSE(wrong);
  // Both: TLS on every queue, then DH-HMAC-CHAP (both ways) inside it; I/O works.
  auto c = connect(secure_port_, key_.psk(), chap_host, chap_ctrl);
  ASSERT_TRUE(c) << c.err().message;
  std::vector<std::byte> out(4096, std::byte{0x5a}), in(4096);
  ASSERT_TRUE(run_io(pool_, **c, make_rw(io_opcode::write, nsid_t{1}, 8, 8), out.data(), out.size(), true).status.ok());
  ASSERT_TRUE(run_io(pool_, **c, make_rw(io_opcode::read, nsid_t{1}, 8, 8), in.data(), in.size(), false).status.ok());
  EXPECT_EQ(in, out);
  auto subs = t_.call("nvmf_get_subsystems", {{"nqn", nqn}});
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0]["hosts"][0]["psk"], "key0");
  EXPECT_EQ(subs[0]["hosts"][0]["dhchap_key"], "hk");
  (*c)->disconnect();
}

TEST_F(tls_io, discovery_log_says_secure_channel_required) {
  auto page = build_discovery_log_page(t_.target(), hostnqn, "127.0.0.1", std::to_string(secure_port_));
  ASSERT_GE(page.size(), sizeof(discovery_log_header));
  size_t n = (page.size() - sizeof(discovery_log_header)) / sizeof(discovery_log_entry);
  bool found = false;
  for (size_t i = 0; i < n; ++i) {
    auto e = load_wire<discovery_log_entry>(page.data() + sizeof(discovery_log_header) + i * sizeof(discovery_log_entry));
    if (e.trsvcid_text() != std::to_string(secure_port_)) continue;
    found = true;
    EXPECT_EQ(e.treq & treq_bits::secure_channel_mask, treq_bits::secure_channel_required);
    EXPECT_EQ(e.tsas[0], static_cast<uint8_t>(tcp_sectype::tls13));
  }
  EXPECT_TRUE(found);
}

// TLS on the discovery controller: a secure listener of the discovery subsystem serves a
// host whose PSK is set for the discovery NQN (nvmf_subsystem_add_host on it, as SPDK), with
// the PSK identity naming the discovery NQN; a host without one is refused.
TEST_F(tls_io, discovery_controller_over_tls_with_a_psk_for_the_discovery_nqn) {
  const std::string disc(discovery_nqn);
  uint16_t disc_port = test::free_port();
  t_.call("nvmf_subsystem_add_listener",
          {{"nqn", disc}, {"secure_channel", true}, {"listen_address", listen_at(disc_port)}});
  // The host's PSK on the I/O subsystem alone does not open the discovery controller.
  auto refused = connect(disc_port, key_.psk(), nullptr, nullptr, disc);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.err().message.find("TLS"), std::string::npos) << refused.err().message;
  t_.call("nvmf_subsystem_add_host", {{"nqn", disc}, {"host", hostnqn}, {"psk", "key0"}});
  auto c = connect(disc_port, key_.psk(), nullptr, nullptr, disc);
  ASSERT_TRUE(c) << c.err().message;
  auto log = read_discovery_log(**c);
  ASSERT_TRUE(log) << log.err().message;
  bool secure_entry = false;
  for (auto& e : log->entries)
    if (e.subnqn == nqn && e.trsvcid == std::to_string(secure_port_))
      secure_entry = (e.treq & treq_bits::secure_channel_mask) == treq_bits::secure_channel_required;
  EXPECT_TRUE(secure_entry);
  auto ctrls = t_.call("nvmf_subsystem_get_controllers", {{"nqn", disc}});
  ASSERT_EQ(ctrls.size(), 1u);
  EXPECT_NE(ctrls[0].value("secure_channel", "").find("TLS_AES_128_GCM_SHA256"), std::string::npos) << ctrls[0];
  (*c)->disconnect();
}

TEST_F(tls_io, rpc_refuses_unknown_and_non_tls_keys_and_a_port_both_secure_and_clear) {
  auto* add_host = t_.methods().find("nvmf_subsystem_add_host");
  ASSERT_NE(add_host, nullptr);
  constexpr const char* other = "nqn.2014-08.org.nvmexpress:uuid:other";
  auto unknown = (*add_host)(json{{"nqn", nqn}, {"host", other}, {"psk", "no-such-key"}});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.err().message.find("no-such-key"), std::string::npos) << unknown.err().message;
  // A file path is a name like any other: SPDK no longer takes PSK paths.
  auto path = (*add_host)(json{{"nqn", nqn}, {"host", other}, {"psk", key_.path()}});
  EXPECT_FALSE(path);
  key_file dhchap("DHHC-1:00:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWbR3L3p:");
  t_.call("keyring_file_add_key", {{"name", "chap"}, {"path", dhchap.path()}});
  auto not_tls = (*add_host)(json{{"nqn", nqn}, {"host", other}, {"psk", "chap"}});
  ASSERT_FALSE(not_tls);
  EXPECT_NE(not_tls.err().message.find("not a TLS PSK"), std::string::npos) << not_tls.err().message;
  EXPECT_TRUE(t_.call("nvmf_get_subsystems", {{"nqn", nqn}})[0]["hosts"].size() == 1u);
  t_.call("nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.nvmfd:clear"}, {"allow_any_host", true}});
  auto* add_listener = t_.methods().find("nvmf_subsystem_add_listener");
  auto mixed = (*add_listener)(json{{"nqn", "nqn.2016-06.io.nvmfd:clear"}, {"listen_address", listen_at(secure_port_)}});
  ASSERT_FALSE(mixed);
  EXPECT_NE(mixed.err().message.find("secure_channel"), std::string::npos) << mixed.err().message;
}

}  // namespace
}  // namespace nvmfd
