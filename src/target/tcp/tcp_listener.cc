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
  std::unique_ptr<tcp_listener> l(new tcp_listener(t, pool, *fd, fmt::format("{}:{}", addr, port), secure));
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
    uint32_t max = transport_.options().max_connections_per_listener;
    if (max && open_->load(std::memory_order_relaxed) >= max) {
      if (refused_++ % 1000 == 0) {
        std::string peer = "an unknown peer";
        if (auto a = peer_address(*fd)) peer = fmt::format("{}:{}", a->addr, a->port);
        NVMFD_LOG_WARN("listener {}: connection from {} refused: {} connections open (max_connections_per_listener); "
                       "{} refused so far",
                       name_, peer, max, refused_);
      }
      close(*fd);
      continue;
    }
    transport_.adopt_connection(*fd, connection_slot(open_), secure_);
  }
}

}  // namespace nvmfd
