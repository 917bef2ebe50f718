// fuzz_target_connection: the whole target side of one NVMe/TCP connection (tcp_qpair with
// its pdu_reader, pdu_writer, controller and command handlers, a RAM namespace) driven by
// fuzz input over loopback TCP.
//
// One target per process: a reactor_pool(1), an nvmf_target with the TCP transport and a
// subsystem (any host) holding two RAM namespaces (512 B and 4 KiB blocks). Each input gets
// a fresh connection: we connect to our own listening socket on 127.0.0.1, accept, and hand
// the accepted socket to tcp_transport::adopt_connection(), exactly as the target's listener
// does. Connect checks that the subsystem listens on the connection's local address, so
// that address is put in the subsystem's (and the discovery subsystem's) listener list; no
// listening socket of the target is needed.
//
// Each iteration ends quiescent: we half-close (or reset), wait until the target has closed
// its socket, let its reactor run the release, and check that no controller outlives its
// queues. So per-input allocations are freed before the next input (libFuzzer's leak check
// stays precise), and a hang shows up as a libFuzzer timeout.
//
// Oracles, besides ASan/UBSan/LSan: everything the target sends is parsed by a host-role
// pdu_reader; a malformed PDU (bad header, digest, PDO alignment against our HPDA, ICResp
// enabling a digest we did not ask for), a wrong data digest, or any PDU after a
// C2HTermReq aborts. Setup steps (ICReq, Connect, CC.EN, Number of Queues) must succeed.
//
// Input: 3 config bytes, then the payload written to the connection.
//   byte 0: bits 1:0 mode: 0 raw (the payload is the whole stream), 1 ICReq first,
//           2 ICReq + admin Connect, 3 an I/O queue (a second connection does ICReq,
//           Connect, CC.EN = 1 and Set Features Number of Queues; this one connects qid 1);
//           bit 2 (mode 2) connect to the discovery subsystem; bit 3 RLE-expand the
//           payload; bit 4 fix digests in the payload; bit 5 (mode 2) Property Set CC.EN = 1
//           first; bit 6 no pause between chunks; bit 7 close abruptly (reset; in mode 3 the
//           admin queue first)
//   byte 1: our ICReq: bits 1:0 DGST (header, data digest), bits 6:2 HPDA
//   byte 2: chunk-size seed (0: one write)
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "bdev/ram_bdev.h"
#include "fuzz_support.h"
#include "nvme_tcp/pdu_reader.h"
#include "nvme_tcp/socket.h"
#include "proto/discovery_log.h"
#include "proto/features.h"
#include "target/nvmf_target.h"
#include "target/tcp/tcp_transport.h"

namespace nvmfd::fuzz {
namespace {

constexpr std::string_view fuzz_subnqn = "nqn.2024-01.io.nvmfd:fuzz";
constexpr std::string_view fuzz_hostnqn = "nqn.2014-08.org.nvmexpress:uuid:6b1a3d64-4f3c-4f3e-9d4e-2c8a9f0b1e27";
constexpr uint16_t queue_sqsize = 31;  // 32 entries, admin and I/O
constexpr uint16_t io_qid = 1;
constexpr uint16_t setup_cid = 0xfff0;
constexpr size_t max_payload = 1u << 20;
constexpr int settled_chunks = 8;      // chunks after which we no longer let the target catch up
constexpr int drain_again = 32 * 1024;  // after reading this much, the target may have been blocked
constexpr uint32_t oracle_max_data = 4u << 20;

// The process-wide target under test.
class fuzz_target {
 public:
  fuzz_target() {
    auto l = tcp_listen("127.0.0.1", 0);
    check(l.ok(), "cannot listen on 127.0.0.1");
    listen_fd_ = *l;
    auto a = local_address(listen_fd_);
    check(a.ok(), "getsockname on the listener failed");
    port_ = a->port;

    auto tcp = std::make_unique<tcp_transport>(target_, tcp_transport_options{});
    tcp_ = tcp.get();
    check(target_.add_transport(std::move(tcp)).ok(), "add_transport failed");
    subsystem_params sp;
    sp.nqn = std::string(fuzz_subnqn);
    sp.serial_number = "FUZZ0001";
    sp.model_number = "nvmfd fuzz";
    sp.max_namespaces = 4;
    sp.allow_any_host = true;
    auto sub = target_.create_subsystem(sp);
    check(sub.ok(), "create_subsystem failed");
    auto d1 = ram_bdev::create("fuzz0", 512, 2048, std::nullopt);
    auto d2 = ram_bdev::create("fuzz1", 4096, 64, std::nullopt);
    check(d1.ok() && d2.ok(), "ram_bdev::create failed");
    namespace_params n1;
    n1.dev = d1.value();
    n1.nsid = nsid_t{1};
    namespace_params n2;
    n2.dev = d2.value();
    n2.nsid = nsid_t{2};
    n2.eui64 = std::array<uint8_t, 8>{1, 2, 3, 4, 5, 6, 7, 8};
    check(target_.add_namespace(sp.nqn, n1).ok() && target_.add_namespace(sp.nqn, n2).ok(), "add_namespace failed");

    // Connect admits a connection only on an address its subsystem listens on.
    listen_address la;
    la.traddr = "127.0.0.1";
    la.trsvcid = std::to_string(port_);
    auto all = target_.subsystems();  // the discovery subsystem first
    std::lock_guard lk(target_.mu());
    for (auto& s : all) s->listeners.push_back(la);
  }

  ~fuzz_target() {
    target_.shutdown();
    quiesce();
    ::close(listen_fd_);
  }

  // A new loopback connection: our end (non-blocking) and the accepted end, already
  // handed to the target.
  std::pair<int, int> open_connection() {
    int client = -1;
    for (int tries = 0; client < 0; ++tries) {
      auto c = tcp_connect("127.0.0.1", port_, 2000);
      if (c.ok()) {
        client = *c;
      } else {
        check(tries < 500, "cannot connect to our own listener");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // ephemeral ports in TIME_WAIT
      }
    }
    int server = -1;
    for (int tries = 0; server < 0; ++tries) {
      auto s = tcp_accept(listen_fd_);
      if (s.ok()) {
        server = *s;
      } else {
        check(tries < 1000, "accept on our own listener failed");
        pollfd p{listen_fd_, POLLIN, 0};
        poll(&p, 1, 10);
      }
    }
    tcp_->adopt_connection(server);
    return {client, server};
  }

  // Waits until the target's reactor has run everything queued before this call: events
  // already signalled (epoll returns them in readiness order, so ahead of our wake-up),
  // posted work, and deferred tasks (bdev completions, flushes).
  void quiesce() { wait_idle(); }

  // Every controller of the fuzz subsystem (and of discovery) has gone with its queues.
  void check_no_controllers() {
    for (auto nqn : {std::string(fuzz_subnqn), std::string(discovery_nqn)}) {
      auto c = target_.controllers(nqn);
      check(c.ok() && c->empty(), "a controller outlived all of its queue pairs");
    }
  }

 private:
  // A deferred task runs after the reactor has finished (and freed) the batch of posted
  // work that scheduled it, unlike reactor_pool::run_on, whose caller wakes while the
  // reactor still holds the batch: that would count as a leak for libFuzzer's
  // malloc/free balance of the input.
  struct idle_probe final : deferred_task {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    void run_deferred() override {
      std::lock_guard lk(mu);  // notify under the lock: the waiter may destroy us right after
      done = true;
      cv.notify_one();
    }
  };
  void wait_idle() {
    idle_probe probe;
    reactor& r = pool_.at(0);
    r.post([&r, &probe] { r.defer(probe); });  // two references: no allocation in std::function
    std::unique_lock lk(probe.mu);
    probe.cv.wait(lk, [&] { return probe.done; });
  }

  reactor_pool pool_{1};
  nvmf_target target_{pool_};
  tcp_transport* tcp_ = nullptr;  // owned by target_
  int listen_fd_ = -1;
  uint16_t port_ = 0;
};

fuzz_target* the_target = nullptr;
bool trace = false;  // NVMFD_FUZZ_TRACE=1: print every PDU the target sends
bool ignore_dup_term_req = false;

struct response {
  uint16_t cid;
  nvme_status status;
  uint32_t dw0;
};

// Our end of one connection. Everything the target sends goes through a host-role
// pdu_reader: the target must only ever send well-formed PDUs.
class host_end final : public pdu_reader_sink {
 public:
  // requested_dgst/hpda: what our ICReq asks for (the alignment the target must honour).
  host_end(std::pair<int, int> fds, uint8_t requested_dgst, uint8_t hpda)
      : fd_(fds.first),
        server_fd_(fds.second),
        requested_dgst_(requested_dgst),
        hpda_(hpda <= max_pda ? hpda : 0),
        reader_(*this, pdu_check_params{pdu_role::host, false, false, false, hpda_, oracle_max_data}) {
    struct stat st{};
    check(fstat(server_fd_, &st) == 0, "fstat of the accepted socket failed");
    server_ino_ = st.st_ino;
  }
  ~host_end() { close_fd(); }
  host_end(const host_end&) = delete;
  host_end& operator=(const host_end&) = delete;

  int fd() const { return fd_; }
  bool peer_closed() const { return peer_closed_; }
  const std::vector<response>& responses() const { return responses_; }

  // Whether the target still holds its end. Nobody else opens descriptors while an
  // iteration runs, so a closed number is either free or reused by a different inode.
  bool server_open() const {
    struct stat st{};
    return fstat(server_fd_, &st) == 0 && st.st_ino == server_ino_;
  }
  int server_unread() const {
    int n = 0;
    if (!server_open() || ioctl(server_fd_, FIONREAD, &n) != 0) return 0;
    return n;
  }
  // Bytes that have reached the target's socket (its kernel side), of all we sent.
  uint64_t server_received() const {
    tcp_info ti{};
    socklen_t len = sizeof(ti);
    if (!server_open() || getsockopt(server_fd_, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return UINT64_MAX;
    return ti.tcpi_bytes_received;
  }
  // Loopback delivery may be deferred to ksoftirqd on a busy machine: wait for it, so
  // that what we sent is ready on the target's socket before we ask its reactor to run.
  void wait_delivered() const {
    for (int spins = 0; server_received() < sent_; ++spins) {
      if (spins < 100) std::this_thread::yield();
      else std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }

  // Reads what the target has sent; returns how many bytes were waiting.
  int drain() {
    if (fd_ < 0 || peer_closed_) return 0;
    int avail = 0;
    if (ioctl(fd_, FIONREAD, &avail) != 0) avail = 0;
    switch (reader_.pump(fd_, 1u << 30)) {
      case read_status::closed:
        peer_closed_ = true;
        break;
      case read_status::protocol_error: {
        std::fprintf(stderr, "target sent a malformed PDU: FES %u FEI %u\n",
                     static_cast<unsigned>(reader_.error_info().fes), reader_.error_info().fei);
        fail("the target sent a PDU that fails the host-side checks");
      }
      case read_status::stopped:
        fail("oracle reader stopped");
      default:
        break;
    }
    return avail;
  }

  // Writes bytes, letting the target read (and reading its answers) when the socket is
  // full. Stops early if the target has closed.
  void send_bytes(std::span<const std::byte> b, fuzz_target& t) {
    size_t off = 0;
    while (off < b.size()) {
      ssize_t w = send(fd_, b.data() + off, b.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        off += static_cast<size_t>(w);
        sent_ += static_cast<uint64_t>(w);
      } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        settle(t);
        if (drain() == 0) {
          pollfd p{fd_, POLLOUT | POLLIN, 0};
          poll(&p, 1, 1);
        }
      } else {
        return;  // EPIPE / ECONNRESET: the target closed the connection
      }
    }
  }

  // Until the target has consumed everything we sent and we have read all it answered.
  void settle(fuzz_target& t) {
    for (;;) {
      wait_delivered();
      t.quiesce();
      const int got = drain();
      if (got < drain_again && server_unread() == 0) return;
    }
  }

  // Until the responses to these commands are in (or the target closed the connection).
  void wait_responses(fuzz_target& t, std::initializer_list<uint16_t> cids) {
    for (;;) {
      settle(t);
      const bool all = std::all_of(cids.begin(), cids.end(), [&](uint16_t cid) {
        return std::any_of(responses_.begin(), responses_.end(), [&](const response& r) { return r.cid == cid; });
      });
      if (all || peer_closed_) return;
      pollfd p{fd_, POLLIN, 0};
      poll(&p, 1, 1);
    }
  }

  // Ends the connection: half-close and read the rest (or reset at once), then wait until
  // the target has closed its socket.
  void finish(fuzz_target& t, bool abrupt) {
    if (fd_ >= 0 && !abrupt) {
      shutdown(fd_, SHUT_WR);
      while (!peer_closed_) {
        t.quiesce();
        if (drain() == 0 && !peer_closed_) {
          pollfd p{fd_, POLLIN, 0};
          poll(&p, 1, 1);
        }
      }
    }
    if (fd_ >= 0 && abrupt) {
      linger l{1, 0};  // RST, no TIME_WAIT
      setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    }
    close_fd();
    // Polled: the target sees our close through the kernel, which tells nobody else.
    for (int rounds = 0; server_open(); ++rounds) {
      t.quiesce();
      if (rounds > 100) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }

  // pdu_reader_sink
  std::variant<std::byte*, term_error> on_pdu_header(std::span<const std::byte> header, uint32_t data_len) override {
    const auto ch = load_wire<pdu_common_header>(header.data());
    if (trace) std::fprintf(stderr, "trace: target sent type %#x plen %u\n", ch.type, ch.plen.get());
    // NVMFD_FUZZ_IGNORE=dup-term-req: tolerate the known repeated C2HTermReq (see
    // docs/fuzzing.md) so that a long run can look past it.
    if (term_seen_ && ignore_dup_term_req && static_cast<pdu_type>(ch.type) == pdu_type::c2h_term_req) {
      data_.resize(data_len);
      return data_len ? data_.data() : nullptr;
    }
    check(!term_seen_, "the target sent a PDU after its C2HTermReq");
    if (static_cast<pdu_type>(ch.type) == pdu_type::c2h_term_req) term_seen_ = true;
    data_.resize(data_len);
    return data_len ? data_.data() : nullptr;
  }

  void on_pdu_received(std::span<const std::byte> header, bool data_digest_ok) override {
    check(data_digest_ok, "the target sent a data PDU with a wrong data digest");
    const auto ch = load_wire<pdu_common_header>(header.data());
    switch (static_cast<pdu_type>(ch.type)) {
      case pdu_type::ic_resp: {
        const auto r = load_wire<ic_resp_pdu>(header.data());
        check(!check_ic_resp(r, requested_dgst_).has_value(), "the target's ICResp fails check_ic_resp");
        reader_.set_params({pdu_role::host, true, (r.dgst & dgst_bits::hdgst) != 0, (r.dgst & dgst_bits::ddgst) != 0,
                            hpda_, oracle_max_data});
        break;
      }
      case pdu_type::c2h_term_req: {
        const auto t = load_wire<term_req_pdu>(header.data());
        const uint16_t fes = t.fes.get();
        check(fes >= 1 && fes <= 6, "C2HTermReq with an undefined FES");
        break;
      }
      case pdu_type::capsule_resp: {
        const auto r = load_wire<capsule_resp_pdu>(header.data());
        responses_.push_back({r.cqe.cid.get(), nvme_status::decode(r.cqe.status.get()), r.cqe.dw0.get()});
        if (trace)
          std::fprintf(stderr, "trace:   cid %u status %#x dw0 %#x\n", r.cqe.cid.get(), r.cqe.status.get(), r.cqe.dw0.get());
        break;
      }
      default:
        break;
    }
  }

 private:
  void close_fd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  int fd_;
  int server_fd_;
  ino_t server_ino_ = 0;
  uint8_t requested_dgst_;
  uint8_t hpda_;
  pdu_reader reader_;
  uint64_t sent_ = 0;
  bool peer_closed_ = false;
  bool term_seen_ = false;
  std::vector<std::byte> data_;
  std::vector<response> responses_;
};

const response& expect_success(const host_end& h, uint16_t cid, const char* what) {
  for (auto& r : h.responses())
    if (r.cid == cid) {
      if (!r.status.ok()) {
        std::fprintf(stderr, "%s: SCT %u SC %#x\n", what, static_cast<unsigned>(r.status.sct), r.status.sc);
        fail("a fixed setup command failed");
      }
      return r;
    }
  std::fprintf(stderr, "%s: no response\n", what);
  fail("a fixed setup command got no response");
}

std::vector<std::byte> connect_capsule(uint16_t qid, std::string_view subnqn, uint16_t cntlid, bool hdgst, bool ddgst) {
  const connect_data d = make_connect_data(subnqn, fuzz_hostnqn, cntlid);
  return capsule(connect_sqe(setup_cid, qid, queue_sqsize), bytes_of(d), hdgst, ddgst);
}

std::vector<std::byte> enable_capsule(uint16_t cid, bool hdgst) {
  const auto cc = cc_register::make(true, cc_css_nvm, 0, 0, shutdown_notification::none, 6, 4);
  return capsule(property_sqe(fabrics_type::property_set, cid, property_offset::cc, 0, cc.raw), {}, hdgst, false);
}

// An enabled controller with I/O queues granted, on its own admin connection. Returns cntlid.
uint16_t setup_admin(host_end& admin, fuzz_target& t) {
  std::vector<std::byte> s = ic_req(0, 0);
  append(s, connect_capsule(0, fuzz_subnqn, cntlid_dynamic, false, false));
  append(s, enable_capsule(setup_cid + 1, false));
  nvme_sqe nq = sqe(static_cast<uint8_t>(admin_opcode::set_features), setup_cid + 2);
  nq.cdw10 = static_cast<uint32_t>(feature_id::number_of_queues);
  nq.cdw11 = queue_counts{3, 3}.encode();
  append(s, capsule(nq, {}, false, false));
  admin.send_bytes(s, t);
  admin.wait_responses(t, {setup_cid, setup_cid + 1, setup_cid + 2});
  const uint16_t cntlid = static_cast<uint16_t>(expect_success(admin, setup_cid, "admin Connect").dw0);
  expect_success(admin, setup_cid + 1, "Property Set CC.EN=1");
  expect_success(admin, setup_cid + 2, "Set Features Number of Queues");
  return cntlid;
}

void run_one(const uint8_t* data, size_t size) {
  fuzz_target& t = *the_target;
  fuzz_input in(data, size);
  const uint8_t c0 = in.u8(), c1 = in.u8(), chunk_seed = in.u8();
  const int mode = c0 & 3;
  const bool discovery = mode == 2 && (c0 & 4);
  const bool pause = !(c0 & 64), abrupt = (c0 & 128) != 0;
  uint8_t dgst = c1 & 3, hpda = (c1 >> 2) & 0x1f;
  const bool hdgst = dgst & dgst_bits::hdgst, ddgst = dgst & dgst_bits::ddgst;

  std::vector<std::byte> payload;
  if (c0 & 8) {
    payload = rle_expand(in.rest(), max_payload);
  } else {
    auto r = in.rest();
    r = r.first(std::min(r.size(), max_payload));
    payload.assign(reinterpret_cast<const std::byte*>(r.data()), reinterpret_cast<const std::byte*>(r.data() + r.size()));
  }
  if (c0 & 16) fix_digests(payload, 0, mode != 0 && hdgst, mode != 0 && ddgst);
  if (mode == 0) {
    // The payload's own ICReq (if it starts with one) says what the target must honour.
    const bool icreq = payload.size() >= sizeof(ic_req_pdu) && payload[0] == std::byte{0};
    dgst = icreq ? static_cast<uint8_t>(payload[11]) : 0;
    hpda = icreq ? static_cast<uint8_t>(payload[10]) : 0;
  }

  std::optional<host_end> admin;
  uint16_t cntlid = cntlid_dynamic;
  if (mode == 3) {
    admin.emplace(t.open_connection(), 0, 0);
    cntlid = setup_admin(*admin, t);
  }

  host_end conn(t.open_connection(), dgst, hpda);
  if (mode >= 1) {
    std::vector<std::byte> prefix = ic_req(dgst, hpda);
    if (mode >= 2) {
      const uint16_t qid = mode == 3 ? io_qid : 0;
      append(prefix, connect_capsule(qid, discovery ? discovery_nqn : fuzz_subnqn, cntlid, hdgst, ddgst));
      if (mode == 2 && (c0 & 32)) append(prefix, enable_capsule(setup_cid + 1, hdgst));
    }
    conn.send_bytes(prefix, t);
    if (mode == 2 && (c0 & 32)) conn.wait_responses(t, {setup_cid, setup_cid + 1});
    else if (mode >= 2) conn.wait_responses(t, {setup_cid});
    else conn.settle(t);
    if (mode >= 2) expect_success(conn, setup_cid, mode == 3 ? "I/O queue Connect" : "admin Connect");
    if (mode == 2 && (c0 & 32)) expect_success(conn, setup_cid + 1, "Property Set CC.EN=1");
  }

  chunker chunks(chunk_seed);
  size_t off = 0;
  for (int n = 0; off < payload.size() && !conn.peer_closed(); ++n) {
    const size_t len = chunks.next(payload.size() - off);
    conn.send_bytes(std::span(payload).subspan(off, len), t);
    off += len;
    if (pause && n < settled_chunks) conn.settle(t);
    else conn.drain();
  }
  conn.settle(t);

  if (mode == 3 && abrupt) {
    admin->finish(t, true);
    conn.finish(t, true);
  } else {
    conn.finish(t, abrupt);
    if (admin) admin->finish(t, abrupt);
  }
  t.quiesce();
  t.check_no_controllers();
}

}  // namespace
}  // namespace nvmfd::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  signal(SIGPIPE, SIG_IGN);
  // Quiet by default: every rejected PDU logs a warning. NVMFD_FUZZ_LOG=debug to see them.
  const char* level = std::getenv("NVMFD_FUZZ_LOG");
  spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::off);
  nvmfd::fuzz::trace = std::getenv("NVMFD_FUZZ_TRACE") != nullptr;
  const char* ignore = std::getenv("NVMFD_FUZZ_IGNORE");
  nvmfd::fuzz::ignore_dup_term_req = ignore && std::string_view(ignore).find("dup-term-req") != std::string_view::npos;
  static nvmfd::fuzz::fuzz_target target;
  nvmfd::fuzz::the_target = &target;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nvmfd::fuzz::run_one(data, size);
  return 0;
}
