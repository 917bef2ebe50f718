#pragma once
// Helpers for the socket tests: unique socket paths under /tmp and a raw blocking client.
#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/json_stream.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd::test {

inline std::string temp_socket_path(const char* tag) {
  static std::atomic<int> n{0};
  return "/tmp/nvmfd_test_" + std::to_string(::getpid()) + "_" + tag + "_" +
         std::to_string(n++) + ".sock";
}

class raw_client {
 public:
  explicit raw_client(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~raw_client() { ::close(fd_); }
  bool connected() const { return connected_; }

  void send(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      s.remove_prefix(static_cast<size_t>(n));
    }
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // The next JSON value the server sends, or nullopt on EOF/timeout.
  std::optional<json> read(int timeout_ms = 5000) {
    for (;;) {
      auto v = in_.next();
      if (v.ok() && *v) return json::parse(**v);
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return std::nullopt;
      raw_.append(buf, static_cast<size_t>(n));
      in_.append(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  // True when the server closed the connection (after any unread data).
  bool closed_by_peer(int timeout_ms = 5000) {
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;
    }
  }
  const std::string& raw() const { return raw_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  json_stream in_;
  std::string raw_;
};

}  // namespace nvmfd::test
