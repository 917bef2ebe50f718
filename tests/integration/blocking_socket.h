#pragma once
// blocking_socket: the test host's TCP connection. Every operation has a deadline, so a
// target that stops answering fails the test (errc::timed_out) instead of hanging it.
// Not thread-safe: one test thread uses one socket.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"

namespace nvmfd {

class blocking_socket {
 public:
  using duration = std::chrono::milliseconds;

  blocking_socket() = default;
  ~blocking_socket();
  blocking_socket(blocking_socket&& o) noexcept;
  blocking_socket& operator=(blocking_socket&& o) noexcept;
  blocking_socket(const blocking_socket&) = delete;
  blocking_socket& operator=(const blocking_socket&) = delete;

  // Connects to addr:port (numeric IPv4) with TCP_NODELAY. Fails with io_error or timed_out.
  static result<blocking_socket> connect(const std::string& addr, uint16_t port, duration timeout);

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void close();

  // Sends all of data. Fails with closed if the peer reset the connection, timed_out if
  // the peer does not take the bytes within the timeout.
  result<void> send_all(std::span<const std::byte> data, duration timeout);
  // Receives exactly out.size() bytes. Fails with closed on EOF (even mid-way), timed_out.
  result<void> recv_exact(std::span<std::byte> out, duration timeout);
  // Waits for the peer to close: succeeds on EOF or reset, discarding any bytes that come
  // first (their count in *discarded, if given); timed_out if the connection stays open.
  result<void> wait_closed(duration timeout, size_t* discarded = nullptr);
  // True if the peer has neither closed nor sent anything within `timeout`.
  bool quiet_for(duration timeout);

 private:
  explicit blocking_socket(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace nvmfd
