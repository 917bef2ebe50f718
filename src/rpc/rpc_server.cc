#include "rpc/rpc_server.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "reactor/thread_name.h"

namespace nvmfd {

result<std::unique_ptr<rpc_server>> rpc_server::start(const std::string& path,
                                                       rpc_method_table& methods) {
  auto listener = unix_listener::open(path);
  if (!listener) return listener.take_err();
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) return error::from_errno(errno, "eventfd");
  std::unique_ptr<rpc_server> s(new rpc_server(std::move(*listener), methods, wake));
  s->thread_ = std::thread([p = s.get()] { p->run(); });
  set_thread_name(s->thread_, "rpc");
  NVMFD_LOG_INFO("rpc: listening on {}", path);
  return s;
}

rpc_server::rpc_server(unix_listener listener, const rpc_method_table& methods, int wake_fd)
    : listener_(std::move(listener)), path_(listener_.path()), methods_(methods),
      wake_fd_(wake_fd) {}

rpc_server::~rpc_server() { stop(); }

void rpc_server::stop() {
  stopping_ = true;  // the loop checks it after every handler
  if (std::this_thread::get_id() == thread_.get_id()) return;  // from a handler: see header
  std::lock_guard lock(stop_mu_);
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
  conns_.clear();
  listener_.close();
  if (wake_fd_ >= 0) {
    ::close(wake_fd_);
    wake_fd_ = -1;
  }
}

void rpc_server::accept_clients() {
  for (;;) {
    int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        NVMFD_LOG_WARN("rpc: accept on {}: {}", path_, std::strerror(errno));
      }
      return;
    }
    if (conns_.size() >= max_clients) {
      NVMFD_LOG_WARN("rpc: {} clients connected already; refusing another", max_clients);
      ::close(fd);
      continue;
    }
    conns_.push_back(std::make_unique<rpc_connection>(fd));
  }
}

void rpc_server::run() {
  poll_loop();
  conns_.clear();  // on this thread: stop() may have been called from a handler
}

void rpc_server::poll_loop() {
  std::vector<pollfd> fds;
  while (!stopping_) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({listener_.fd(), POLLIN, 0});
    for (const auto& c : conns_) fds.push_back({c->fd(), c->poll_events(), 0});

    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      NVMFD_LOG_ERROR("rpc: poll: {}", std::strerror(errno));
      return;
    }
    if (stopping_) return;
    // conns_[i] matches fds[i + 2]; accept after serving so the indices stay valid.
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (fds[i + 2].revents) conns_[i]->on_events(fds[i + 2].revents, methods_);
      if (stopping_) return;
    }
    std::erase_if(conns_, [](const auto& c) { return c->done(); });
    if (fds[1].revents & POLLIN) accept_clients();
  }
}

}  // namespace nvmfd
