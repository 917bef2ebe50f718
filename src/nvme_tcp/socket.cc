#include "nvme_tcp/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fmt/format.h>

namespace nvmfd {

namespace {

void tune(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

}  // namespace

result<sockaddr_storage> make_sockaddr(const std::string& addr, uint16_t port, socklen_t& len) {
  sockaddr_storage ss{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, addr.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    return ss;
  }
  if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return ss;
  }
  return error{errc::invalid_argument, fmt::format("'{}' is not a numeric IPv4 or IPv6 address", addr)};
}

result<socket_address> to_socket_address(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  socket_address a;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)
    return error{errc::not_supported, "not an IP socket"};
  if (ss.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof(buf));
    a.port = ntohs(v4->sin_port);
  } else {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof(buf));
    a.port = ntohs(v6->sin6_port);
    a.ipv6 = true;
  }
  a.addr = buf;
  return a;
}


result<int> tcp_listen(const std::string& addr, uint16_t port, int backlog) {
  socklen_t len = 0;
  auto ss = make_sockaddr(addr, port, len);
  if (!ss) return ss.take_err();
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return error::from_errno(errno, "socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss.value()), len) != 0) {
    int e = errno;
    close(fd);
    return error::from_errno(e, fmt::format("bind {}:{}", addr, port));
  }
  if (listen(fd, backlog) != 0) {
    int e = errno;
    close(fd);
    return error::from_errno(e, "listen");
  }
  return fd;
}

result<int> tcp_accept(int listen_fd) {
  int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return error::from_errno(errno, "accept");
  tune(fd);
  return fd;
}

result<int> tcp_connect_start(const std::string& addr, uint16_t port) {
  socklen_t len = 0;
  auto ss = make_sockaddr(addr, port, len);
  if (!ss) return ss.take_err();
  int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return error::from_errno(errno, "socket");
  tune(fd);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss.value()), len) != 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return error::from_errno(e, fmt::format("connect {}:{}", addr, port));
  }
  return fd;
}

result<void> tcp_connect_finish(int fd, const std::string& addr, uint16_t port) {
  int soerr = 0;
  socklen_t sl = sizeof(soerr);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
  if (soerr != 0) return error::from_errno(soerr, fmt::format("connect {}:{}", addr, port));
  return success();
}

error tcp_connect_timed_out(const std::string& addr, uint16_t port) {
  return error{errc::timed_out, fmt::format("connect {}:{}: timed out", addr, port)};
}

result<int> tcp_connect(const std::string& addr, uint16_t port, int timeout_ms) {
  auto fd = tcp_connect_start(addr, port);
  if (!fd) return fd;
  pollfd p{*fd, POLLOUT, 0};
  if (poll(&p, 1, timeout_ms) <= 0) {
    close(*fd);
    return tcp_connect_timed_out(addr, port);
  }
  if (auto r = tcp_connect_finish(*fd, addr, port); !r) {
    close(*fd);
    return r.take_err();
  }
  return fd;
}

result<socket_address> local_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return error::from_errno(errno, "getsockname");
  return to_socket_address(ss);
}

result<socket_address> peer_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return error::from_errno(errno, "getpeername");
  return to_socket_address(ss);
}

result<uint16_t> parse_port(const std::string& text) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size() || text.empty() || v > 65535)
    return error{errc::invalid_argument, fmt::format("'{}' is not a TCP port number", text)};
  return static_cast<uint16_t>(v);
}

}  // namespace nvmfd
