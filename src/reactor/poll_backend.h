#pragma once
// poll_backend: the readiness-notification seam of a reactor (epoll). With the uring
// io_backend the reactor waits on its ring instead and watches fd() from there.
// Used only by its reactor's thread.
#include <cstdint>
#include <memory>
#include <span>

#include "base/result.h"

namespace nvmfd {

struct poll_event {
  void* tag;        // what was registered with the fd
  uint32_t events;  // EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP bits
};

class poll_backend {
 public:
  virtual ~poll_backend() = default;
  virtual result<void> add(int fd, uint32_t events, void* tag) = 0;
  virtual result<void> modify(int fd, uint32_t events, void* tag) = 0;
  virtual void remove(int fd) = 0;
  // Waits up to timeout_ms (-1: no limit) and fills out; returns the count, or -1 on EINTR.
  virtual int wait(std::span<poll_event> out, int timeout_ms) = 0;
  // The descriptor that turns readable when an event is pending.
  virtual int fd() const = 0;
};

// Level-triggered epoll.
std::unique_ptr<poll_backend> make_epoll_backend();

}  // namespace nvmfd
