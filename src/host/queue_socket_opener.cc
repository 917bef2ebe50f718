#include "host/queue_socket_opener.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "nvme_tcp/socket.h"

namespace nvmfd {

std::shared_ptr<queue_socket_opener> queue_socket_opener::open(reactor& r, std::string addr, uint16_t port,
                                                                bool hdgst, bool ddgst,
                                                                std::shared_ptr<const tls::tls_psk> psk,
                                                                std::chrono::milliseconds timeout,
                                                                completion<opened_socket> done) {
  auto o = std::make_shared<queue_socket_opener>(r, std::move(addr), port, hdgst, ddgst, std::move(psk),
                                                 std::move(done));
  o->self_ = o;
  o->start(timeout);
  return o;
}

queue_socket_opener::queue_socket_opener(reactor& r, std::string addr, uint16_t port, bool hdgst, bool ddgst,
                                         std::shared_ptr<const tls::tls_psk> psk, completion<opened_socket> done)
    : r_(r), addr_(std::move(addr)), port_(port), hdgst_(hdgst), ddgst_(ddgst), psk_(std::move(psk)),
      done_(std::move(done)), deadline_(r) {}

queue_socket_opener::~queue_socket_opener() {
  tls_.reset();
  if (watched_) r_.unwatch(fd_);
  if (fd_ >= 0) ::close(fd_);
}

void queue_socket_opener::start(std::chrono::milliseconds timeout) {
  auto fd = tcp_connect_start(addr_, port_);
  if (!fd) {
    // done never runs inside open(): the failure goes through the reactor's queue.
    auto e = fd.take_err();
    return r_.post([self = shared_from_this(), e] { self->fail(e); });
  }
  fd_ = *fd;
  out_ = make_icreq(hdgst_, ddgst_);
  std::weak_ptr<queue_socket_opener> weak = weak_from_this();
  deadline_.arm(timeout, [weak] {
    auto o = weak.lock();
    if (!o) return;
    o->fail(o->step_ == step::connecting    ? tcp_connect_timed_out(o->addr_, o->port_)
            : o->step_ == step::handshaking ? error{errc::timed_out, "TLS handshake timed out"}
                                            : error{errc::timed_out, "ICReq/ICResp exchange timed out"});
  });
  if (auto w = r_.watch(fd_, EPOLLOUT, this); !w) {
    auto e = w.take_err();
    return r_.post([self = shared_from_this(), e] { self->fail(e); });
  }
  watched_ = true;
}

void queue_socket_opener::cancel() {
  if (step_ != step::over) fail(error{errc::closed, "cancelled"});
}

void queue_socket_opener::fail(error e) {
  if (step_ == step::over) return;
  step_ = step::over;
  deadline_.cancel();
  if (watched_) r_.unwatch(fd_);
  watched_ = false;
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  auto keep = std::move(self_);
  done_(std::move(e));
}

void queue_socket_opener::on_events(uint32_t events) {
  if (step_ == step::connecting) {
    if (auto r = tcp_connect_finish(fd_, addr_, port_); !r) return fail(r.take_err());
    if (psk_) {
      auto s = tls::tls_session::client(fd_, *psk_);
      if (!s) return fail(s.take_err());
      tls_ = std::move(*s);
      step_ = step::handshaking;
    } else {
      step_ = step::sending;
    }
  }
  if (step_ == step::handshaking) return handshake();
  if (step_ == step::receiving && (events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))
    return fail(error{errc::closed, "the controller closed the connection during ICReq/ICResp"});
  advance();
}

// Moves as many bytes as the socket takes or gives now, then waits for the next readiness.
void queue_socket_opener::advance() {
  while (step_ == step::sending || step_ == step::receiving) {
    if (!transfer()) return;
    if (step_ == step::sending && done_bytes_ == out_.size()) {
      step_ = step::receiving;
      done_bytes_ = 0;
      if (auto w = r_.rewatch(fd_, EPOLLIN, this); !w) return fail(w.take_err());
      continue;
    }
    if (step_ == step::receiving && done_bytes_ == in_.size()) {
      auto ic = check_icresp(in_, hdgst_, ddgst_);
      if (!ic) return fail(ic.take_err());
      step_ = step::over;
      deadline_.cancel();
      r_.unwatch(fd_);
      watched_ = false;
      opened_socket s{std::exchange(fd_, -1), *ic, std::move(tls_)};
      auto keep = std::move(self_);
      return done_(s);
    }
    return;  // would block: wait for the socket
  }
}

bool queue_socket_opener::transfer() {
  for (;;) {
    bool sending = step_ == step::sending;
    size_t want = (sending ? out_.size() : in_.size()) - done_bytes_;
    if (want == 0) return true;
    if (tls_) {
      // All or nothing for a write; a read may return less than asked.
      auto r = sending ? tls_->write({out_.data() + done_bytes_, want}) : tls_->read({in_.data() + done_bytes_, want});
      switch (r.st) {
        case tls::tls_session::status::ok: done_bytes_ += r.n; continue;
        case tls::tls_session::status::want_read:
        case tls::tls_session::status::want_write: return true;
        case tls::tls_session::status::closed:
          fail(error{errc::closed, "the controller closed the connection during ICReq/ICResp"});
          return false;
        case tls::tls_session::status::failed:
          fail(error{errc::protocol_error, tls_->failure()});
          return false;
      }
    }
    ssize_t n = sending ? ::send(fd_, out_.data() + done_bytes_, want, MSG_NOSIGNAL)
                        : ::recv(fd_, in_.data() + done_bytes_, want, 0);
    if (n > 0) {
      done_bytes_ += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      fail(error{errc::closed, "the controller closed the connection during ICReq/ICResp"});
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    fail(error::from_errno(errno, "ICReq/ICResp"));
    return false;
  }
}

// One step of the TLS handshake; once done, the ICReq goes out over the session.
void queue_socket_opener::handshake() {
  switch (tls_->handshake()) {
    case tls::tls_session::status::ok:
      step_ = step::sending;
      if (auto w = r_.rewatch(fd_, EPOLLOUT, this); !w) return fail(w.take_err());
      return advance();
    case tls::tls_session::status::want_read:
      if (auto w = r_.rewatch(fd_, EPOLLIN, this); !w) return fail(w.take_err());
      return;
    case tls::tls_session::status::want_write:
      if (auto w = r_.rewatch(fd_, EPOLLOUT, this); !w) return fail(w.take_err());
      return;
    case tls::tls_session::status::closed:
    case tls::tls_session::status::failed:
      return fail(error{errc::protocol_error,
                        tls_->failure().empty() ? "TLS handshake: the controller closed the connection" : tls_->failure()});
  }
}

}  // namespace nvmfd
