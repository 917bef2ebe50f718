#pragma once
// TCP socket helpers for NVMe/TCP: listening, accepting, connecting, addresses.
// All sockets are non-blocking, close-on-exec, with TCP_NODELAY.
#include <cstdint>
#include <sys/socket.h>

#include <string>

#include "base/result.h"

namespace nvmfd {

struct socket_address {
  std::string addr;   // numeric IPv4 or IPv6 address
  uint16_t port = 0;
  bool ipv6 = false;
};

// Opens a listening socket on addr:port (SO_REUSEADDR). port 0 picks an ephemeral port.
result<int> tcp_listen(const std::string& addr, uint16_t port, int backlog = 128);
// Accepts one connection; -EAGAIN-style "would block" is errc::timed_out... see .cc.
result<int> tcp_accept(int listen_fd);
// Starts a non-blocking connect and waits up to timeout_ms for it to finish.
result<int> tcp_connect(const std::string& addr, uint16_t port, int timeout_ms);
// The same in steps, for an event loop: start returns the socket with the connect under
// way (or done); once it is writable, finish tells whether the connect succeeded (the
// caller closes the socket when it did not). The timeout is the caller's, with this error.
result<int> tcp_connect_start(const std::string& addr, uint16_t port);
result<void> tcp_connect_finish(int fd, const std::string& addr, uint16_t port);
error tcp_connect_timed_out(const std::string& addr, uint16_t port);
result<socket_address> local_address(int fd);
result<socket_address> peer_address(int fd);
// addr (numeric IPv4 or IPv6) and port as a socket address of length len (RDMA CM binds
// and connects with one too).
result<sockaddr_storage> make_sockaddr(const std::string& addr, uint16_t port, socklen_t& len);
// An IPv4 or IPv6 socket address as text and port.
result<socket_address> to_socket_address(const sockaddr_storage& ss);
// Parses a port number in text ("4420"); nullopt-like error for anything else.
result<uint16_t> parse_port(const std::string& text);

}  // namespace nvmfd
