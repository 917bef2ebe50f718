#include "blocking_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

namespace nvmfd {

namespace {

using steady = std::chrono::steady_clock;

// Milliseconds left until deadline, at least 0.
int ms_left(steady::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd until deadline: 1 ready, 0 timed out, -1 error.
int wait_for(int fd, short events, steady::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms_left(deadline));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    return n;
  }
}

}  // namespace

blocking_socket::~blocking_socket() { close(); }

blocking_socket::blocking_socket(blocking_socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }

blocking_socket& blocking_socket::operator=(blocking_socket&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

void blocking_socket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

result<blocking_socket> blocking_socket::connect(const std::string& addr, uint16_t port, duration timeout) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  if (inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1)
    return error{errc::invalid_argument, fmt::format("'{}' is not an IPv4 address", addr)};
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return error::from_errno(errno, "socket");
  blocking_socket s(fd);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    if (errno != EINPROGRESS) return error::from_errno(errno, fmt::format("connect {}:{}", addr, port));
    if (wait_for(fd, POLLOUT, steady::now() + timeout) != 1)
      return error{errc::timed_out, fmt::format("connect {}:{} timed out", addr, port)};
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return error::from_errno(err, fmt::format("connect {}:{}", addr, port));
  }
  return s;
}

result<void> blocking_socket::send_all(std::span<const std::byte> data, duration timeout) {
  if (fd_ < 0) return error{errc::closed, "send on a closed socket"};
  auto deadline = steady::now() + timeout;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int w = wait_for(fd_, POLLOUT, deadline);
      if (w == 0) return error{errc::timed_out, fmt::format("send: peer took {} of {} bytes", done, data.size())};
      if (w < 0) return error::from_errno(errno, "poll");
      continue;
    }
    return error{errc::closed, fmt::format("send failed: {}", n < 0 ? std::strerror(errno) : "0 bytes")};
  }
  return success();
}

result<void> blocking_socket::recv_exact(std::span<std::byte> out, duration timeout) {
  if (fd_ < 0) return error{errc::closed, "recv on a closed socket"};
  auto deadline = steady::now() + timeout;
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::recv(fd_, out.data() + done, out.size() - done, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) return error{errc::closed, fmt::format("peer closed after {} of {} bytes", done, out.size())};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      int w = wait_for(fd_, POLLIN, deadline);
      if (w == 0)
        return error{errc::timed_out, fmt::format("recv: {} of {} bytes within the deadline", done, out.size())};
      if (w < 0) return error::from_errno(errno, "poll");
      continue;
    }
    return error{errc::closed, fmt::format("recv failed: {}", std::strerror(errno))};
  }
  return success();
}

result<void> blocking_socket::wait_closed(duration timeout, size_t* discarded) {
  if (discarded) *discarded = 0;
  if (fd_ < 0) return success();
  auto deadline = steady::now() + timeout;
  std::byte sink[4096];
  for (;;) {
    ssize_t n = ::recv(fd_, sink, sizeof(sink), 0);
    if (n == 0) return success();
    if (n > 0) {
      if (discarded) *discarded += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == ECONNRESET || errno == EPIPE) return success();
    if (errno != EAGAIN && errno != EWOULDBLOCK) return error::from_errno(errno, "recv");
    int w = wait_for(fd_, POLLIN, deadline);
    if (w == 0) return error{errc::timed_out, "the peer kept the connection open"};
    if (w < 0) return error::from_errno(errno, "poll");
  }
}

bool blocking_socket::quiet_for(duration timeout) {
  if (fd_ < 0) return false;
  return wait_for(fd_, POLLIN, steady::now() + timeout) == 0;
}

}  // namespace nvmfd
