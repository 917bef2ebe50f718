// tcp_host_qpair against a scripted controller on the other end of a socketpair: what our host
// does with stale completions, TermReqs, dropped connections, timeouts, R2T and SUCCESS.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <thread>

#include "host/tcp_host_qpair.h"
#include "host/io_command.h"
#include "tests/host/fake_controller.h"
#include "tests/lib/wait_until.h"

namespace nvmfd {
namespace {

struct recorder final : host_callback {
  std::promise<nvme_completion> p;
  void on_host_complete(host_request&, const nvme_completion& c) override { p.set_value(c); }
};

struct qpair_fixture : ::testing::Test {
  reactor_pool pool{1};
  int fds[2];
  std::shared_ptr<host_queue> q;
  fake_controller ctrl;

  void SetUp() override { make(30000); }
  void make(uint32_t timeout_ms) {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    tcp_host_qpair_params p;
    p.qid = qid_t{1};
    p.queue_size = 8;
    p.maxh2cdata = 65536;
    p.in_capsule_max = 4096;
    p.io_timeout_ms = timeout_ms;
    q = std::make_shared<tcp_host_qpair>(pool.at(0), fds[0], p);
    ctrl.fd = fds[1];
    pool.run_on(0, [this] { q->start(); });
  }
  void TearDown() override {
    if (q) {
      pool.run_on(0, [this] { q->fail("test over"); });
      pool.run_on(0, [this] { q.reset(); });
    }
    close(fds[1]);
  }
  // Submits cmd on the reactor; returns the CID it got.
  uint16_t submit(host_callback& r, nvme_sqe cmd, std::byte* data = nullptr, uint32_t len = 0, bool h2c = false) {
    std::promise<uint16_t> cid;
    pool.run_on(0, [&] {
      host_request* req = q->alloc();
      ASSERT_NE(req, nullptr);
      req->cmd = cmd;
      req->data = data;
      req->data_len = len;
      req->host_to_controller = h2c;
      req->cb = &r;
      q->submit(*req);
      cid.set_value(req->cmd.cid.get());
    });
    return cid.get_future().get();
  }
  static nvme_completion wait(recorder& r) {
    auto f = r.p.get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return f.get();
  }
};

TEST_F(qpair_fixture, completion_matches_its_command) {
  recorder r;
  uint16_t cid = submit(r, make_flush(nsid_t{1}));
  auto cmd = ctrl.read_pdu();
  EXPECT_EQ(load_wire<capsule_cmd_pdu>(cmd.data()).sqe.cid.get(), cid);
  ctrl.respond(cid);
  EXPECT_TRUE(wait(r).status.ok());
}

TEST_F(qpair_fixture, stale_completion_is_caught_and_fails_the_queue) {
  recorder first, second;
  uint16_t cid1 = submit(first, make_flush(nsid_t{1}));
  ctrl.read_pdu();
  ctrl.respond(cid1);
  EXPECT_TRUE(wait(first).status.ok());
  // The slot is reused with a new generation: the old CID is now stale.
  uint16_t cid2 = submit(second, make_flush(nsid_t{1}));
  ctrl.read_pdu();
  EXPECT_NE(cid1, cid2);
  ctrl.respond(cid1);
  auto c = wait(second);
  EXPECT_EQ(c.status.sct, status_type::path_related);
  EXPECT_EQ(c.status.sc, sc_host::host_path_error);
  std::promise<uint64_t> stale;
  pool.run_on(0, [&] { stale.set_value(q->stale_completions()); });
  EXPECT_EQ(stale.get_future().get(), 1u);
  EXPECT_TRUE(q->failed());
  EXPECT_NE(q->failure_reason().find("stale"), std::string::npos);
}

TEST_F(qpair_fixture, term_req_fails_every_outstanding_command) {
  recorder a, b;
  submit(a, make_flush(nsid_t{1}));
  submit(b, make_flush(nsid_t{1}));
  term_req_pdu t{};
  t.ch.type = static_cast<uint8_t>(pdu_type::c2h_term_req);
  t.fes = static_cast<uint16_t>(term_fes::invalid_header_field);
  ctrl.send_pdu(t);
  EXPECT_EQ(wait(a).status.sc, sc_host::host_path_error);
  EXPECT_EQ(wait(b).status.sc, sc_host::host_path_error);
  EXPECT_NE(q->failure_reason().find("C2HTermReq"), std::string::npos);
}

TEST_F(qpair_fixture, dropped_connection_fails_outstanding_commands) {
  recorder a;
  submit(a, make_flush(nsid_t{1}));
  shutdown(ctrl.fd, SHUT_RDWR);
  EXPECT_EQ(wait(a).status.sc, sc_host::host_path_error);
}

TEST_F(qpair_fixture, r2t_is_answered_in_maxh2cdata_chunks) {
  recorder r;
  std::vector<std::byte> data(256 * 1024);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i % 251);
  uint16_t cid = submit(r, make_rw(io_opcode::write, nsid_t{1}, 0, 512), data.data(), static_cast<uint32_t>(data.size()), true);
  auto cmd = load_wire<capsule_cmd_pdu>(ctrl.read_pdu().data());
  EXPECT_EQ(cmd.sqe.sgl.sgl_identifier, sgl_id::transport_data_block);
  r2t_pdu t{};
  t.ch.type = static_cast<uint8_t>(pdu_type::r2t);
  t.cccid = cid;
  t.ttag = 5;
  t.r2to = 0;
  t.r2tl = static_cast<uint32_t>(data.size());
  ctrl.send_pdu(t);
  std::vector<std::byte> got;
  for (int i = 0; i < 4; ++i) {
    auto pdu = ctrl.read_pdu();
    auto d = load_wire<data_pdu>(pdu.data());
    EXPECT_EQ(d.ch.type, static_cast<uint8_t>(pdu_type::h2c_data));
    EXPECT_EQ(d.ttag.get(), 5);
    EXPECT_EQ(d.datao.get(), got.size());
    EXPECT_EQ(d.datal.get(), 65536u);
    EXPECT_EQ((d.ch.flags & pdu_flags::last_pdu) != 0, i == 3);
    got.insert(got.end(), pdu.begin() + d.ch.pdo, pdu.end());
  }
  EXPECT_EQ(got, data);
  ctrl.respond(cid);
  EXPECT_TRUE(wait(r).status.ok());
}

TEST_F(qpair_fixture, small_write_goes_in_capsule) {
  recorder r;
  std::vector<std::byte> data(4096, std::byte{7});
  uint16_t cid = submit(r, make_rw(io_opcode::write, nsid_t{1}, 0, 8), data.data(), 4096, true);
  auto pdu = ctrl.read_pdu();
  auto cmd = load_wire<capsule_cmd_pdu>(pdu.data());
  EXPECT_EQ(cmd.sqe.sgl.sgl_identifier, sgl_id::data_block_offset);
  EXPECT_EQ(pdu.size(), 72u + 4096u);
  ctrl.respond(cid);
  EXPECT_TRUE(wait(r).status.ok());
}

TEST_F(qpair_fixture, c2h_success_flag_completes_without_a_response) {
  recorder r;
  std::vector<std::byte> buf(8192);
  uint16_t cid = submit(r, make_rw(io_opcode::read, nsid_t{1}, 0, 16), buf.data(), 8192);
  ctrl.read_pdu();
  data_pdu d{};
  d.ch.type = static_cast<uint8_t>(pdu_type::c2h_data);
  d.ch.flags = pdu_flags::last_pdu | pdu_flags::success;
  d.cccid = cid;
  d.datal = 8192;
  ctrl.send_pdu(d, std::vector<std::byte>(8192, std::byte{0x42}));
  EXPECT_TRUE(wait(r).status.ok());
  EXPECT_EQ(buf[8191], std::byte{0x42});
}

TEST_F(qpair_fixture, c2h_data_past_the_buffer_is_a_protocol_error) {
  recorder r;
  std::vector<std::byte> buf(4096);
  uint16_t cid = submit(r, make_rw(io_opcode::read, nsid_t{1}, 0, 8), buf.data(), 4096);
  ctrl.read_pdu();
  data_pdu d{};
  d.ch.type = static_cast<uint8_t>(pdu_type::c2h_data);
  d.cccid = cid;
  d.datao = 4096;  // past the 4096-byte buffer
  d.datal = 512;
  ctrl.send_pdu(d, std::vector<std::byte>(512));
  EXPECT_EQ(wait(r).status.sc, sc_host::host_path_error);
  EXPECT_TRUE(q->failed());
}

TEST_F(qpair_fixture, unanswered_command_times_out_as_host_aborted) {
  TearDown();
  make(200);
  recorder r;
  submit(r, make_flush(nsid_t{1}));
  ctrl.read_pdu();
  auto c = wait(r);
  EXPECT_EQ(c.status.sct, status_type::path_related);
  EXPECT_EQ(c.status.sc, sc_host::host_aborted);
  EXPECT_NE(q->failure_reason().find("timed out"), std::string::npos);
}

// Writes the controller does not read: the queue's sends stall on a full socket (with
// io_uring, a SENDMSG stays in flight). Failing the queue completes every command at once,
// and the last owner may drop the queue right away: it lives on until its channel is quiet
// (ASan builds check that nothing is used after it goes).
TEST_F(qpair_fixture, failing_with_sends_stuck_on_a_full_socket) {
  int small = 4096;
  ASSERT_EQ(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  std::vector<std::vector<std::byte>> bufs(8, std::vector<std::byte>(4096, std::byte{9}));
  std::array<recorder, 8> r;
  for (size_t i = 0; i < r.size(); ++i) submit(r[i], make_rw(io_opcode::write, nsid_t{1}, i * 8, 8), bufs[i].data(), 4096, true);
  // The writes have started to go out and the rest cannot: the send buffer holds bytes.
  ASSERT_TRUE(wait_until([&] {
    int unsent = 0;
    return ioctl(fds[0], TIOCOUTQ, &unsent) == 0 && unsent > 0;
  }));
  std::weak_ptr<host_queue> weak = q;
  pool.run_on(0, [this] {
    q->fail("failed with sends stuck");
    q.reset();  // the last owner lets go at once
  });
  for (auto& x : r) EXPECT_EQ(wait(x).status.sc, sc_host::host_path_error);
  EXPECT_TRUE(wait_until([&] { return weak.expired(); })) << "the queue was not destroyed once its channel was quiet";
}

// A caller that reuses its buffer as soon as its command completes (as it may): it writes
// 0xEE over it inside the completion callback.
struct scribbler final : host_callback {
  std::vector<std::byte> buf;
  std::promise<nvme_completion> p;
  void on_host_complete(host_request&, const nvme_completion& c) override {
    std::fill(buf.begin(), buf.end(), std::byte{0xEE});
    p.set_value(c);
  }
  nvme_completion wait() {
    auto f = p.get_future();
    EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    return f.get();
  }
};

std::vector<std::byte> pattern(size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 7 + seed) % 251);
  return v;
}

// Until the socket holds unsent bytes: the queue's further PDUs wait in its writer.
bool socket_is_full(int fd) {
  return wait_until([&] {
    int unsent = 0;
    return ioctl(fd, TIOCOUTQ, &unsent) == 0 && unsent > 0;
  });
}

r2t_pdu make_r2t(uint16_t cid, uint32_t offset, uint32_t length) {
  r2t_pdu t{};
  t.ch.type = static_cast<uint8_t>(pdu_type::r2t);
  t.cccid = cid;
  t.ttag = 1;
  t.r2to = offset;
  t.r2tl = length;
  return t;
}

// Hostile (or early) controller: the CapsuleResp for a write comes while the H2CData that
// answers its R2T is still queued on the host. The completion waits until that PDU is on the
// socket, so the caller's buffer is not read after its callback, and no further chunk goes out.
TEST_F(qpair_fixture, completion_while_h2c_data_is_queued_waits_for_the_send) {
  int small = 4096;
  ASSERT_EQ(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  const auto original = pattern(256 * 1024, 3);
  scribbler w;
  w.buf = original;
  uint16_t cid = submit(w, make_rw(io_opcode::write, nsid_t{1}, 0, 512), w.buf.data(), static_cast<uint32_t>(w.buf.size()), true);
  ctrl.read_pdu();
  ctrl.send_pdu(make_r2t(cid, 0, static_cast<uint32_t>(original.size())));
  ASSERT_TRUE(socket_is_full(fds[0]));
  ctrl.respond(cid);
  // The first 64 KiB chunk was on its way when the answer came: it arrives whole and intact.
  auto pdu = ctrl.read_pdu();
  auto d = load_wire<data_pdu>(pdu.data());
  ASSERT_EQ(d.datal.get(), 65536u);
  EXPECT_TRUE(std::equal(pdu.begin() + d.ch.pdo, pdu.end(), original.begin())) << "H2CData sent from a completed command's buffer";
  EXPECT_TRUE(w.wait().status.ok());
  std::byte more;
  EXPECT_EQ(recv(ctrl.fd, &more, 1, MSG_DONTWAIT), -1) << "data sent after the command completed";
}

// The same for a write whose in-capsule data is still queued behind other capsules.
TEST_F(qpair_fixture, completion_while_the_capsule_is_queued_waits_for_the_send) {
  int small = 4096;
  ASSERT_EQ(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  std::array<scribbler, 8> w;
  std::array<uint16_t, 8> cids{};
  for (size_t i = 0; i < w.size(); ++i) {
    w[i].buf = pattern(4096, static_cast<unsigned>(i));
    cids[i] = submit(w[i], make_rw(io_opcode::write, nsid_t{1}, i * 8, 8), w[i].buf.data(), 4096, true);
  }
  ASSERT_TRUE(socket_is_full(fds[0]));
  ctrl.respond(cids[7]);  // the last capsule cannot be on the socket yet
  for (size_t i = 0; i < w.size(); ++i) {
    auto pdu = ctrl.read_pdu();
    auto cmd = load_wire<capsule_cmd_pdu>(pdu.data());
    ASSERT_EQ(cmd.sqe.cid.get(), cids[i]);
    EXPECT_TRUE(std::equal(pdu.begin() + cmd.ch.pdo, pdu.end(), pattern(4096, static_cast<unsigned>(i)).begin()))
        << "capsule " << i << " sent from a completed command's buffer";
  }
  EXPECT_TRUE(w[7].wait().status.ok());
  for (size_t i = 0; i < 7; ++i) ctrl.respond(cids[i]);
  for (size_t i = 0; i < 7; ++i) EXPECT_TRUE(w[i].wait().status.ok());
}

// A second R2T while the first one's H2CData is still queued: that PDU's header is reused
// for the next chunk, so the next chunk waits until it is sent (queueing it twice linked the
// writer's queue to itself).
TEST_F(qpair_fixture, r2t_while_the_previous_h2c_data_is_queued) {
  const auto original = pattern(128 * 1024, 5);
  recorder r;
  auto data = original;
  uint16_t cid = submit(r, make_rw(io_opcode::write, nsid_t{1}, 0, 256), data.data(), static_cast<uint32_t>(data.size()), true);
  ctrl.read_pdu();
  // Both R2Ts in one write: the host reads them in one go, before its first H2CData is sent.
  std::vector<std::byte> both(2 * sizeof(r2t_pdu));
  for (uint32_t i = 0; i < 2; ++i) {
    auto t = make_r2t(cid, i * 65536, 65536);
    t.ch.hlen = sizeof(t);
    t.ch.plen = sizeof(t);
    std::memcpy(both.data() + i * sizeof(t), &t, sizeof(t));
  }
  ASSERT_EQ(send(ctrl.fd, both.data(), both.size(), MSG_NOSIGNAL), static_cast<ssize_t>(both.size()));
  std::vector<std::byte> got;
  for (int i = 0; i < 2; ++i) {
    auto pdu = ctrl.read_pdu();
    auto d = load_wire<data_pdu>(pdu.data());
    EXPECT_EQ(d.datao.get(), got.size());
    got.insert(got.end(), pdu.begin() + d.ch.pdo, pdu.end());
  }
  EXPECT_EQ(got, original);
  ctrl.respond(cid);
  EXPECT_TRUE(wait(r).status.ok());
}

}  // namespace
}  // namespace nvmfd
