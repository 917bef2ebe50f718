// tls_session over a non-blocking socket pair in one thread: both ends are stepped in turn
// until neither can move (each step either progresses or waits for the other end).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "tls/psk_derivation.h"
#include "tls/tls_session.h"

namespace nvmfd::tls {
namespace {

constexpr std::string_view host = "nqn.2014-08.org.nvmexpress:uuid:host-a";
constexpr std::string_view sub = "nqn.2016-06.io.nvmfd:cnode1";

configured_psk key_of(size_t len, uint8_t seed) {
  configured_psk k;
  k.key = secret_bytes(len);
  for (size_t i = 0; i < len; ++i) k.key.data()[i] = static_cast<uint8_t>(seed + i);
  k.hash = retained_hash::sha256;
  return k;
}

struct pair {
  int fds[2] = {-1, -1};
  pair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0); }
  ~pair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

// The server's finder: the host's key, for identities that name host and sub.
psk_finder finder_for(configured_psk key) {
  return [key = std::move(key)](std::string_view text) -> result<tls_psk> {
    auto id = parse_psk_identity(text);
    if (!id) return id.take_err();
    if (id->hostnqn != host || id->subnqn != sub) return error{errc::not_found, "no PSK for this host"};
    return target_tls_psk(key, *id);
  };
}

// Steps both handshakes until both finish or one fails; returns (client, server) status.
std::pair<tls_session::status, tls_session::status> run(tls_session& c, tls_session& s) {
  tls_session::status cs = tls_session::status::want_write, ss = tls_session::status::want_read;
  for (int i = 0; i < 100; ++i) {
    if (cs != tls_session::status::ok && cs != tls_session::status::failed) cs = c.handshake();
    if (ss != tls_session::status::ok && ss != tls_session::status::failed) ss = s.handshake();
    bool c_over = cs == tls_session::status::ok || cs == tls_session::status::failed;
    bool s_over = ss == tls_session::status::ok || ss == tls_session::status::failed;
    if (c_over && s_over) break;
    if (cs == tls_session::status::failed || ss == tls_session::status::failed) {
      // One end failed: the other sees its alert or the end of the stream next.
      if (i > 50) break;
    }
  }
  return {cs, ss};
}

// A client and a server session over a socket pair, their handshake done.
struct connected {
  std::unique_ptr<tls_session> c, s;
  tls_psk offered;
};

// Connects the two ends of p with key (the PSK the host derives for `version`); the calling
// test fails (fatally) when any step does.
void connect(pair& p, const configured_psk& key, uint8_t version, connected& out) {
  auto offered = host_tls_psk(key, host, sub, version);
  ASSERT_TRUE(offered);
  auto c = tls_session::client(p.fds[0], *offered);
  auto s = tls_session::server(p.fds[1], finder_for(key));
  ASSERT_TRUE(c && s);
  auto [cs, ss] = run(**c, **s);
  ASSERT_EQ(cs, tls_session::status::ok) << (*c)->failure();
  ASSERT_EQ(ss, tls_session::status::ok) << (*s)->failure();
  out = {std::move(*c), std::move(*s), std::move(*offered)};
}

void handshake_and_exchange(size_t key_len, uint8_t version) {
  pair p;
  connected k;
  ASSERT_NO_FATAL_FAILURE(connect(p, key_of(key_len, 7), version, k));
  EXPECT_EQ(k.s->identity(), k.offered.identity);
  EXPECT_EQ(k.c->cipher(), cipher_suite(k.offered.hash));
  EXPECT_EQ(k.s->cipher(), cipher_suite(k.offered.hash));

  std::string msg = "an NVMe/TCP ICReq, say";
  auto w = k.c->write(std::as_bytes(std::span(msg)));
  ASSERT_EQ(w.st, tls_session::status::ok);
  EXPECT_EQ(w.n, msg.size());
  std::byte buf[64];
  auto r = k.s->read(buf);
  ASSERT_EQ(r.st, tls_session::status::ok) << k.s->failure();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf), r.n), msg);
  // Nothing more: the server waits.
  EXPECT_EQ(k.s->read(buf).st, tls_session::status::want_read);
  k.c->shutdown();
  EXPECT_EQ(k.s->read(buf).st, tls_session::status::closed);
}

TEST(tls_session, sha256_psk_version0) { handshake_and_exchange(32, 0); }
TEST(tls_session, sha384_psk_version0) { handshake_and_exchange(48, 0); }
TEST(tls_session, sha256_psk_version1) { handshake_and_exchange(32, 1); }

TEST(tls_session, coalesced_records_wait_for_flush_and_cross_a_full_socket_intact) {
  pair p;
  connected k;
  ASSERT_NO_FATAL_FAILURE(connect(p, key_of(32, 3), 0, k));
  k.c->coalesce_writes(32 * 1024);

  // A small write stays in the buffer until flush().
  std::string msg = "a CapsuleResp";
  ASSERT_EQ(k.c->write(std::as_bytes(std::span(msg))).st, tls_session::status::ok);
  EXPECT_TRUE(k.c->has_buffered_output());
  std::byte small[64];
  EXPECT_EQ(k.s->read(small).st, tls_session::status::want_read);
  ASSERT_EQ(k.c->flush(), tls_session::status::ok);
  EXPECT_FALSE(k.c->has_buffered_output());
  auto r = k.s->read(small);
  ASSERT_EQ(r.st, tls_session::status::ok) << k.s->failure();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(small), r.n), msg);

  // 4 MiB in pieces of 100 KiB: far more than the socket holds, so writes and flushes wait
  // (want_write) while the reader drains; every byte arrives once, in order.
  std::vector<uint8_t> sent(4 << 20), got;
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  constexpr size_t piece = 100 * 1024;
  size_t off = 0;
  bool waited = false;
  std::vector<std::byte> buf(64 * 1024);
  for (int rounds = 0; got.size() < sent.size() && rounds < 100000; ++rounds) {
    while (off < sent.size()) {  // write until the socket is full
      size_t len = std::min(piece, sent.size() - off);
      auto w = k.c->write({reinterpret_cast<const std::byte*>(sent.data()) + off, len});
      if (w.st != tls_session::status::ok) {
        ASSERT_EQ(w.st, tls_session::status::want_write) << k.c->failure();
        waited = true;
        break;
      }
      off += len;
    }
    if (off == sent.size() && k.c->has_buffered_output()) {
      auto f = k.c->flush();
      ASSERT_TRUE(f == tls_session::status::ok || f == tls_session::status::want_write) << k.c->failure();
      waited |= f == tls_session::status::want_write;
    }
    for (;;) {
      auto rd = k.s->read(buf);
      if (rd.st != tls_session::status::ok) {
        ASSERT_EQ(rd.st, tls_session::status::want_read) << k.s->failure();
        break;
      }
      auto* b = reinterpret_cast<const uint8_t*>(buf.data());
      got.insert(got.end(), b, b + rd.n);
    }
  }
  EXPECT_TRUE(waited);
  ASSERT_EQ(got.size(), sent.size());
  EXPECT_TRUE(got == sent);
}

TEST(tls_session, wrong_psk_is_refused_on_both_ends) {
  pair p;
  auto offered = host_tls_psk(key_of(32, 1), host, sub);
  ASSERT_TRUE(offered);
  auto c = tls_session::client(p.fds[0], *offered);
  auto s = tls_session::server(p.fds[1], finder_for(key_of(32, 2)));
  ASSERT_TRUE(c && s);
  auto [cs, ss] = run(**c, **s);
  EXPECT_EQ(ss, tls_session::status::failed);
  EXPECT_EQ(cs, tls_session::status::failed);
  EXPECT_FALSE((*s)->failure().empty());
  EXPECT_EQ((*s)->identity(), offered->identity);
}

TEST(tls_session, unknown_host_is_refused_with_the_finders_reason) {
  pair p;
  auto offered = host_tls_psk(key_of(32, 1), "nqn.2014-08.org.nvmexpress:uuid:other", sub);
  ASSERT_TRUE(offered);
  auto c = tls_session::client(p.fds[0], *offered);
  auto s = tls_session::server(p.fds[1], finder_for(key_of(32, 1)));
  ASSERT_TRUE(c && s);
  auto [cs, ss] = run(**c, **s);
  EXPECT_EQ(ss, tls_session::status::failed);
  EXPECT_EQ(cs, tls_session::status::failed);
  EXPECT_NE((*s)->failure().find("no PSK for this host"), std::string::npos) << (*s)->failure();
}

TEST(tls_session, clear_text_client_is_refused) {
  pair p;
  auto s = tls_session::server(p.fds[1], finder_for(key_of(32, 1)));
  ASSERT_TRUE(s);
  std::byte icreq[128] = {};  // an NVMe/TCP ICReq's common header: type 0, hlen 128
  icreq[2] = std::byte{128};
  ASSERT_EQ(::write(p.fds[0], icreq, sizeof(icreq)), 128);
  EXPECT_EQ((*s)->handshake(), tls_session::status::failed);
}

}  // namespace
}  // namespace nvmfd::tls
