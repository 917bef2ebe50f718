// queue_authenticator (our host's DH-HMAC-CHAP over AUTH_Send / AUTH_Receive) on a tcp_host_qpair
// against a scripted controller that runs src/auth's controller engine: each hash, the null
// group and an FFDHE group, one and both directions, wrong keys on either side, no hash in
// common, a controller that fails AUTH_Receive.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "auth/controller_auth.h"
#include "host/queue_authenticator.h"
#include "host/tcp_host_qpair.h"
#include "tests/host/fake_controller.h"

namespace nvmfd {
namespace {

const std::string hostnqn = "nqn.2014-08.org.nvmexpress:uuid:5b0c1f7e-2a44-4d1b-9d0e-7f3a6c2b8e91";
const std::string subnqn = "nqn.2016-06.io.nvmfd:queue-auth";

auth::dhchap_key key(uint8_t fill, uint8_t transform = 0, size_t len = 32) {
  std::vector<uint8_t> raw(len);
  for (size_t i = 0; i < len; ++i) raw[i] = static_cast<uint8_t>(fill + i * 13);
  return {transform, auth::secret_bytes(raw)};
}

// The controller: serves AUTH_Send and AUTH_Receive from its engine on a thread until
// stopped; any other command is a test failure.
struct auth_controller {
  fake_controller io;
  auth::controller_auth engine;
  bool fail_receive = false;  // answer AUTH_Receive with Invalid Field
  std::vector<std::string> sent;  // what the host sent, by name
  std::atomic<bool> stop{false};
  std::thread thread;

  auth_controller(int fd, auth::controller_auth_config cfg) : io{fd}, engine(std::move(cfg)) {}
  void start() {
    thread = std::thread([this] {
      while (!stop) {
        pollfd pf{io.fd, POLLIN, 0};
        if (poll(&pf, 1, 20) <= 0) continue;
        serve(io.read_pdu());
      }
    });
  }
  void join() {
    stop = true;
    thread.join();
  }
  void serve(const std::vector<std::byte>& pdu) {
    auto cap = load_wire<capsule_cmd_pdu>(pdu.data());
    const nvme_sqe& c = cap.sqe;
    uint16_t cid = c.cid.get();
    ASSERT_EQ(c.opcode, static_cast<uint8_t>(admin_opcode::fabrics));
    EXPECT_EQ(c.cdw10.get(), 0xe9010100u);  // SECP E9h, SPSP1 01h, SPSP0 01h
    auto type = static_cast<fabrics_type>(c.nsid.raw[0]);
    if (type == fabrics_type::authentication_send) {
      std::span<const std::byte> data(pdu.data() + cap.ch.pdo, pdu.size() - cap.ch.pdo);
      EXPECT_EQ(data.size(), c.cdw11.get());
      auto k = auth::peek_kind(data);
      sent.push_back(!k ? "?" : k->id == 0x00 ? "negotiate" : k->id == 0x02 ? "reply" : k->id == 0x04 ? "success2"
                                : k->id == 0xf0 ? "failure2" : "?");
      engine.on_send(data);
      return io.respond(cid);
    }
    ASSERT_EQ(type, fabrics_type::authentication_receive);
    uint32_t al = c.cdw11.get();
    EXPECT_EQ(al, auth_receive_length);
    auto m = fail_receive ? std::nullopt : engine.on_receive(al);
    if (!m) return io.respond(cid, nvme_status::generic(sc_generic::invalid_field));
    m->resize(al);  // zero padded to AL, as nvmet sends it
    io.send_data(cid, *m);
    io.respond(cid);
  }
};

struct queue_auth : ::testing::Test {
  reactor_pool pool{1};
  int fds[2];
  std::shared_ptr<host_queue> q;

  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    tcp_host_qpair_params p;
    p.qid = qid_t{2};
    p.queue_size = 8;
    p.maxh2cdata = 65536;
    p.in_capsule_max = 8192;
    p.io_timeout_ms = 10000;
    q = std::make_shared<tcp_host_qpair>(pool.at(0), fds[0], p);
    pool.run_on(0, [this] { q->start(); });
  }
  void TearDown() override {
    pool.run_on(0, [this] { q->fail("test over"); });
    pool.run_on(0, [this] { q.reset(); });
    close(fds[1]);
  }

  // One transaction: host configuration h against controller configuration c.
  result<void> run(auth::host_auth_config h, auth::controller_auth_config c, auth_controller** seen = nullptr,
                   bool fail_receive = false) {
    ctrl_ = std::make_unique<auth_controller>(fds[1], std::move(c));
    ctrl_->fail_receive = fail_receive;
    ctrl_->start();
    std::promise<result<void>> done;
    authenticate_queue(q, std::move(h), pool.at(0).now() + std::chrono::seconds(10),
                       [&](result<void> r) { done.set_value(std::move(r)); });
    auto f = done.get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    auto r = f.get();
    ctrl_->join();
    if (seen) *seen = ctrl_.get();
    return r;
  }
  static auth::host_auth_config host(auth::dhchap_key k, std::optional<auth::dhchap_key> ck = std::nullopt) {
    auth::host_auth_config h;
    h.hostnqn = hostnqn;
    h.subnqn = subnqn;
    h.host_key = std::move(k);
    h.ctrl_key = std::move(ck);
    h.tid = 7;
    return h;
  }
  static auth::controller_auth_config controller(auth::dhchap_key k, std::optional<auth::dhchap_key> ck = std::nullopt) {
    return {hostnqn, subnqn, std::move(k), std::move(ck)};
  }
  std::unique_ptr<auth_controller> ctrl_;
};

class each_hash : public queue_auth, public ::testing::WithParamInterface<auth::hash_id> {};

TEST_P(each_hash, unidirectional_with_the_null_group) {
  auto c = controller(key(1));
  c.hashes = {GetParam()};
  c.dh_groups = {auth::dh_group::null};
  auth_controller* seen = nullptr;
  auto r = run(host(key(1)), c, &seen);
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_TRUE(seen->engine.authenticated());
  EXPECT_EQ(seen->engine.hash(), GetParam());
  EXPECT_EQ(seen->sent, (std::vector<std::string>{"negotiate", "reply"}));
}

INSTANTIATE_TEST_SUITE_P(hashes, each_hash,
                         ::testing::Values(auth::hash_id::sha256, auth::hash_id::sha384, auth::hash_id::sha512),
                         [](const auto& info) { return std::string(auth::name(info.param)); });

TEST_F(queue_auth, bidirectional_with_ffdhe2048_and_transformed_keys) {
  auto c = controller(key(1, 1), key(9, 3, 64));
  c.dh_groups = {auth::dh_group::ffdhe2048};
  auth_controller* seen = nullptr;
  auto r = run(host(key(1, 1), key(9, 3, 64)), c, &seen);
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_TRUE(seen->engine.authenticated());
  EXPECT_TRUE(seen->engine.bidirectional());
  EXPECT_EQ(seen->engine.group(), auth::dh_group::ffdhe2048);
  EXPECT_EQ(seen->sent, (std::vector<std::string>{"negotiate", "reply", "success2"}));
}

TEST_F(queue_auth, wrong_host_key_is_refused_by_the_controller) {
  auto r = run(host(key(2)), controller(key(1)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  EXPECT_NE(r.err().message.find("DH-HMAC-CHAP on qid 2 failed"), std::string::npos) << r.err().message;
  EXPECT_NE(r.err().message.find("AUTH_Failure1"), std::string::npos) << r.err().message;
}

TEST_F(queue_auth, wrong_controller_key_is_detected_and_answered_with_failure2) {
  auth_controller* seen = nullptr;
  auto r = run(host(key(1), key(5)), controller(key(1), key(6)), &seen);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("does not match"), std::string::npos) << r.err().message;
  EXPECT_EQ(seen->sent, (std::vector<std::string>{"negotiate", "reply", "failure2"}));
  EXPECT_FALSE(seen->engine.authenticated());
}

TEST_F(queue_auth, no_hash_in_common_fails) {
  auto h = host(key(1));
  h.hashes = {auth::hash_id::sha512};
  auto c = controller(key(1));
  c.hashes = {auth::hash_id::sha256};
  auto r = run(h, c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("failed"), std::string::npos) << r.err().message;
}

TEST_F(queue_auth, a_failing_auth_receive_names_the_step_and_status) {
  auto r = run(host(key(1)), controller(key(1)), nullptr, true);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::io_error);
  EXPECT_NE(r.err().message.find("AUTH_Receive failed: NVMe status SCT 0x0 SC 0x2"), std::string::npos)
      << r.err().message;
}

TEST_F(queue_auth, errors_never_carry_the_key) {
  auto r = run(host(key(1), key(5)), controller(key(1), key(6)));
  ASSERT_FALSE(r);
  for (uint8_t fill : {1, 5}) {
    auto k = key(fill);
    std::string raw(reinterpret_cast<const char*>(k.secret.data()), 8);
    EXPECT_EQ(r.err().message.find(raw), std::string::npos);
  }
}

}  // namespace
}  // namespace nvmfd
