#include "host/rdma_host_queue.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"
#include "host/rdma_connect_data.h"
#include "nvme_tcp/socket.h"
#include "proto/wire.h"

namespace nvmfd {

namespace {

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

rdma_host_queue::rdma_host_queue(reactor& r, const rdma_host_queue_params& p)
    : host_queue(r, p.qid, p.queue_size, p.io_timeout_ms), params_(p), send_posted_(p.queue_size, 0) {
  cm_watch_.q = this;
}

rdma_host_queue::~rdma_host_queue() { destroy(); }

// --- connection ------------------------------------------------------------------------

void rdma_host_queue::start() {
  if (failed()) return;
  socklen_t len = 0;
  auto dst = make_sockaddr(params_.traddr, params_.port, len);
  if (!dst) return fail(dst.err().message);
  cm_ch_ = rdma_create_event_channel();
  if (!cm_ch_) return fail(fmt::format("rdma_create_event_channel: {} (is rdma_ucm loaded?)", std::strerror(errno)));
  set_nonblocking(cm_ch_->fd);
  if (auto w = reactor_.watch(cm_ch_->fd, EPOLLIN, &cm_watch_); !w) return fail(w.err().message);
  cm_watched_ = true;
  if (rdma_create_id(cm_ch_, &id_, this, RDMA_PS_TCP) != 0) {
    id_ = nullptr;
    return fail(fmt::format("rdma_create_id: {}", std::strerror(errno)));
  }
  state_ = conn_state::resolving_addr;
  if (rdma_resolve_addr(id_, nullptr, reinterpret_cast<sockaddr*>(&*dst), static_cast<int>(params_.resolve_timeout_ms)) != 0)
    return fail(fmt::format("rdma_resolve_addr {}: {}", params_.traddr, std::strerror(errno)));
}

void rdma_host_queue::on_cm_events() {
  for (int i = 0; i < 16 && cm_ch_; ++i) {
    rdma_cm_event* ev = nullptr;
    if (rdma_get_cm_event(cm_ch_, &ev) != 0) return;  // EAGAIN: nothing more
    // Keep what the handler needs, then ack (rdma_destroy_id waits for every event's ack).
    rdma_cm_event copy = *ev;
    std::array<std::byte, 64> pd{};
    size_t pd_len = std::min<size_t>(ev->param.conn.private_data_len, pd.size());
    if (ev->param.conn.private_data && pd_len) std::memcpy(pd.data(), ev->param.conn.private_data, pd_len);
    copy.param.conn.private_data = pd_len ? pd.data() : nullptr;
    copy.param.conn.private_data_len = static_cast<uint8_t>(pd_len);
    rdma_ack_cm_event(ev);
    on_cm_event(copy);
  }
  // More may be left: the fd stays readable (level-triggered), so the reactor calls again.
}

void rdma_host_queue::on_cm_event(const rdma_cm_event& ev) {
  if (state_ == conn_state::closed) return;
  auto where = [&] { return fmt::format("RDMA {}:{} qid {}", params_.traddr, params_.port, qid().value); };
  switch (ev.event) {
    case RDMA_CM_EVENT_ADDR_RESOLVED:
      state_ = conn_state::resolving_route;
      if (rdma_resolve_route(id_, static_cast<int>(params_.resolve_timeout_ms)) != 0)
        fail(fmt::format("{}: rdma_resolve_route: {}", where(), std::strerror(errno)));
      return;
    case RDMA_CM_EVENT_ROUTE_RESOLVED:
      if (auto s = setup_and_connect(); !s) fail(fmt::format("{}: {}", where(), s.err().message));
      return;
    case RDMA_CM_EVENT_ESTABLISHED: {
      state_ = conn_state::ready;
      if (auto acc = decode_wire<rdma_cm_accept>(
              std::span(static_cast<const std::byte*>(ev.param.conn.private_data), ev.param.conn.private_data_len)))
        NVMFD_LOG_DEBUG("{}: established (CRQSIZE {})", where(), acc->crqsize.get());
      auto waiting = std::move(waiting_);
      waiting_.clear();
      for (uint16_t i : waiting)
        if (!failed()) post_command(*slots_[i]);
      return;
    }
    case RDMA_CM_EVENT_REJECTED:
      fail(fmt::format("{}: {}", where(),
                       describe_rdma_reject(std::span(static_cast<const std::byte*>(ev.param.conn.private_data),
                                                      ev.param.conn.private_data_len),
                                            ev.status)));
      return;
    case RDMA_CM_EVENT_DISCONNECTED:
      fail(fmt::format("{}: the controller disconnected", where()));
      return;
    case RDMA_CM_EVENT_TIMEWAIT_EXIT:
      return;
    default:  // ADDR_ERROR, ROUTE_ERROR, CONNECT_ERROR, UNREACHABLE, DEVICE_REMOVAL, ...
      fail(fmt::format("{}: {} (status {})", where(), rdma_event_str(ev.event), ev.status));
      return;
  }
}

result<void> rdma_host_queue::make_resources() {
  ibv_context* ctx = id_->verbs;
  if (!ctx) return error{errc::not_supported, "the route has no RDMA device"};
  uint32_t depth = params_.queue_size;
  pd_ = ibv_alloc_pd(ctx);
  if (!pd_) return error::from_errno(errno, "ibv_alloc_pd");
  auto cq = rdma_cq::create(ctx, static_cast<int>(2 * depth));
  if (!cq) return cq.take_err();
  cq_ = std::move(*cq);
  ibv_qp_init_attr qa{};
  qa.send_cq = cq_->cq();
  qa.recv_cq = cq_->cq();
  qa.qp_type = IBV_QPT_RC;
  qa.cap.max_send_wr = depth;  // one SEND per slot
  qa.cap.max_recv_wr = depth;  // one response buffer per slot
  qa.cap.max_send_sge = 1;
  qa.cap.max_recv_sge = 1;
  if (rdma_create_qp(id_, pd_, &qa) != 0) return error::from_errno(errno, "rdma_create_qp");
  qp_made_ = true;
  auto cmd = registered_memory::create(pd_, size_t{depth} * sizeof(nvme_sqe), IBV_ACCESS_LOCAL_WRITE);
  if (!cmd) return cmd.take_err();
  cmd_mem_ = std::move(*cmd);
  auto resp = registered_memory::create(pd_, size_t{depth} * sizeof(nvme_cqe), IBV_ACCESS_LOCAL_WRITE);
  if (!resp) return resp.take_err();
  resp_mem_ = std::move(*resp);
  auto data = registered_memory::create(pd_, size_t{depth} * params_.max_data,
                                        IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
  if (!data) return data.take_err();
  data_mem_ = std::move(*data);
  for (uint32_t i = 0; i < depth; ++i)
    if (!post_recv(i)) return error::from_errno(errno, "ibv_post_recv");
  if (auto w = reactor_.watch(cq_->fd(), EPOLLIN, this); !w) return w.take_err();
  cq_watched_ = true;
  return {};
}

result<void> rdma_host_queue::setup_and_connect() {
  if (auto m = make_resources(); !m) return m;
  ibv_device_attr attr{};
  if (int rc = ibv_query_device(id_->verbs, &attr); rc != 0) return error::from_errno(rc, "ibv_query_device");
  rdma_cm_request priv = make_rdma_cm_request(qid(), params_.queue_size, params_.cntlid);
  rdma_conn_param p{};
  p.private_data = &priv;
  p.private_data_len = sizeof(priv);
  p.responder_resources = static_cast<uint8_t>(std::clamp(attr.max_qp_rd_atom, 1, 255));
  p.initiator_depth = static_cast<uint8_t>(std::clamp(attr.max_qp_init_rd_atom, 1, 255));
  p.retry_count = 7;
  p.rnr_retry_count = 7;
  p.flow_control = 1;
  state_ = conn_state::connecting;
  if (rdma_connect(id_, &p) != 0) return error::from_errno(errno, "rdma_connect");
  return {};
}

// --- commands --------------------------------------------------------------------------

void rdma_host_queue::send(host_request& req) {
  if (failed()) {
    // The queue died between alloc() and submit(): complete from the loop, not from here.
    std::weak_ptr<host_queue> weak = weak_from_this();
    reactor_.post([weak] {
      if (auto q = weak.lock()) static_cast<rdma_host_queue&>(*q).complete_unfinished();
    });
    return;
  }
  if (req.data_len > params_.max_data)
    return fail_later(fmt::format("a command of {} bytes exceeds the queue's {}-byte buffers", req.data_len,
                                  params_.max_data));
  if (state_ != conn_state::ready) {
    waiting_.push_back(req.index);
    return;
  }
  post_command(req);
}

void rdma_host_queue::post_command(host_request& req) {
  uint32_t i = req.index;
  std::byte* buf = bounce(i);
  req.cmd.flags = static_cast<uint8_t>((req.cmd.flags & 0x3f) | 0x40);  // PSDT 01b: SGL
  if (req.host_to_controller && req.data_len > 0) std::memcpy(buf, req.data, req.data_len);
  encode_keyed_sgl(req.cmd.sgl, {reinterpret_cast<uintptr_t>(buf), req.data_len, data_mem_->rkey(), false});
  std::byte* sqe = cmd_mem_->data() + size_t{i} * sizeof(nvme_sqe);
  std::memcpy(sqe, &req.cmd, sizeof(nvme_sqe));
  ibv_sge sge{reinterpret_cast<uintptr_t>(sqe), sizeof(nvme_sqe), cmd_mem_->lkey()};
  ibv_send_wr wr{};
  wr.wr_id = wr_id(wr_kind::send, i);
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = IBV_WR_SEND;
  wr.send_flags = IBV_SEND_SIGNALED;
  ibv_send_wr* bad = nullptr;
  if (int rc = ibv_post_send(id_->qp, &wr, &bad); rc != 0)
    return fail_later(fmt::format("posting a command: {}", std::strerror(rc)));
  ++wrs_outstanding_;
  send_posted_[i] = 1;
}

bool rdma_host_queue::post_recv(uint32_t i) {
  ibv_sge sge{reinterpret_cast<uintptr_t>(resp_mem_->data() + size_t{i} * sizeof(nvme_cqe)), sizeof(nvme_cqe),
              resp_mem_->lkey()};
  ibv_recv_wr wr{};
  wr.wr_id = wr_id(wr_kind::recv, i);
  wr.sg_list = &sge;
  wr.num_sge = 1;
  ibv_recv_wr* bad = nullptr;
  if (int rc = ibv_post_recv(id_->qp, &wr, &bad); rc != 0) {
    errno = rc;
    return false;
  }
  ++wrs_outstanding_;
  return true;
}

// --- completions -----------------------------------------------------------------------

void rdma_host_queue::on_events(uint32_t) {
  cq_->drain([this](const ibv_wc& wc) { on_completion(wc); });
  maybe_release();
}

void rdma_host_queue::on_completion(const ibv_wc& wc) {
  assert(wrs_outstanding_ > 0);
  --wrs_outstanding_;
  auto kind = static_cast<wr_kind>(wc.wr_id & 1);
  auto index = static_cast<uint32_t>(wc.wr_id >> 1);
  if (kind == wr_kind::send) send_posted_[index] = 0;
  if (state_ == conn_state::closed) return;  // flushed
  if (wc.status != IBV_WC_SUCCESS)
    return fail(fmt::format("RDMA {}:{} qid {}: work request failed: {}", params_.traddr, params_.port, qid().value,
                            ibv_wc_status_str(wc.status)));
  if (kind == wr_kind::recv) return on_response(index, wc.byte_len);
  host_request& req = *slots_[index];
  if (req.state == host_request_state::answered) complete(req, req.answer);
}

void rdma_host_queue::on_response(uint32_t recv_index, uint32_t len) {
  if (len != sizeof(nvme_cqe))
    return fail(fmt::format("a response of {} bytes from the controller (a completion is {})", len, sizeof(nvme_cqe)));
  auto cqe = load_wire<nvme_cqe>(resp_mem_->data() + size_t{recv_index} * sizeof(nvme_cqe));
  if (!post_recv(recv_index)) return fail(fmt::format("reposting a receive: {}", std::strerror(errno)));
  host_request* req = find_by_cid(cqe.cid.get());
  if (!req) {
    ++stale_completions_;
    return fail(fmt::format("completion for unknown or stale command ID {:#x}", cqe.cid.get()));
  }
  nvme_completion c{nvme_status::decode(cqe.status.get()), cqe.dw0.get(), cqe.dw1.get()};
  // The controller wrote read data into the bounce buffer before it sent the completion.
  if (c.status.ok() && !req->host_to_controller && req->data_len > 0)
    std::memcpy(req->data, bounce(req->index), req->data_len);
  if (send_posted_[req->index]) {
    req->state = host_request_state::answered;
    req->answer = c;
    return;
  }
  complete(*req, c);
}

// --- failure ---------------------------------------------------------------------------

void rdma_host_queue::fail_later(std::string why) {
  std::weak_ptr<host_queue> weak = weak_from_this();
  reactor_.post([weak, why = std::move(why)] {
    if (auto q = weak.lock()) q->fail(why);
  });
}

void rdma_host_queue::close_transport() {
  bool connected = state_ == conn_state::connecting || state_ == conn_state::ready;
  state_ = conn_state::closed;
  waiting_.clear();
  if (qp_made_) {
    // Every posted work request now completes (flushed): none touches our buffers once the
    // count is back at zero.
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_ERR;
    ibv_modify_qp(id_->qp, &a, IBV_QP_STATE);
  }
  if (connected) rdma_disconnect(id_);
  self_ = shared_from_this();
  maybe_release();
}

void rdma_host_queue::maybe_release() {
  if (state_ != conn_state::closed || released_ || wrs_outstanding_ > 0) return;
  released_ = true;
  // Not from inside a CM or CQ handler of ours: from the loop.
  reactor_.post([keep = shared_from_this()] {
    auto& q = static_cast<rdma_host_queue&>(*keep);
    q.destroy();
    q.self_.reset();
  });
}

void rdma_host_queue::destroy() {
  if (cq_watched_) reactor_.unwatch(cq_->fd());
  cq_watched_ = false;
  if (cm_watched_) reactor_.unwatch(cm_ch_->fd);
  cm_watched_ = false;
  if (qp_made_) rdma_destroy_qp(id_);
  qp_made_ = false;
  cq_.reset();
  cmd_mem_.reset();
  resp_mem_.reset();
  data_mem_.reset();
  if (pd_) ibv_dealloc_pd(pd_);
  pd_ = nullptr;
  if (id_) rdma_destroy_id(id_);
  id_ = nullptr;
  if (cm_ch_) rdma_destroy_event_channel(cm_ch_);
  cm_ch_ = nullptr;
}

}  // namespace nvmfd
