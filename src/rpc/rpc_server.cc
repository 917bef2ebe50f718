#include "rpc/rpc_server.h"

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "reactor/blocking_call.h"

namespace nvmfd {

// One connection as an event handler: poll bits and epoll bits are the same for IN, OUT,
// ERR and HUP, which is all rpc_connection uses.
class rpc_server::client final : public event_handler {
 public:
  client(rpc_server& s, int fd) : s_(s), conn(fd) {}
  void on_events(uint32_t events) override {
    if (s_.stopping_) return;  // stop() from a handler: nothing more is served
    conn.on_events(static_cast<short>(events), s_.methods_);
    s_.update(*this);  // may destroy this
  }

  rpc_server& s_;
  rpc_connection conn;
  uint32_t watched = 0;
};

result<std::unique_ptr<rpc_server>> rpc_server::start(const std::string& path, rpc_method_table& methods) {
  return open(path, methods, nullptr);
}

result<std::unique_ptr<rpc_server>> rpc_server::start(const std::string& path, rpc_method_table& methods,
                                                       reactor& loop) {
  return open(path, methods, &loop);
}

result<std::unique_ptr<rpc_server>> rpc_server::open(const std::string& path, rpc_method_table& methods,
                                                      reactor* loop) {
  auto listener = unix_listener::open(path);
  if (!listener) return listener.take_err();
  std::unique_ptr<loop_thread> own;
  if (!loop) {
    own = std::make_unique<loop_thread>("rpc");
    loop = &own->loop();
  }
  std::unique_ptr<rpc_server> s(new rpc_server(std::move(*listener), methods, *loop, std::move(own)));
  rpc_server* p = s.get();
  auto r = blocking_call<void>(*loop, [p](completion<void> done) {
    auto w = p->loop_.watch(p->listener_.fd(), EPOLLIN, &p->acceptor_);
    p->listening_ = w.ok();
    done(std::move(w));
  }, std::nullopt, "rpc_server::start");
  if (!r) return r.take_err();
  NVMFD_LOG_INFO("rpc: listening on {}", path);
  return s;
}

rpc_server::rpc_server(unix_listener listener, const rpc_method_table& methods, reactor& loop,
                       std::unique_ptr<loop_thread> own)
    : listener_(std::move(listener)), path_(listener_.path()), methods_(methods), own_loop_(std::move(own)),
      loop_(loop) {}

rpc_server::~rpc_server() { stop(); }

void rpc_server::stop() {
  stopping_ = true;
  if (reactor::current() == &loop_) {  // from a handler: see header
    loop_.post([this] { close_all(); });
    return;
  }
  std::lock_guard lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  (void)blocking_call<void>(loop_, [this](completion<void> done) {
    close_all();
    done(success());
  }, std::nullopt, "rpc_server::stop");
  own_loop_.reset();  // joins its thread
  listener_.close();
}

void rpc_server::close_all() {
  if (listening_) loop_.unwatch(listener_.fd());
  listening_ = false;
  for (auto& c : conns_)
    if (c->watched) loop_.unwatch(c->conn.fd());
  conns_.clear();
}

void rpc_server::update(client& c) {
  uint32_t want = c.conn.done() ? 0 : static_cast<uint16_t>(c.conn.poll_events());
  if (want == 0) {
    if (c.watched) loop_.unwatch(c.conn.fd());
    std::erase_if(conns_, [&](const auto& p) { return p.get() == &c; });
    return;
  }
  if (want == c.watched) return;
  auto r = c.watched ? loop_.rewatch(c.conn.fd(), want, &c) : loop_.watch(c.conn.fd(), want, &c);
  if (!r) {
    NVMFD_LOG_WARN("rpc: cannot watch a client: {}", r.err().message);
    if (c.watched) loop_.unwatch(c.conn.fd());
    std::erase_if(conns_, [&](const auto& p) { return p.get() == &c; });
    return;
  }
  c.watched = want;
}

void rpc_server::accept_clients() {
  if (stopping_) return;
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
    conns_.push_back(std::make_unique<client>(*this, fd));
    update(*conns_.back());
  }
}

}  // namespace nvmfd
