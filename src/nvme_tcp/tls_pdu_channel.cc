#include "nvme_tcp/tls_pdu_channel.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "base/log.h"
#include "nvme_tcp/socket.h"

namespace nvmfd {

namespace {
constexpr size_t read_budget = 512 * 1024;
// A piece of the writer's queue at least this long is written from where it is; shorter
// ones (headers, 4 KiB data) are copied together, so that a batch of completions becomes a
// few records and syscalls rather than two or three per PDU.
constexpr size_t direct_min = 16 * 1024;
// With user-space crypto, records are gathered up to this many bytes per write to the
// socket: two 16 KiB records per syscall and TCP push rather than one. Larger is worse, not
// better: the peer cannot decrypt a record before it is written, and a 128 KiB buffer cost
// 4 KiB QD32 reads a third of their rate by serializing our encryption and its decryption
// (bench: 32 KiB gave +5% at 4 KiB QD32 and +30% at 128 KiB QD8 over no buffer).
constexpr size_t coalesce_bytes = 32 * 1024;
using tls_status = tls::tls_session::status;

std::string describe(int fd) {
  auto a = peer_address(fd);
  if (!a) return "?";
  return a->ipv6 ? fmt::format("[{}]:{}", a->addr, a->port) : fmt::format("{}:{}", a->addr, a->port);
}
}  // namespace

tls_pdu_channel::tls_pdu_channel(reactor& r, int fd, std::shared_ptr<tls::tls_session> session, pdu_reader& reader,
                                 pdu_writer& writer, pdu_channel_client& client)
    : pdu_channel(fd, reader, writer, client),
      reactor_(r),
      session_(std::move(session)),
      rx_buf_(new std::byte[rx_size]),
      tx_buf_(new std::byte[tx_size]) {}

tls_pdu_channel::~tls_pdu_channel() {
  session_.reset();
  if (fd_ >= 0) ::close(fd_);
}

std::string tls_pdu_channel::tls_state() const {
  if (!session_->handshake_done()) return "TLS handshake";
  return fmt::format("{}, {}", session_->cipher(), session_->crypto_path());
}

result<void> tls_pdu_channel::start() {
  if (auto w = reactor_.watch(fd_, EPOLLIN, this); !w) return w;
  watched_ = true;
  watched_events_ = EPOLLIN;
  if (!session_->handshake_done()) {
    step_handshake();
  } else {
    session_->coalesce_writes(coalesce_bytes);
    // The host's opener did the handshake and the ICReq/ICResp: bytes may wait inside
    // OpenSSL, where epoll cannot see them; read them on the next pass (not inside start()).
    queue_deferred();
  }
  return success();
}

void tls_pdu_channel::step_handshake() {
  tls_status st = session_->handshake();
  handshake_wants_write_ = st == tls_status::want_write;
  switch (st) {
    case tls_status::ok:
      session_->coalesce_writes(coalesce_bytes);
      NVMFD_LOG_INFO("TLS: {} from {}: {}", session_->identity(), describe(fd_), tls_state());
      update_watch();
      receive();
      return;
    case tls_status::want_read:
    case tls_status::want_write:
      update_watch();
      return;
    case tls_status::closed:
    case tls_status::failed:
      NVMFD_LOG_WARN("TLS handshake with {} failed (identity '{}'): {}", describe(fd_), session_->identity(),
                     session_->failure().empty() ? "the peer closed the connection" : session_->failure());
      client_.on_channel_error(channel_error::handshake_failed);
      return;
  }
}

void tls_pdu_channel::on_events(uint32_t events) {
  if (closed_) return;
  if (!session_->handshake_done()) {
    step_handshake();
    return;
  }
  if ((events & EPOLLIN) || (read_wants_write_ && (events & EPOLLOUT))) receive();
  if (closed_) return;
  if (events & EPOLLOUT) {
    write_blocked_ = false;
    flush();
  }
  if (closed_) return;
  if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) client_.on_channel_error(channel_error::socket_error);
}

void tls_pdu_channel::run_deferred() {
  deferred_queued_ = false;
  if (closed_) {
    client_.on_channel_quiet();
    return;
  }
  receive();
}

void tls_pdu_channel::queue_deferred() {
  if (deferred_queued_) return;
  deferred_queued_ = true;
  reactor_.defer(*this);
}

void tls_pdu_channel::receive() {
  read_wants_write_ = false;
  size_t got = 0;
  while (!closed_) {
    if (got >= read_budget) {
      queue_deferred();  // more may be inside OpenSSL, where epoll cannot see it
      return;
    }
    auto r = session_->read({rx_buf_.get(), rx_size});
    switch (r.st) {
      case tls_status::ok:
        got += r.n;
        if (discarding_) break;
        switch (reader_.feed({rx_buf_.get(), r.n})) {
          case read_status::protocol_error:
            discarding_ = true;
            client_.on_channel_error(channel_error::protocol_error);
            break;
          case read_status::stopped:
            return;
          default:
            break;
        }
        break;
      case tls_status::want_read:
        if (session_->has_buffered_output()) flush();  // a record SSL_read wrote (key update)
        update_watch();
        return;
      case tls_status::want_write:
        read_wants_write_ = true;
        update_watch();
        return;
      case tls_status::closed:
        client_.on_channel_error(channel_error::peer_closed);
        return;
      case tls_status::failed:
        NVMFD_LOG_WARN("TLS with {}: {}", describe(fd_), session_->failure());
        client_.on_channel_error(channel_error::socket_error);
        return;
    }
  }
}

bool tls_pdu_channel::stage() {
  iovec iov[64];
  size_t n = writer_.gather(iov);
  if (n == 0) return false;
  if (iov[0].iov_len >= direct_min) {
    pending_ = {static_cast<const std::byte*>(iov[0].iov_base), iov[0].iov_len};
    return true;
  }
  size_t len = 0;
  for (size_t i = 0; i < n && iov[i].iov_len < direct_min; ++i) {
    size_t take = std::min(iov[i].iov_len, tx_size - len);
    std::memcpy(tx_buf_.get() + len, iov[i].iov_base, take);
    len += take;
    if (len == tx_size) break;
  }
  pending_ = {tx_buf_.get(), len};
  return true;
}

void tls_pdu_channel::flush() {
  if (closed_ || write_blocked_ || !session_->handshake_done()) return;
  for (;;) {
    if (pending_.empty() && !stage()) break;
    auto r = session_->write(pending_);
    if (r.st != tls_status::ok) return stop_sending(r.st);
    size_t sent = pending_.size();
    pending_ = {};
    writer_.advance(sent);
    if (closed_) return;  // a sent PDU's owner closed the connection
  }
  if (auto st = session_->flush(); st != tls_status::ok) return stop_sending(st);
  update_watch();
  if (writer_.empty()) client_.on_channel_drained();
}

void tls_pdu_channel::stop_sending(tls_status st) {
  if (st == tls_status::want_write || st == tls_status::want_read) {
    write_blocked_ = true;
    update_watch();
    return;
  }
  if (st == tls_status::failed) NVMFD_LOG_WARN("TLS with {}: {}", describe(fd_), session_->failure());
  client_.on_channel_error(channel_error::send_failed);
}

void tls_pdu_channel::update_watch() {
  if (!watched_ || closed_) return;
  bool out = handshake_wants_write_ || write_blocked_ || read_wants_write_;
  uint32_t ev = EPOLLIN | (out ? EPOLLOUT : 0u);
  if (ev == watched_events_) return;
  watched_events_ = ev;
  (void)reactor_.rewatch(fd_, ev, this);
}

void tls_pdu_channel::shutdown_write() {
  if (closed_) return;
  session_->shutdown();
  ::shutdown(fd_, SHUT_WR);
}

void tls_pdu_channel::close() {
  if (closed_) return;
  closed_ = true;
  if (session_->handshake_done() && !write_blocked_) session_->shutdown();
  if (watched_) reactor_.unwatch(fd_);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace nvmfd
