#include "rpc/rpc_connection.h"

#include <cerrno>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "rpc/jsonrpc_dispatch.h"

namespace nvmfd {

namespace {
constexpr size_t read_chunk = 64 * 1024;
constexpr size_t read_budget = 1 << 20;  // per poll round, so one client cannot starve others
}  // namespace

rpc_connection::rpc_connection(int fd, size_t max_request) : fd_(fd), in_(max_request) {}

rpc_connection::~rpc_connection() { ::close(fd_); }

short rpc_connection::poll_events() const {
  short ev = 0;
  if (!closing_ && !peer_closed_ && !broken_ && unsent() < max_unsent) ev |= POLLIN;
  if (unsent() > 0 && !broken_) ev |= POLLOUT;
  return ev;
}

bool rpc_connection::done() const {
  if (broken_) return true;
  return unsent() == 0 && (closing_ || (peer_closed_ && starved_));
}

void rpc_connection::on_events(short revents, const rpc_method_table& methods) {
  if (revents & (POLLIN | POLLHUP | POLLERR)) read_some();
  if (unsent() > 0 && (revents & (POLLOUT | POLLERR | POLLHUP))) flush();
  // Flushing at once skips a poll round for most replies; when that drains a backlog, go on
  // with the requests it held back (no more input may come to wake us).
  for (;;) {
    process(methods);
    if (unsent() > 0) flush();
    if (starved_ || closing_ || broken_ || unsent() > 0) return;
  }
}

void rpc_connection::read_some() {
  if (closing_ || peer_closed_ || broken_) return;
  char buf[read_chunk];
  for (size_t total = 0; total < read_budget;) {
    ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      in_.append(std::string_view(buf, static_cast<size_t>(n)));
      total += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      peer_closed_ = true;
    } else if (errno == EINTR) {
      continue;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      broken_ = true;
    }
    return;
  }
}

void rpc_connection::process(const rpc_method_table& methods) {
  starved_ = false;
  while (!closing_ && !broken_ && unsent() < max_unsent) {
    auto next = in_.next();
    if (!next) {
      out_ += jsonrpc_error_text(json(), rpc_error_invalid_request,
                                 "Invalid request: " + next.err().message);
      closing_ = true;
      return;
    }
    if (!*next) {
      starved_ = true;
      if (peer_closed_ && !in_.idle()) {
        NVMFD_LOG_WARN("rpc: client closed in the middle of a request; dropped");
      }
      return;
    }
    jsonrpc_reply reply = dispatch_jsonrpc(**next, methods);
    out_ += reply.text;
    if (reply.close) closing_ = true;
  }
}

void rpc_connection::flush() {
  while (unsent() > 0) {
    ssize_t n = ::send(fd_, out_.data() + out_pos_, unsent(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      out_pos_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) broken_ = true;
      if (out_pos_ * 2 >= out_.size()) {  // a slow reader must not make out_ grow forever
        out_.erase(0, out_pos_);
        out_pos_ = 0;
      }
      return;
    }
  }
  out_.clear();
  out_pos_ = 0;
}

}  // namespace nvmfd
