#include "link_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <stdexcept>

namespace nvmfd::test {

namespace {

sockaddr_in address(const std::string& ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) throw std::runtime_error("bad address " + ip);
  return a;
}

// Moves what is readable on `from` to `to` (blocking write); false when `from` closed.
bool relay(int from, int to) {
  std::array<char, 65536> buf;
  ssize_t n = ::read(from, buf.data(), buf.size());
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::write(to, buf.data() + off, static_cast<size_t>(n - off));
    if (w <= 0) return false;
    off += w;
  }
  return true;
}

}  // namespace

link_proxy::link_proxy(std::string listen_addr, std::string target_addr, uint16_t target_port)
    : listen_addr_(std::move(listen_addr)), target_addr_(std::move(target_addr)), target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = address(listen_addr_, 0);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || listen(listen_fd_, 64) != 0)
    throw std::runtime_error("link_proxy: cannot listen on " + listen_addr_);
  socklen_t len = sizeof(a);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("link_proxy: pipe");
  thread_ = std::thread([this] { run(); });
}

link_proxy::~link_proxy() {
  stop_ = true;
  (void)!::write(wake_[1], "x", 1);
  thread_.join();
  for (auto& p : pairs_) close_pair(p);
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void link_proxy::cut() {
  cut_ = true;
  (void)!::write(wake_[1], "x", 1);
}

void link_proxy::restore() {
  {
    std::lock_guard lk(mu_);
    drop_held_ = true;
  }
  cut_ = false;
  (void)!::write(wake_[1], "x", 1);
}

void link_proxy::close_pair(pair& p) {
  if (p.a >= 0) ::close(p.a);
  if (p.b >= 0) ::close(p.b);
  p.a = p.b = -1;
}

void link_proxy::accept_one() {
  int a = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (a < 0) return;
  pair p;
  p.a = a;
  if (cut_) {
    p.held = true;  // the SYN got through the kernel; nothing else will
  } else {
    int b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in t = address(target_addr_, target_port_);
    if (connect(b, reinterpret_cast<sockaddr*>(&t), sizeof(t)) != 0) {
      ::close(b);
      ::close(a);
      return;  // the peer sees the connection close, as with a refused one behind a router
    }
    int one = 1;
    setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    p.b = b;
  }
  pairs_.push_back(p);
}

void link_proxy::run() {
  while (!stop_) {
    {
      std::lock_guard lk(mu_);
      if (drop_held_) {
        // Restored: what was cut stays dead (its peers have given up on it).
        for (auto& p : pairs_) close_pair(p);
        pairs_.clear();
        drop_held_ = false;
      }
    }
    std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    bool relaying = !cut_;
    if (relaying)
      for (auto& p : pairs_)
        if (!p.held && p.a >= 0) {
          fds.push_back({p.a, POLLIN, 0});
          fds.push_back({p.b, POLLIN, 0});
        }
    if (poll(fds.data(), fds.size(), 200) < 0) continue;
    if (fds[0].revents) {
      char buf[64];
      while (::read(wake_[0], buf, sizeof(buf)) > 0) {
      }
    }
    if (relaying && !cut_) {
      size_t k = 2;
      for (auto& p : pairs_) {
        if (p.held || p.a < 0) continue;
        bool ok = true;
        if (fds[k].revents) ok = relay(p.a, p.b);
        if (ok && fds[k + 1].revents) ok = relay(p.b, p.a);
        if (!ok) close_pair(p);
        k += 2;
      }
      std::erase_if(pairs_, [](const pair& p) { return p.a < 0; });
    }
    if (fds[1].revents & POLLIN) accept_one();
  }
}

}  // namespace nvmfd::test
