// pdu_channel on both io backends, over loopback TCP: a stream of PDUs cut at odd places,
// receive buffers running out (uring), the peer closing, a send larger than the socket
// buffers, and a close with a send in flight (the channel's owner destroyed from
// on_channel_quiet: ASan builds catch any use after that).
#include "nvme_tcp/pdu_channel.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include "nvme_tcp/socket.h"
#include "reactor/reactor.h"
#include "reactor/uring_engine.h"
#include "tests/lib/wait_until.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

struct received {
  std::vector<std::byte> header;
  std::vector<std::byte> data;
  bool digest_ok = true;
};

// A connection's end: its reader's sink and its channel's client. Touched on the reactor only.
class endpoint final : public pdu_reader_sink, public pdu_channel_client {
 public:
  endpoint(reactor& r, int fd, bool digests)
      : reader_(*this, pdu_check_params{pdu_role::target, true, digests, digests, 0, 1u << 20}) {
    channel = make_pdu_channel(r, fd, reader_, writer, *this);
  }

  std::variant<std::byte*, term_error> on_pdu_header(std::span<const std::byte> header, uint32_t data_len) override {
    pdus.push_back({{header.begin(), header.end()}, std::vector<std::byte>(data_len), true});
    return pdus.back().data.data();
  }
  void on_pdu_received(std::span<const std::byte>, bool ok) override { pdus.back().digest_ok = ok; }

  void on_channel_error(channel_error e) override {
    errors.push_back(e);
    if (close_on_error) channel->close();
  }
  void on_channel_drained() override { ++drained; }
  void on_channel_quiet() override {
    ++quiet_calls;
    if (on_quiet) on_quiet();  // may destroy this
  }

  pdu_writer writer;
  std::unique_ptr<pdu_channel> channel;
  std::vector<received> pdus;
  std::vector<channel_error> errors;
  bool close_on_error = true;
  int drained = 0;
  int quiet_calls = 0;
  std::function<void()> on_quiet;

 private:
  pdu_reader reader_;
};

struct done_flag final : tx_pdu_done {
  std::atomic<int> calls{0};
  void on_pdu_sent(tx_pdu&) override { ++calls; }
};

// A connected loopback TCP pair: ours (given to the channel) and the peer's (the test's).
// Bytes waiting in fd's receive queue.
size_t bytes_to_read(int fd) {
  int n = 0;
  return ioctl(fd, FIONREAD, &n) == 0 && n > 0 ? static_cast<size_t>(n) : 0;
}

struct tcp_pair {
  int ours = -1, peer = -1;
  tcp_pair() {
    auto l = tcp_listen("127.0.0.1", 0);
    EXPECT_TRUE(l.ok());
    auto a = local_address(*l);
    auto c = tcp_connect("127.0.0.1", a->port, 2000);
    EXPECT_TRUE(c.ok());
    pollfd pf{*l, POLLIN, 0};
    EXPECT_GT(poll(&pf, 1, 2000), 0);
    auto s = tcp_accept(*l);
    EXPECT_TRUE(s.ok());
    ::close(*l);
    ours = *s;
    peer = *c;
  }
  ~tcp_pair() {
    if (peer >= 0) ::close(peer);
  }
  void close_peer() {
    ::close(peer);
    peer = -1;
  }
  void write_all(std::span<const std::byte> bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = send(peer, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) {
        pollfd pf{peer, POLLOUT, 0};
        ASSERT_GT(poll(&pf, 1, 5000), 0) << "the channel stopped reading";
        continue;
      }
      ASSERT_GT(n, 0);
      done += static_cast<size_t>(n);
    }
  }
  std::vector<std::byte> read_exact(size_t len) {
    std::vector<std::byte> out(len);
    size_t got = 0;
    while (got < len) {
      pollfd pf{peer, POLLIN, 0};
      if (poll(&pf, 1, 5000) <= 0) break;
      ssize_t n = recv(peer, out.data() + got, len - got, 0);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    out.resize(got);
    return out;
  }
};

// CapsuleCmd PDUs with in-capsule data of varied lengths, as bytes on the wire.
struct pdu_stream {
  std::vector<std::byte> bytes;
  std::vector<std::vector<std::byte>> data;  // per PDU

  pdu_stream(int count, bool digests, uint32_t seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < count; ++i) {
      std::vector<std::byte> d(rng() % 5000);
      for (auto& b : d) b = static_cast<std::byte>(rng());
      std::array<std::byte, 128> hdr{};
      capsule_cmd_pdu c{};
      c.ch.type = static_cast<uint8_t>(pdu_type::capsule_cmd);
      c.sqe.opcode = 0x01;
      c.sqe.cid = static_cast<uint16_t>(i);
      std::memcpy(hdr.data(), &c, sizeof(c));
      tx_pdu p;
      pdu_writer::build(p, hdr.data(), sizeof(c), d.data(), static_cast<uint32_t>(d.size()), digests, digests);
      for (uint8_t k = 0; k < p.iovcnt; ++k) {
        auto* b = static_cast<const std::byte*>(p.iov[k].iov_base);
        bytes.insert(bytes.end(), b, b + p.iov[k].iov_len);
      }
      data.push_back(std::move(d));
    }
  }
};

class pdu_channel_test : public ::testing::TestWithParam<io_backend> {
 protected:
  void SetUp() override {
    if (GetParam() == io_backend::uring && !uring_sockets_supported()) GTEST_SKIP() << "no io_uring sockets here";
  }
  // Small receive buffers: PDUs span several, and they run out under a burst.
  std::unique_ptr<reactor_pool> make_pool(uint16_t buffers = 8, uint32_t size = 512) {
    io_settings io;
    io.backend = GetParam();
    io.recv_buffers = buffers;
    io.recv_buffer_size = size;
    auto p = std::make_unique<reactor_pool>(1, std::vector<int>{}, poll_settings{}, io);
    EXPECT_EQ(p->at(0).backend(), GetParam());
    return p;
  }
  template <class F>
  static auto on_reactor(reactor_pool& pool, F fn) {
    std::promise<decltype(fn())> p;
    pool.run_on(0, [&] {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        p.set_value();
      } else {
        p.set_value(fn());
      }
    });
    return p.get_future().get();
  }
  // An endpoint on fd, created and started on the pool's reactor.
  static std::unique_ptr<endpoint> started(reactor_pool& pool, int fd, bool flag) {
    return on_reactor(pool, [&] {
      auto ep = std::make_unique<endpoint>(pool.at(0), fd, flag);
      EXPECT_TRUE(ep->channel->start().ok());
      return ep;
    });
  }
  // pred, run on the reactor, comes true (false after a generous timeout).
  template <class F>
  static bool eventually(reactor_pool& pool, F pred) {
    return wait_until([&] { return on_reactor(pool, pred); });
  }
};

TEST_P(pdu_channel_test, receives_a_stream_of_pdus_cut_anywhere) {
  auto pool = make_pool();
  tcp_pair tp;
  auto ep = started(*pool, tp.ours, true);
  pdu_stream s(300, true, 7);
  std::mt19937 rng(11);
  size_t off = 0;
  while (off < s.bytes.size()) {
    size_t n = std::min<size_t>(s.bytes.size() - off, 1 + rng() % 1500);
    tp.write_all({s.bytes.data() + off, n});
    off += n;
    // Not a synchronisation: a pause now and then varies where the receives cut the
    // stream (any cut must work; the test passes whatever the timing).
    if (rng() % 8 == 0) std::this_thread::sleep_for(200us);
  }
  ASSERT_TRUE(eventually(*pool, [&] { return ep->pdus.size() == s.data.size(); }));
  on_reactor(*pool, [&] {
    for (size_t i = 0; i < s.data.size(); ++i) {
      auto c = load_wire<capsule_cmd_pdu>(ep->pdus[i].header.data());
      EXPECT_EQ(c.sqe.cid.get(), i);
      EXPECT_EQ(ep->pdus[i].data, s.data[i]) << "PDU " << i;
      EXPECT_TRUE(ep->pdus[i].digest_ok);
    }
    EXPECT_TRUE(ep->errors.empty());
    if (auto* e = pool->at(0).uring(); e && e->recv_buffers()) EXPECT_EQ(e->recv_buffers()->outstanding(), 0u);
    ep->channel->close();
  });
  ASSERT_TRUE(eventually(*pool, [&] { return ep->channel->quiet(); }));
  on_reactor(*pool, [&] { ep.reset(); });
}

TEST_P(pdu_channel_test, receive_buffers_running_out_rearm_and_lose_nothing) {
  if (GetParam() != io_backend::uring) GTEST_SKIP() << "provided buffers are io_uring's";
  auto pool = make_pool(2, 64);
  tcp_pair tp;
  auto ep = started(*pool, tp.ours, false);
  pdu_stream s(40, false, 3);
  // Hold the reactor while the whole stream is written: the receive then finds more bytes
  // than its two buffers hold, and ends with -ENOBUFS.
  std::promise<void> release;
  auto held = release.get_future().share();
  pool->at(0).post([held] { held.wait(); });
  tp.write_all(s.bytes);
  ASSERT_TRUE(wait_until([&] { return bytes_to_read(tp.ours) == s.bytes.size(); }));
  release.set_value();
  ASSERT_TRUE(eventually(*pool, [&] { return ep->pdus.size() == s.data.size(); }));
  on_reactor(*pool, [&] {
    for (size_t i = 0; i < s.data.size(); ++i) EXPECT_EQ(ep->pdus[i].data, s.data[i]) << "PDU " << i;
    EXPECT_TRUE(ep->errors.empty());
    EXPECT_GT(pool->at(0).uring()->enobufs(), 0u);
    EXPECT_EQ(pool->at(0).uring()->recv_buffers()->outstanding(), 0u);
    ep->channel->close();
  });
  ASSERT_TRUE(eventually(*pool, [&] { return ep->channel->quiet(); }));
  on_reactor(*pool, [&] { ep.reset(); });
}

TEST_P(pdu_channel_test, peer_close_is_reported_after_the_last_pdu) {
  auto pool = make_pool();
  tcp_pair tp;
  auto ep = started(*pool, tp.ours, false);
  pdu_stream s(3, false, 5);
  tp.write_all(s.bytes);
  tp.close_peer();
  ASSERT_TRUE(eventually(*pool, [&] { return !ep->errors.empty(); }));
  ASSERT_TRUE(eventually(*pool, [&] { return ep->channel->quiet(); }));
  on_reactor(*pool, [&] {
    EXPECT_EQ(ep->pdus.size(), 3u);
    ASSERT_EQ(ep->errors.size(), 1u);
    EXPECT_EQ(ep->errors[0], channel_error::peer_closed);
    EXPECT_TRUE(ep->channel->closed());
    EXPECT_EQ(ep->quiet_calls, 0);  // the receive had ended: quiet as it closed
    ep.reset();
  });
}

// The end of file that follows the last bytes is never lost, however the two arrive: many
// connections at once each get PDUs and then FIN (shutdown or close), while the reactor is busy
// with the others. (io_uring's multishot recv loses such an EOF on AF_UNIX sockets on some
// kernels, liburing issue #1549; nvmfd serves TCP, and this shows its path is not affected.)
// NVMFD_STRESS_ROUNDS raises the number of rounds for a longer run by hand.
TEST_P(pdu_channel_test, peer_close_right_after_data_is_always_seen_under_load) {
  const char* env = std::getenv("NVMFD_STRESS_ROUNDS");
  const int rounds = env ? std::atoi(env) : 200;
  constexpr int per_round = 16;
  auto pool = make_pool(64, 2048);
  std::mt19937 rng(23);
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::unique_ptr<tcp_pair>> pairs;
    std::vector<std::unique_ptr<endpoint>> eps;
    std::vector<int> sent;
    for (int i = 0; i < per_round; ++i) {
      pairs.push_back(std::make_unique<tcp_pair>());
      eps.push_back(started(*pool, pairs.back()->ours, false));
    }
    for (int i = 0; i < per_round; ++i) {
      int count = static_cast<int>(rng() % 4);
      pdu_stream s(count, false, static_cast<uint32_t>(rng()));
      size_t cut = s.bytes.empty() ? 0 : rng() % s.bytes.size();
      pairs[i]->write_all({s.bytes.data(), cut});
      pairs[i]->write_all({s.bytes.data() + cut, s.bytes.size() - cut});
      if (rng() % 2)
        ::shutdown(pairs[i]->peer, SHUT_WR);
      else
        pairs[i]->close_peer();
      sent.push_back(count);
    }
    ASSERT_TRUE(eventually(*pool, [&] {
      for (auto& ep : eps)
        if (ep->errors.empty()) return false;
      return true;
    })) << "round " << round << ": an end of file was never reported";
    on_reactor(*pool, [&] {
      for (int i = 0; i < per_round; ++i) {
        EXPECT_EQ(eps[i]->pdus.size(), static_cast<size_t>(sent[i])) << "round " << round << ", connection " << i;
        ASSERT_EQ(eps[i]->errors.size(), 1u);
        EXPECT_EQ(eps[i]->errors[0], channel_error::peer_closed);
      }
    });
    ASSERT_TRUE(eventually(*pool, [&] {
      for (auto& ep : eps)
        if (!ep->channel->quiet()) return false;
      return true;
    }));
    on_reactor(*pool, [&] { eps.clear(); });
  }
}

// One PDU of `len` bytes of data (a pattern) to send; the socket's send buffer kept small.
struct big_pdu {
  std::vector<std::byte> data;
  std::array<std::byte, 128> hdr{};
  tx_pdu tx;
  done_flag done;
  explicit big_pdu(size_t len) : data(len) {
    for (size_t i = 0; i < len; ++i) data[i] = static_cast<std::byte>(i * 7 + i / 4096);
    data_pdu d{};
    d.ch.type = static_cast<uint8_t>(pdu_type::c2h_data);
    d.ch.flags = pdu_flags::last_pdu;
    d.datal = static_cast<uint32_t>(len);
    std::memcpy(hdr.data(), &d, sizeof(d));
    pdu_writer::build(tx, hdr.data(), sizeof(d), data.data(), static_cast<uint32_t>(len), false, false);
    tx.done = &done;
  }
};

void small_send_buffer(int fd) {
  int sz = 32 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

TEST_P(pdu_channel_test, send_larger_than_the_socket_buffer_completes_in_pieces) {
  auto pool = make_pool();
  tcp_pair tp;
  small_send_buffer(tp.ours);
  int rcv = 32 * 1024;
  setsockopt(tp.peer, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
  big_pdu big(8u << 20);
  auto ep = started(*pool, tp.ours, false);
  on_reactor(*pool, [&] {
    ep->writer.enqueue(big.tx);
    ep->channel->flush();
  });
  ASSERT_TRUE(wait_until([&] { return bytes_to_read(tp.peer) > 0; }));  // the send has begun
  EXPECT_EQ(big.done.calls.load(), 0) << "8 MiB cannot be on the socket before the peer reads";
  auto got = tp.read_exact(sizeof(data_pdu) + big.data.size());
  ASSERT_EQ(got.size(), sizeof(data_pdu) + big.data.size());
  EXPECT_TRUE(std::equal(big.data.begin(), big.data.end(), got.begin() + sizeof(data_pdu)));
  ASSERT_TRUE(eventually(*pool, [&] { return big.done.calls.load() == 1; }));
  on_reactor(*pool, [&] {
    EXPECT_TRUE(ep->writer.empty());
    EXPECT_GE(ep->drained, 1);
    EXPECT_TRUE(ep->errors.empty());
    ep->channel->close();
  });
  ASSERT_TRUE(eventually(*pool, [&] { return ep->channel->quiet(); }));
  on_reactor(*pool, [&] { ep.reset(); });
}

TEST_P(pdu_channel_test, close_with_a_send_in_flight_waits_for_it_and_the_owner_may_go_when_quiet) {
  auto pool = make_pool();
  tcp_pair tp;
  small_send_buffer(tp.ours);
  auto big = std::make_unique<big_pdu>(4u << 20);
  endpoint* ep = nullptr;  // destroyed once quiet
  std::atomic<bool> gone{false};
  on_reactor(*pool, [&] {
    ep = new endpoint(pool->at(0), tp.ours, false);
    ASSERT_TRUE(ep->channel->start().ok());
    ep->writer.enqueue(big->tx);
    ep->channel->flush();
  });
  pdu_stream s(50, false, 9);  // bytes arriving while it closes
  tp.write_all(s.bytes);
  // The send has begun, and 4 MiB do not fit in the socket buffers: it is parked.
  ASSERT_TRUE(wait_until([&] { return bytes_to_read(tp.peer) > 0; }));
  bool quiet_at_close = on_reactor(*pool, [&] {
    ep->on_quiet = [&gone, doomed = ep] {
      auto* flag = &gone;  // this closure dies with the endpoint
      delete doomed;       // the channel's last act was to call us: nothing of it is used after
      flag->store(true);
    };
    ep->channel->close();
    bool q = ep->channel->quiet();
    if (q) {
      delete ep;
      gone = true;
    }
    return q;
  });
  EXPECT_EQ(quiet_at_close, GetParam() == io_backend::epoll);
  ASSERT_TRUE(eventually(*pool, [&] { return gone.load(); }));
  EXPECT_EQ(big->done.calls.load(), 0) << "a closed channel tells no PDU owner it was sent";
  big.reset();  // the PDU's memory may go now: nothing refers to it
  // The peer sees the connection end.
  std::byte b[4096];
  auto deadline = std::chrono::steady_clock::now() + 5s;
  ssize_t n = 1;
  while (n != 0 && std::chrono::steady_clock::now() < deadline) {
    pollfd pf{tp.peer, POLLIN, 0};
    poll(&pf, 1, 100);
    n = recv(tp.peer, b, sizeof(b), MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN) break;
  }
  EXPECT_LE(n, 0);
}

TEST_P(pdu_channel_test, a_reactor_stopping_with_an_open_channel_leaves_nothing_in_flight) {
  if (GetParam() != io_backend::uring) GTEST_SKIP() << "an epoll channel has nothing in flight";
  auto pool = make_pool();
  tcp_pair tp;
  auto ep = started(*pool, tp.ours, false);
  pool->stop();  // the channel is closed quietly; its receive comes back before the loop ends
  EXPECT_TRUE(ep->channel->closed());
  EXPECT_TRUE(ep->channel->quiet());
  EXPECT_EQ(ep->quiet_calls, 0);
  EXPECT_TRUE(ep->errors.empty());
  ep.reset();
}

INSTANTIATE_TEST_SUITE_P(backends, pdu_channel_test, ::testing::Values(io_backend::epoll, io_backend::uring),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace nvmfd
