#include "target/tcp/tcp_transport.h"

#include "nvme_tcp/socket.h"
#include "target/nvmf_target.h"
#include "target/tcp/tcp_listener.h"
#include "target/tcp/tcp_qpair.h"

namespace nvmfd {

void tcp_transport::describe(discovery_log_entry& e) const {
  e.trtype = static_cast<uint8_t>(transport_type::tcp);
  e.tsas[0] = static_cast<uint8_t>(tcp_sectype::none);
}

result<std::unique_ptr<transport_listener>> tcp_transport::listen(const listen_address& a) {
  auto port = parse_port(a.trsvcid);
  if (!port) return port.take_err();
  auto l = tcp_listener::open(*this, target_.reactors(), a.traddr, *port);
  if (!l) return l.take_err();
  return std::unique_ptr<transport_listener>(std::move(l.value()));
}

void tcp_transport::adopt_connection(int fd, connection_slot slot) {
  reactor_pool& pool = target_.reactors();
  unsigned idx = next_reactor_.fetch_add(1, std::memory_order_relaxed) % pool.size();
  reactor& r = pool.at(idx);
  auto held = std::make_shared<connection_slot>(std::move(slot));  // std::function needs a copyable lambda
  r.post([this, &r, fd, held] {
    auto q = std::make_shared<tcp_qpair>(target_, r, fd, opts_, buffers_, std::move(*held));
    target_.adopt_queue(q);
    q->start();
  });
}

}  // namespace nvmfd
