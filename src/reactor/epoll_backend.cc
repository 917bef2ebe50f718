#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/log.h"
#include "reactor/poll_backend.h"

namespace nvmfd {

namespace {

class epoll_backend final : public poll_backend {
 public:
  epoll_backend() : fd_(epoll_create1(EPOLL_CLOEXEC)) {
    if (fd_ < 0) {
      NVMFD_LOG_ERROR("epoll_create1: errno {}", errno);
      std::abort();  // invariant: a reactor cannot run without its poller
    }
  }
  ~epoll_backend() override { close(fd_); }

  result<void> add(int fd, uint32_t events, void* tag) override { return ctl(EPOLL_CTL_ADD, fd, events, tag); }
  result<void> modify(int fd, uint32_t events, void* tag) override { return ctl(EPOLL_CTL_MOD, fd, events, tag); }
  void remove(int fd) override { epoll_ctl(fd_, EPOLL_CTL_DEL, fd, nullptr); }

  int fd() const override { return fd_; }

  int wait(std::span<poll_event> out, int timeout_ms) override {
    epoll_event ev[64];
    int max = static_cast<int>(std::min<size_t>(out.size(), 64));
    int n = epoll_wait(fd_, ev, max, timeout_ms);
    if (n < 0) return errno == EINTR ? -1 : (NVMFD_LOG_ERROR("epoll_wait: errno {}", errno), -1);
    for (int i = 0; i < n; ++i) out[i] = {ev[i].data.ptr, ev[i].events};
    return n;
  }

 private:
  result<void> ctl(int op, int fd, uint32_t events, void* tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = tag;
    if (epoll_ctl(fd_, op, fd, &ev) != 0) return error::from_errno(errno, "epoll_ctl");
    return success();
  }
  int fd_;
};

}  // namespace

std::unique_ptr<poll_backend> make_epoll_backend() { return std::make_unique<epoll_backend>(); }

}  // namespace nvmfd
