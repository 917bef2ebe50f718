#include "nvme_tcp/epoll_pdu_channel.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace nvmfd {

namespace {
constexpr size_t read_budget = 512 * 1024;
}  // namespace

epoll_pdu_channel::epoll_pdu_channel(reactor& r, int fd, pdu_reader& reader, pdu_writer& writer,
                                     pdu_channel_client& client)
    : pdu_channel(fd, reader, writer, client), reactor_(r) {}

epoll_pdu_channel::~epoll_pdu_channel() {
  // Closing the fd also takes it off epoll; the owner destroys an open channel only off
  // the reactor (its loop is gone), so no event can follow.
  if (fd_ >= 0) ::close(fd_);
}

result<void> epoll_pdu_channel::start() {
  if (auto w = reactor_.watch(fd_, EPOLLIN, this); !w) return w;
  watched_ = true;
  return success();
}

void epoll_pdu_channel::on_events(uint32_t events) {
  if (closed_) return;
  if (events & EPOLLIN) {
    if (discarding_) {
      if (!drain_input()) return;
    } else {
      switch (reader_.pump(fd_, read_budget)) {
        case read_status::closed:
          client_.on_channel_error(channel_error::peer_closed);
          return;
        case read_status::protocol_error:
          discarding_ = true;
          client_.on_channel_error(channel_error::protocol_error);
          break;
        default:
          break;
      }
    }
  }
  if (closed_) return;
  if (events & EPOLLOUT) flush();
  if (closed_) return;
  if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) client_.on_channel_error(channel_error::socket_error);
}

bool epoll_pdu_channel::drain_input() {
  std::byte sink[4096];
  for (;;) {
    ssize_t n = recv(fd_, sink, sizeof(sink), 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    client_.on_channel_error(channel_error::peer_closed);
    return false;
  }
}

void epoll_pdu_channel::flush() {
  if (closed_) return;
  write_status st = writer_.flush(fd_);
  if (closed_) return;  // a sent PDU's owner closed the connection
  if (st == write_status::closed) {
    client_.on_channel_error(channel_error::send_failed);
    return;
  }
  bool need_out = st == write_status::would_block;
  if (need_out != want_out_ && watched_) {
    want_out_ = need_out;
    (void)reactor_.rewatch(fd_, EPOLLIN | (need_out ? EPOLLOUT : 0u), this);
  }
  if (writer_.empty()) client_.on_channel_drained();
}

void epoll_pdu_channel::shutdown_write() {
  if (!closed_) ::shutdown(fd_, SHUT_WR);
}

void epoll_pdu_channel::close() {
  if (closed_) return;
  closed_ = true;
  if (watched_) reactor_.unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace nvmfd
