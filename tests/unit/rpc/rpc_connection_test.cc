#include "rpc/rpc_connection.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace nvmfd {
namespace {

// An rpc_connection on one end of a socketpair; the test is the client on the other end.
class rpc_connection_test : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    peer_ = sv[1];
    conn_ = std::make_unique<rpc_connection>(sv[0], 64);
    methods_.add("echo", [](const json& p) -> result<json> { return p; });
  }
  void TearDown() override { ::close(peer_); }

  void send(std::string_view s) { ASSERT_EQ(::send(peer_, s.data(), s.size(), 0), ssize_t(s.size())); }
  // Lets the connection handle whatever is pending, as the server loop would.
  void pump() {
    pollfd p{conn_->fd(), conn_->poll_events(), 0};
    if (::poll(&p, 1, 100) > 0) conn_->on_events(p.revents, methods_);
  }
  std::string received() {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(peer_, buf, sizeof(buf), MSG_DONTWAIT)) > 0;) out.append(buf, n);
    return out;
  }

  int peer_ = -1;
  rpc_method_table methods_;
  std::unique_ptr<rpc_connection> conn_;
};

TEST_F(rpc_connection_test, answers_and_waits_for_more) {
  send(R"({"method":"echo","id":1})");
  pump();
  EXPECT_EQ(received(), "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":null}\n");
  EXPECT_FALSE(conn_->done());
  EXPECT_TRUE(conn_->poll_events() & POLLIN);
}

TEST_F(rpc_connection_test, oversized_request_is_answered_then_closed) {
  send(R"({"method":"echo","params":{"pad":")" + std::string(100, 'x'));
  pump();
  json r = json::parse(received());
  EXPECT_EQ(r["error"]["code"], -32600);
  EXPECT_EQ(r["error"]["message"],
            "Invalid request: JSON value exceeds the maximum size of 64 bytes");
  EXPECT_TRUE(conn_->done());
}

TEST_F(rpc_connection_test, eof_after_complete_requests_answers_them_then_done) {
  send(R"({"method":"echo","id":1}{"method":"echo","id":2})");
  ::shutdown(peer_, SHUT_WR);
  pump();
  std::string out = received();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
  EXPECT_TRUE(conn_->done());
}

TEST_F(rpc_connection_test, eof_mid_request_is_done_without_reply) {
  send(R"({"method":"echo","id":1)");
  ::shutdown(peer_, SHUT_WR);
  pump();
  EXPECT_EQ(received(), "");
  EXPECT_TRUE(conn_->done());
}

TEST_F(rpc_connection_test, peer_reset_is_done) {
  ::close(peer_);
  peer_ = ::dup(0);  // keep TearDown's close harmless
  pump();
  EXPECT_TRUE(conn_->done());
}

}  // namespace
}  // namespace nvmfd
