#include "target/tcp/tcp_listener.h"

#include <sys/epoll.h>
#include <unistd.h>

#include "base/log.h"
#include "nvme_tcp/socket.h"
#include "target/tcp/tcp_transport.h"

namespace nvmfd {

result<std::unique_ptr<tcp_listener>> tcp_listener::open(tcp_transport& t, reactor_pool& pool, const std::string& addr,
                                                         uint16_t port, bool secure) {
  auto fd = tcp_listen(addr, port);
  if (!fd) return fd.take_err();
  std::unique_ptr<tcp_listener> l(new tcp_listener(t, pool, *fd, secure));
  result<void> w;
  pool.run_on(0, [&] { w = pool.at(0).watch(*fd, EPOLLIN, l.get()); });
  if (!w) {
    close(*fd);
    return w.take_err();
  }
  NVMFD_LOG_INFO("listening on {}:{}{}", addr, port, secure ? " (secure_channel: TLS 1.3 with PSK only)" : "");
  return l;
}

tcp_listener::~tcp_listener() {
  pool_.run_on(0, [&] { pool_.at(0).unwatch(fd_); });
  close(fd_);
}

void tcp_listener::on_events(uint32_t) {
  for (int i = 0; i < 64; ++i) {
    auto fd = tcp_accept(fd_);
    if (!fd) return;  // EAGAIN, or a transient accept failure: epoll calls again
    transport_.adopt_connection(*fd, secure_);
  }
}

}  // namespace nvmfd
