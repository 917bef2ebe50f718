// pdu_writer -> socket -> pdu_reader round trips: every PDU the writer builds is read back
// intact, with digests on and off, whatever the byte boundaries the stream is cut at.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "nvme_tcp/pdu_reader.h"
#include "nvme_tcp/pdu_writer.h"

namespace nvmfd {
namespace {

struct received {
  std::vector<std::byte> header;
  std::vector<std::byte> data;
  bool digest_ok;
};

struct recording_sink final : pdu_reader_sink {
  std::vector<received> pdus;
  std::vector<std::byte> buf;
  std::variant<std::byte*, term_error> on_pdu_header(std::span<const std::byte> header, uint32_t data_len) override {
    buf.assign(data_len, std::byte{0});
    pdus.push_back({{header.begin(), header.end()}, {}, true});
    return buf.data();
  }
  void on_pdu_received(std::span<const std::byte>, bool ok) override {
    pdus.back().data = buf;
    pdus.back().digest_ok = ok;
  }
};

struct socket_pair {
  int fds[2];
  socket_pair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0); }
  ~socket_pair() {
    close(fds[0]);
    close(fds[1]);
  }
};

// Builds a CapsuleCmd with in-capsule data and an H2CData PDU, as a host would send them.
std::vector<std::byte> host_stream(bool hdgst, bool ddgst, const std::vector<std::byte>& data,
                                   std::array<std::byte, 128>& h1, std::array<std::byte, 128>& h2) {
  capsule_cmd_pdu cmd{};
  cmd.ch.type = static_cast<uint8_t>(pdu_type::capsule_cmd);
  cmd.sqe.opcode = 0x01;
  cmd.sqe.cid = 7;
  std::memcpy(h1.data(), &cmd, sizeof(cmd));
  data_pdu d{};
  d.ch.type = static_cast<uint8_t>(pdu_type::h2c_data);
  d.ch.flags = pdu_flags::last_pdu;
  d.cccid = 7;
  d.datal = static_cast<uint32_t>(data.size());
  std::memcpy(h2.data(), &d, sizeof(d));
  tx_pdu p1, p2;
  pdu_writer::build(p1, h1.data(), sizeof(cmd), data.data(), 512, hdgst, ddgst);
  pdu_writer::build(p2, h2.data(), sizeof(d), data.data(), static_cast<uint32_t>(data.size()), hdgst, ddgst);
  std::vector<std::byte> out;
  for (tx_pdu* p : {&p1, &p2})
    for (int i = 0; i < p->iovcnt; ++i) {
      auto* b = static_cast<std::byte*>(p->iov[i].iov_base);
      out.insert(out.end(), b, b + p->iov[i].iov_len);
    }
  return out;
}

class pdu_stream : public ::testing::TestWithParam<std::pair<bool, bool>> {};

TEST_P(pdu_stream, round_trip_at_every_split_point) {
  auto [hdgst, ddgst] = GetParam();
  std::vector<std::byte> data(40000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7 + 3);
  std::array<std::byte, 128> h1{}, h2{};
  auto stream = host_stream(hdgst, ddgst, data, h1, h2);
  pdu_check_params params{pdu_role::target, true, hdgst, ddgst, 0, 1 << 20};
  // Split the byte stream in two at every point (stepping through the large data quickly).
  for (size_t cut = 0; cut <= stream.size(); cut += (cut < 200 || stream.size() - cut < 200) ? 1 : 997) {
    socket_pair sp;
    recording_sink sink;
    pdu_reader reader(sink, params);
    ASSERT_EQ(write(sp.fds[0], stream.data(), cut), static_cast<ssize_t>(cut));
    EXPECT_EQ(reader.pump(sp.fds[1], 1 << 20), read_status::would_block);
    ASSERT_EQ(write(sp.fds[0], stream.data() + cut, stream.size() - cut), static_cast<ssize_t>(stream.size() - cut));
    EXPECT_EQ(reader.pump(sp.fds[1], 1 << 20), read_status::would_block);
    ASSERT_EQ(sink.pdus.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(sink.pdus[0].data, std::vector<std::byte>(data.begin(), data.begin() + 512));
    EXPECT_EQ(sink.pdus[1].data, data);
    EXPECT_TRUE(sink.pdus[0].digest_ok && sink.pdus[1].digest_ok);
  }
}

INSTANTIATE_TEST_SUITE_P(digests, pdu_stream,
                         ::testing::Values(std::pair{false, false}, std::pair{true, false}, std::pair{false, true},
                                           std::pair{true, true}));

TEST(pdu_reader, corrupted_data_digest_is_reported_not_fatal) {
  std::vector<std::byte> data(4096, std::byte{0x5a});
  std::array<std::byte, 128> h1{}, h2{};
  auto stream = host_stream(false, true, data, h1, h2);
  stream[72 + 100] ^= std::byte{1};  // a data byte of the first PDU
  socket_pair sp;
  recording_sink sink;
  pdu_reader reader(sink, {pdu_role::target, true, false, true, 0, 1 << 20});
  ASSERT_EQ(write(sp.fds[0], stream.data(), stream.size()), static_cast<ssize_t>(stream.size()));
  EXPECT_EQ(reader.pump(sp.fds[1], 1 << 20), read_status::would_block);
  ASSERT_EQ(sink.pdus.size(), 2u);
  EXPECT_FALSE(sink.pdus[0].digest_ok);
  EXPECT_TRUE(sink.pdus[1].digest_ok);
}

TEST(pdu_reader, corrupted_header_digest_is_a_protocol_error) {
  std::vector<std::byte> data(512, std::byte{1});
  std::array<std::byte, 128> h1{}, h2{};
  auto stream = host_stream(true, false, data, h1, h2);
  stream[10] ^= std::byte{1};  // inside the first header
  socket_pair sp;
  recording_sink sink;
  pdu_reader reader(sink, {pdu_role::target, true, true, false, 0, 1 << 20});
  ASSERT_EQ(write(sp.fds[0], stream.data(), stream.size()), static_cast<ssize_t>(stream.size()));
  EXPECT_EQ(reader.pump(sp.fds[1], 1 << 20), read_status::protocol_error);
  EXPECT_EQ(reader.error_info().fes, term_fes::header_digest_error);
  EXPECT_TRUE(sink.pdus.empty());
}

TEST(pdu_reader, peer_close_is_reported) {
  socket_pair sp;
  recording_sink sink;
  pdu_reader reader(sink, {pdu_role::target, false, false, false, 0, 8192});
  close(sp.fds[0]);
  sp.fds[0] = socket(AF_UNIX, SOCK_STREAM, 0);  // keep the destructor's close harmless
  EXPECT_EQ(reader.pump(sp.fds[1], 1 << 20), read_status::closed);
}

TEST(pdu_reader, unknown_pdu_type_names_offset_zero) {
  std::array<std::byte, 8> ch{};
  ch[0] = std::byte{0x7f};
  ch[2] = std::byte{24};
  ch[4] = std::byte{24};
  socket_pair sp;
  recording_sink sink;
  pdu_reader reader(sink, {pdu_role::target, true, false, false, 0, 8192});
  ASSERT_EQ(write(sp.fds[0], ch.data(), ch.size()), 8);
  EXPECT_EQ(reader.pump(sp.fds[1], 1 << 20), read_status::protocol_error);
  EXPECT_EQ(reader.error_info().fes, term_fes::invalid_header_field);
  EXPECT_EQ(reader.error_info().fei, 0u);
  EXPECT_EQ(reader.error_header().size(), 8u);
}

struct counting_done final : tx_pdu_done {
  int sent = 0;
  void on_pdu_sent(tx_pdu&) override { ++sent; }
};

TEST(pdu_writer, partial_writes_resume_and_notify_once_per_pdu) {
  socket_pair sp;
  int small = 4096;
  setsockopt(sp.fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  std::vector<std::byte> data(256 * 1024, std::byte{0x33});
  std::array<std::byte, 32> hdr{};
  data_pdu d{};
  d.ch.type = static_cast<uint8_t>(pdu_type::c2h_data);
  d.datal = static_cast<uint32_t>(data.size());
  std::memcpy(hdr.data(), &d, sizeof(d));
  tx_pdu p;
  counting_done done;
  p.done = &done;
  pdu_writer::build(p, hdr.data(), sizeof(d), data.data(), static_cast<uint32_t>(data.size()), true, true);
  pdu_writer w;
  w.enqueue(p);
  size_t expect = 24 + 4 + data.size() + 4, got = 0;
  std::vector<std::byte> sink(1 << 16);
  for (int i = 0; i < 10000 && got < expect; ++i) {
    auto st = w.flush(sp.fds[0]);
    ASSERT_NE(st, write_status::closed);
    ssize_t n = read(sp.fds[1], sink.data(), sink.size());
    if (n > 0) got += static_cast<size_t>(n);
  }
  EXPECT_EQ(got, expect);
  EXPECT_EQ(done.sent, 1);
  EXPECT_TRUE(w.empty());
}

}  // namespace
}  // namespace nvmfd
