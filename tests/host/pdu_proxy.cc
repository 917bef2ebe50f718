#include "pdu_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <span>
#include <stdexcept>
#include <utility>

#include "proto/nvme_tcp_pdu.h"

namespace nvmfd::test {

namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void write_all(int fd, std::span<const std::byte> data) {
  for (size_t off = 0; off < data.size();) {
    ssize_t w = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (w <= 0) return;  // the peer is gone: its read side sees that
    off += static_cast<size_t>(w);
  }
}

uint8_t pdu_type_of(const std::vector<std::byte>& pdu) { return static_cast<uint8_t>(pdu[0]); }

}  // namespace

pdu_proxy::pdu_proxy(uint16_t target_port) : target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(listen_fd_, 64) != 0)
    throw std::runtime_error("pdu_proxy: cannot listen");
  socklen_t len = sizeof(a);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("pdu_proxy: pipe");
  thread_ = std::thread([this] { run(); });
}

pdu_proxy::~pdu_proxy() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  (void)!::write(wake_[1], "x", 1);
  thread_.join();
  for (auto& l : links_) {
    ::close(l.host);
    ::close(l.target);
  }
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::vector<std::string> pdu_proxy::log() const {
  std::lock_guard lk(mu_);
  return log_;
}

size_t pdu_proxy::open_connections() const {
  std::lock_guard lk(mu_);
  return open_;
}

size_t pdu_proxy::accepted() const {
  std::lock_guard lk(mu_);
  return accepted_;
}

bool pdu_proxy::wait_until(const std::function<bool()>& pred, std::chrono::milliseconds bound) {
  std::unique_lock lk(mu_);
  // pred may call the accessors above: check it unlocked.
  auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    lk.unlock();
    if (pred()) return true;
    lk.lock();
    if (changed_.wait_until(lk, deadline) == std::cv_status::timeout) {
      lk.unlock();
      return pred();
    }
  }
}

void pdu_proxy::note(std::string what) {
  std::lock_guard lk(mu_);
  log_.push_back(std::move(what));
}

void pdu_proxy::accept_one() {
  int h = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (h < 0) return;
  int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(target_port_);
  if (connect(t, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(t);
    ::close(h);
    return;
  }
  int one = 1;
  setsockopt(h, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  setsockopt(t, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::lock_guard lk(mu_);
  links_.push_back(link{accepted_++, h, t, {}, {}, {}});
  ++open_;
}

// Reads what one side has, and handles each whole PDU it completes.
bool pdu_proxy::pump(link& l, bool from_host) {
  std::array<std::byte, 65536> buf;
  ssize_t n = ::recv(from_host ? l.host : l.target, buf.data(), buf.size(), 0);
  if (n <= 0) return false;
  auto& in = from_host ? l.from_host : l.from_target;
  in.insert(in.end(), buf.begin(), buf.begin() + n);
  while (in.size() >= sizeof(pdu_common_header)) {
    auto ch = load_wire<pdu_common_header>(in.data());
    size_t plen = ch.plen.get();
    if (plen < sizeof(pdu_common_header)) return false;  // not NVMe/TCP: drop the link
    if (in.size() < plen) break;
    std::vector<std::byte> pdu(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(plen));
    in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(plen));
    if (from_host)
      handle_host_pdu(l, std::move(pdu));
    else
      handle_target_pdu(l, std::move(pdu));
  }
  return true;
}

void pdu_proxy::handle_host_pdu(link& l, std::vector<std::byte> pdu) {
  auto type = static_cast<pdu_type>(pdu_type_of(pdu));
  if (type == pdu_type::ic_req) {
    std::lock_guard lk(mu_);
    ++icreqs_;
    log_.push_back("icreq " + std::to_string(l.conn));
  }
  if (type == pdu_type::capsule_cmd && rule_ && pdu.size() >= sizeof(capsule_cmd_pdu)) {
    auto sqe = load_wire<nvme_sqe>(pdu.data() + offsetof(capsule_cmd_pdu, sqe));
    if (auto r = rule_(l.conn, sqe)) {
      capsule_resp_pdu resp{};
      resp.ch.type = static_cast<uint8_t>(pdu_type::capsule_resp);
      resp.ch.hlen = sizeof(capsule_resp_pdu);
      resp.ch.plen = sizeof(capsule_resp_pdu);
      resp.cqe.dw0 = static_cast<uint32_t>(r->result);
      resp.cqe.dw1 = static_cast<uint32_t>(r->result >> 32);
      resp.cqe.cid = sqe.cid;
      resp.cqe.status = r->status.encode();
      write_all(l.host, std::as_bytes(std::span(&resp, 1)));
      return;
    }
  }
  write_all(l.target, pdu);
  if (type == pdu_type::ic_req) release_held();
}

void pdu_proxy::handle_target_pdu(link& l, std::vector<std::byte> pdu) {
  if (static_cast<pdu_type>(pdu_type_of(pdu)) == pdu_type::ic_resp) {
    if (spoiled_ == l.conn && pdu.size() >= sizeof(ic_resp_pdu)) pdu[offsetof(ic_resp_pdu, pfv)] = std::byte{0x7f};
    std::lock_guard lk(mu_);
    if (l.conn >= gated_from_ && icreqs_ < icresp_gate_) {
      l.held_icresp = std::move(pdu);
      return;
    }
    log_.push_back("icresp " + std::to_string(l.conn));
  }
  write_all(l.host, pdu);
}

// The gate may have opened: ICResps held so far go out.
void pdu_proxy::release_held() {
  for (auto& l : links_) {
    if (l.held_icresp.empty()) continue;
    {
      std::lock_guard lk(mu_);
      if (icreqs_ < icresp_gate_) return;
      log_.push_back("icresp " + std::to_string(l.conn));
    }
    write_all(l.host, std::exchange(l.held_icresp, {}));
  }
}

void pdu_proxy::run() {
  for (;;) {
    {
      std::lock_guard lk(mu_);
      if (stop_) return;
    }
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (auto& l : links_) {
      fds.push_back({l.host, POLLIN, 0});
      fds.push_back({l.target, POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    if (fds[0].revents) {
      char buf[64];
      while (::read(wake_[0], buf, sizeof(buf)) > 0) {
      }
    }
    size_t k = 2;
    size_t links = links_.size();  // accept_one below may add one
    for (size_t i = 0; i < links; ++i, k += 2) {
      link& l = links_[i];
      bool ok = true;
      if (fds[k].revents) ok = pump(l, true);
      if (ok && fds[k + 1].revents) ok = pump(l, false);
      if (!ok) {
        ::close(l.host);
        ::close(l.target);
        l.host = l.target = -1;
        std::lock_guard lk(mu_);
        --open_;
      }
    }
    std::erase_if(links_, [](const link& l) { return l.host < 0; });
    if (fds[1].revents & POLLIN) accept_one();
    changed_.notify_all();
  }
}

}  // namespace nvmfd::test
