#include "target/tcp/tcp_transport.h"

#include <unistd.h>

#include <fmt/format.h>

#include "base/log.h"
#include "nvme_tcp/socket.h"
#include "target/nvmf_target.h"
#include "target/tcp/tcp_listener.h"
#include "target/tcp/tcp_qpair.h"
#include "tls/psk_derivation.h"
#include "tls/tls_session.h"

namespace nvmfd {

tcp_transport::tcp_transport(nvmf_target& t, const tcp_transport_options& opts)
    : target_(t), opts_(opts), buffers_(data_buffer_budget::limit_of(opts), t.reactors().size()) {}

void tcp_transport::describe(discovery_log_entry& e, const listen_address& a) const {
  e.trtype = static_cast<uint8_t>(transport_type::tcp);
  e.tsas[0] = static_cast<uint8_t>(a.secure_channel ? tcp_sectype::tls13 : tcp_sectype::none);
}

result<std::unique_ptr<transport_listener>> tcp_transport::listen(const listen_address& a) {
  auto port = parse_port(a.trsvcid);
  if (!port) return port.take_err();
  auto l = tcp_listener::open(*this, target_.reactors(), a.traddr, *port, a.secure_channel);
  if (!l) return l.take_err();
  return std::unique_ptr<transport_listener>(std::move(l.value()));
}

void tcp_transport::adopt_connection(int fd, connection_slot slot, bool secure) {
  reactor_pool& pool = target_.reactors();
  unsigned idx = next_reactor_.fetch_add(1, std::memory_order_relaxed) % pool.size();
  reactor& r = pool.at(idx);
  auto held = std::make_shared<connection_slot>(std::move(slot));  // std::function needs a copyable lambda
  r.post([this, &r, fd, held, secure] {
    std::shared_ptr<tls::tls_session> tls;
    if (secure) {
      auto s = tls::tls_session::server(fd, [this](std::string_view id) { return find_tls_psk(id); });
      if (!s) {
        NVMFD_LOG_ERROR("TLS: {}", s.err().message);
        ::close(fd);
        return;
      }
      tls = std::move(*s);
    }
    auto q = std::make_shared<tcp_qpair>(target_, r, fd, opts_, buffers_, std::move(*held), std::move(tls));
    target_.adopt_queue(q);
    q->start();
  });
}

result<tls::tls_psk> tcp_transport::find_tls_psk(std::string_view identity) const {
  auto id = tls::parse_psk_identity(identity);
  if (!id) return id.take_err();
  std::shared_ptr<const tls::configured_psk> key;
  {
    std::lock_guard lk(target_.mu());
    auto s = target_.find_subsystem_locked(id->subnqn);
    if (!s) return error{errc::not_found, fmt::format("no subsystem {}", id->subnqn)};
    auto it = s->host_psks.find(id->hostnqn);
    if (it == s->host_psks.end() || !s->hosts.count(id->hostnqn))
      return error{errc::not_found, fmt::format("host {} has no PSK for {}", id->hostnqn, id->subnqn)};
    key = it->second.key;
  }
  return tls::target_tls_psk(*key, *id);
}

}  // namespace nvmfd
