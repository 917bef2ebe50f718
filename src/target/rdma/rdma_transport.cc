#include "target/rdma/rdma_transport.h"

#include <fcntl.h>
#include <sys/epoll.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"
#include "proto/wire.h"
#include "target/nvmf_target.h"
#include "target/rdma/rdma_connect_request.h"
#include "target/rdma/rdma_listener.h"
#include "target/rdma/rdma_qpair.h"

namespace nvmfd {

result<std::unique_ptr<rdma_transport>> rdma_transport::create(nvmf_target& t, const rdma_transport_options& opts) {
  int n = 0;
  ibv_device** list = ibv_get_device_list(&n);
  if (list) ibv_free_device_list(list);
  if (!list || n == 0)
    return error{errc::not_supported,
                 "no RDMA device on this machine (for soft-RoCE: modprobe rdma_rxe; rdma link add rxe0 type rxe "
                 "netdev ETH)"};
  rdma_event_channel* ch = rdma_create_event_channel();
  if (!ch) return error::from_errno(errno, "rdma_create_event_channel (is rdma_ucm loaded?)");
  int flags = fcntl(ch->fd, F_GETFL);
  fcntl(ch->fd, F_SETFL, flags | O_NONBLOCK);
  std::unique_ptr<rdma_transport> tr(new rdma_transport(t, opts, ch));
  result<void> w;
  t.reactors().run_on(0, [&] { w = t.reactors().at(0).watch(ch->fd, EPOLLIN, tr.get()); });
  if (!w) return w.take_err();  // the destructor destroys the channel
  return tr;
}

rdma_transport::rdma_transport(nvmf_target& t, const rdma_transport_options& opts, rdma_event_channel* ch)
    : target_(t), opts_(opts), buffers_(data_buffer_budget::limit_of(opts), t.reactors().size()), channel_(ch) {}

rdma_transport::~rdma_transport() {
  // Posted forget()s run first (a reactor runs what is posted in order).
  target_.reactors().run_on(0, [&] {
    target_.reactors().at(0).unwatch(channel_->fd);
    for (auto& [id, link] : conns_) rdma_destroy_id(id);
    conns_.clear();
  });
  devices_.clear();
  rdma_destroy_event_channel(channel_);
}

void rdma_transport::describe(discovery_log_entry& e, const listen_address&) const {
  e.trtype = static_cast<uint8_t>(transport_type::rdma);
  rdma_tsas t{};
  t.qptype = static_cast<uint8_t>(rdma_qptype::connected);
  t.prtype = static_cast<uint8_t>(rdma_prtype::not_specified);
  t.cms = static_cast<uint8_t>(rdma_cms::rdma_cm);
  std::memcpy(e.tsas, &t, sizeof(t));
}

result<std::unique_ptr<transport_listener>> rdma_transport::listen(const listen_address& a) {
  if (a.secure_channel)
    return error{errc::invalid_argument, "secure_channel (TLS) is a TCP feature; an RDMA listener cannot have it"};
  auto l = rdma_listener::open(channel_, a.traddr, a.trsvcid, opts_.acceptor_backlog);
  if (!l) return l.take_err();
  return std::unique_ptr<transport_listener>(std::move(l.value()));
}

void rdma_transport::on_events(uint32_t) {
  for (int i = 0; i < 64; ++i) {
    rdma_cm_event* ev = nullptr;
    if (rdma_get_cm_event(channel_, &ev) != 0) return;  // EAGAIN: nothing more
    if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST) {
      on_connect_request(*ev);  // acks it
      continue;
    }
    rdma_cm_id* id = ev->id;
    rdma_cm_event_type type = ev->event;
    int status = ev->status;
    rdma_ack_cm_event(ev);
    auto it = conns_.find(id);
    if (it == conns_.end()) {
      if (type == RDMA_CM_EVENT_DEVICE_REMOVAL) NVMFD_LOG_WARN("RDMA: a listener's device was removed");
      continue;
    }
    std::shared_ptr<rdma_conn_link> link = it->second;
    link->r->post([link, type, status] {
      if (auto q = link->qp.lock()) static_cast<rdma_qpair&>(*q).on_cm_event(type, status);
    });
  }
}

void rdma_transport::reject(rdma_cm_id* id, uint16_t status, const std::string& why) {
  NVMFD_LOG_WARN("RDMA: connect request refused: {}", why);
  rdma_cm_reject rej{};
  rej.recfmt = rdma_cm_recfmt_1_0;
  rej.sts = status;
  rdma_reject(id, &rej, sizeof(rej));
  rdma_destroy_id(id);
}

void rdma_transport::on_connect_request(rdma_cm_event& ev) {
  rdma_cm_id* id = ev.id;
  std::array<std::byte, 256> pd{};
  size_t pd_len = std::min<size_t>(ev.param.conn.private_data_len, pd.size());
  if (ev.param.conn.private_data && pd_len) std::memcpy(pd.data(), ev.param.conn.private_data, pd_len);
  uint8_t host_ird = ev.param.conn.initiator_depth;  // reads the host lets us have outstanding
  rdma_ack_cm_event(&ev);

  auto checked = check_rdma_connect_request(std::span(pd.data(), pd_len), opts_);
  if (auto* st = std::get_if<rdma_cm_reject_status>(&checked)) {
    reject(id, static_cast<uint16_t>(*st), to_string(*st));
    return;
  }
  auto qreq = std::get<rdma_queue_request>(checked);
  if (host_ird == 0) {
    reject(id, static_cast<uint16_t>(rdma_cm_reject_status::invalid_ird),
           "the host offers no RDMA READ resources (responder_resources 0)");
    return;
  }
  auto dev = device_of(id->verbs);
  if (!dev) {
    reject(id, static_cast<uint16_t>(rdma_cm_reject_status::no_resources), dev.err().message);
    return;
  }
  uint8_t ord = static_cast<uint8_t>(std::min<int>(host_ird, std::max(1, (*dev)->attr().max_qp_init_rd_atom)));
  reactor_pool& pool = target_.reactors();
  reactor& r = pool.at(next_reactor_.fetch_add(1, std::memory_order_relaxed) % pool.size());
  auto link = std::make_shared<rdma_conn_link>();
  link->r = &r;
  conns_[id] = link;
  std::shared_ptr<rdma_device> device = *dev;
  r.post([this, &r, id, device, qreq, ord, link] {
    auto q = std::make_shared<rdma_qpair>(target_, r, *this, id, device, qreq, ord);
    target_.adopt_queue(q);
    link->qp = q;
    q->accept();
  });
}

result<std::shared_ptr<rdma_device>> rdma_transport::device_of(ibv_context* ctx) {
  if (!ctx) return error{errc::not_supported, "the connection has no RDMA device"};
  auto it = devices_.find(ctx);
  if (it != devices_.end()) return it->second;
  auto d = rdma_device::open(ctx, target_.reactors().size(), opts_.max_io_size);
  if (!d) return d.take_err();
  NVMFD_LOG_INFO("RDMA: device {} (max_qp_wr {}, max_qp_init_rd_atom {})", (*d)->name(), (*d)->attr().max_qp_wr,
                 (*d)->attr().max_qp_init_rd_atom);
  devices_[ctx] = *d;
  return *d;
}

void rdma_transport::forget(rdma_cm_id* id) {
  target_.reactors().at(0).post([this, id] {
    conns_.erase(id);
    rdma_destroy_id(id);
  });
}

}  // namespace nvmfd
