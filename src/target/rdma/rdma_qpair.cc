#include "target/rdma/rdma_qpair.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "base/buffer_pool.h"
#include "base/log.h"
#include "nvme_tcp/socket.h"
#include "proto/wire.h"
#include "target/command_handlers.h"
#include "target/nvmf_target.h"
#include "target/rdma/rdma_transport.h"

namespace nvmfd {

namespace {

// "addr:port" of a CM id's end, as Connect logs and listeners name it.
std::optional<socket_address> address_of(sockaddr* sa) {
  if (!sa) return std::nullopt;
  sockaddr_storage ss{};
  std::memcpy(&ss, sa, sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  auto a = to_socket_address(ss);
  if (!a) return std::nullopt;
  return *a;
}

}  // namespace

void rdma_request::on_bdev_io_done(bdev_io&) { qp->on_io_done(*this); }

rdma_qpair::rdma_qpair(nvmf_target& t, reactor& r, rdma_transport& tr, rdma_cm_id* id,
                       std::shared_ptr<rdma_device> dev, const rdma_queue_request& q, uint8_t ord)
    : target_queue(t, r, limits_of(tr.options())),
      transport_(tr),
      id_(id),
      dev_(std::move(dev)),
      qreq_(q),
      ord_(ord),
      recv_size_(static_cast<uint32_t>(sizeof(nvme_sqe)) + tr.options().in_capsule_data_size) {}

rdma_qpair::~rdma_qpair() {
  for (auto& r : requests_)
    if (r->data.data) release_request(*r);
  if (watching_) owner().unwatch(cq_->fd());
  if (qp_) rdma_destroy_qp(id_);
  cq_.reset();  // after the QP; the registrations go with the members, before the device
  transport_.forget(id_);
}

// --- connection ------------------------------------------------------------------------

void rdma_qpair::accept() {
  queue_endpoint local;
  local.trtype = std::string(rdma_transport::trtype);
  if (auto a = address_of(rdma_get_local_addr(id_))) {
    local.traddr = a->addr;
    local.trsvcid = std::to_string(a->port);
  }
  std::string who = "an unknown peer";
  if (auto a = address_of(rdma_get_peer_addr(id_)))
    who = a->ipv6 ? fmt::format("[{}]:{}", a->addr, a->port) : fmt::format("{}:{}", a->addr, a->port);
  set_endpoints(std::move(local), std::move(who));
  set_opened_for({qid_t{qreq_.qid}, static_cast<uint16_t>(qreq_.queue_size - 1)});

  if (auto s = setup(); !s) {
    NVMFD_LOG_ERROR("RDMA qpair {} qid {}: {}; refusing the connection", this->peer(), qreq_.qid, s.err().message);
    rdma_cm_reject rej{};
    rej.recfmt = rdma_cm_recfmt_1_0;
    rej.sts = static_cast<uint16_t>(rdma_cm_reject_status::no_resources);
    rdma_reject(id_, &rej, sizeof(rej));
    close("setup failed");
    return;
  }
  rdma_cm_accept priv{};
  priv.recfmt = rdma_cm_recfmt_1_0;
  priv.crqsize = qreq_.queue_size;
  rdma_conn_param p{};
  p.private_data = &priv;
  p.private_data_len = sizeof(priv);
  p.initiator_depth = ord_;
  p.responder_resources = 0;  // the host never reads from us
  p.rnr_retry_count = 7;
  p.flow_control = 1;
  state_ = conn_state::ready;  // rdma_accept moves the QP to RTS; a command may follow at once
  if (rdma_accept(id_, &p) != 0) {
    NVMFD_LOG_ERROR("RDMA qpair {} qid {}: rdma_accept: {}", peer(), qreq_.qid, std::strerror(errno));
    close("rdma_accept failed");
  }
}

result<void> rdma_qpair::setup() {
  const ibv_device_attr& attr = dev_->attr();
  uint32_t depth = qreq_.queue_size;
  uint32_t slots = 2u * depth;
  // Per slot at most two send-queue work requests at once (READ then SEND, or WRITE + SEND).
  uint32_t send_wrs = 2 * slots;
  if (send_wrs > static_cast<uint32_t>(attr.max_qp_wr) || depth > static_cast<uint32_t>(attr.max_qp_wr))
    return error{errc::no_memory, fmt::format("queue size {} exceeds the device's max_qp_wr {}", depth, attr.max_qp_wr)};
  int cqe = static_cast<int>(send_wrs + depth);
  if (cqe > attr.max_cqe) return error{errc::no_memory, fmt::format("{} CQ entries exceed max_cqe {}", cqe, attr.max_cqe)};

  auto cq = rdma_cq::create(id_->verbs, cqe);
  if (!cq) return cq.take_err();
  cq_ = std::move(*cq);

  ibv_qp_init_attr qa{};
  qa.send_cq = cq_->cq();
  qa.recv_cq = cq_->cq();
  qa.qp_type = IBV_QPT_RC;
  qa.cap.max_send_wr = send_wrs;
  qa.cap.max_recv_wr = depth;
  qa.cap.max_send_sge = 1;
  qa.cap.max_recv_sge = 1;
  if (rdma_create_qp(id_, dev_->pd(), &qa) != 0) return error::from_errno(errno, "rdma_create_qp");
  qp_ = id_->qp;

  auto recv = registered_memory::create(dev_->pd(), size_t{depth} * recv_size_, IBV_ACCESS_LOCAL_WRITE);
  if (!recv) return recv.take_err();
  recv_mem_ = std::move(*recv);
  auto resp = registered_memory::create(dev_->pd(), size_t{slots} * sizeof(nvme_cqe), IBV_ACCESS_LOCAL_WRITE);
  if (!resp) return resp.take_err();
  resp_mem_ = std::move(*resp);

  for (uint32_t i = 0; i < slots; ++i) {
    auto req = std::make_unique<rdma_request>();
    req->queue = this;
    req->qp = this;
    req->index = static_cast<uint16_t>(i);
    req->io.done = req.get();
    req->io.owner = &owner();
    requests_.push_back(std::move(req));
  }
  for (auto it = requests_.rbegin(); it != requests_.rend(); ++it) {
    (*it)->next = free_list_;
    free_list_ = it->get();
  }
  for (uint32_t i = 0; i < depth; ++i)
    if (!post_recv(i)) return error::from_errno(errno, "ibv_post_recv");
  if (auto w = owner().watch(cq_->fd(), EPOLLIN, this); !w) return w.take_err();
  watching_ = true;
  return {};
}

void rdma_qpair::on_cm_event(rdma_cm_event_type type, int status) {
  switch (type) {
    case RDMA_CM_EVENT_ESTABLISHED:
      NVMFD_LOG_DEBUG("RDMA qpair {} qid {}: established", peer(), qreq_.qid);
      break;
    case RDMA_CM_EVENT_DISCONNECTED:
      close("host disconnected");
      break;
    case RDMA_CM_EVENT_TIMEWAIT_EXIT:
      break;
    default:
      NVMFD_LOG_WARN("RDMA qpair {} qid {}: {} (status {}), closing the connection", peer(), qreq_.qid,
                     rdma_event_str(type), status);
      close(rdma_event_str(type));
      break;
  }
}

// --- completions -----------------------------------------------------------------------

void rdma_qpair::on_events(uint32_t) {
  cq_->drain([this](const ibv_wc& wc) { on_completion(wc); });
  maybe_release();
}

void rdma_qpair::on_completion(const ibv_wc& wc) {
  assert(wrs_outstanding_ > 0);
  --wrs_outstanding_;
  auto kind = static_cast<wr_kind>(wc.wr_id & 3);
  auto index = static_cast<uint32_t>(wc.wr_id >> 2);
  if (kind == wr_kind::read) --reads_outstanding_;
  if (wc.status != IBV_WC_SUCCESS) {
    if (state_ != conn_state::closed)
      NVMFD_LOG_WARN("RDMA qpair {} qid {}: work request failed: {}, closing the connection", peer(), qreq_.qid,
                     ibv_wc_status_str(wc.status));
    close("work request failed");
    return;
  }
  switch (kind) {
    case wr_kind::recv:
      on_recv(index, wc.byte_len);
      break;
    case wr_kind::read: {
      rdma_request& req = *requests_[index];
      start_queued_reads();
      if (state_ == conn_state::ready) execute(req);
      break;
    }
    case wr_kind::write:
      break;  // the response follows it
    case wr_kind::send: {
      release_request(*requests_[index]);
      if (close_after_send_) close("disconnect");
      break;
    }
  }
}

// --- command path ----------------------------------------------------------------------

rdma_request* rdma_qpair::alloc_request() {
  rdma_request* req = free_list_;
  if (!req) return nullptr;
  free_list_ = req->next;
  req->next = nullptr;
  req->reset();
  req->buf = nullptr;
  req->buf_len = 0;
  req->keyed = false;
  req->remote = {};
  req->state = rdma_request_state::executing;
  return req;
}

void rdma_qpair::on_recv(uint32_t slot, uint32_t len) {
  if (state_ != conn_state::ready) return;
  if (len < sizeof(nvme_sqe)) {
    NVMFD_LOG_WARN("RDMA qpair {} qid {}: a capsule of {} bytes, shorter than a command; closing the connection",
                   peer(), qreq_.qid, len);
    return close("short capsule");
  }
  rdma_request* req = alloc_request();
  if (!req) {
    NVMFD_LOG_WARN("RDMA qpair {} qid {}: more commands outstanding than the queue has entries; closing the "
                   "connection", peer(), qreq_.qid);
    return close("queue overrun");
  }
  req->recv_slot = static_cast<int32_t>(slot);
  req->cmd = load_wire<nvme_sqe>(recv_buf(slot));
  consume_sqe();
  start_command(*req, len - static_cast<uint32_t>(sizeof(nvme_sqe)));
}

void rdma_qpair::start_command(rdma_request& req, uint32_t extra) {
  uint8_t sid = req.cmd.sgl.sgl_identifier;
  if (is_keyed_sgl(sid)) {
    // The handlers read an SGL's length as 32 bits: present the keyed descriptor's 24-bit
    // length that way (the key is kept in req.remote).
    req.remote = decode_keyed_sgl(req.cmd.sgl);
    req.keyed = true;
    req.cmd.sgl.length = req.remote.length;
    std::memset(req.cmd.sgl.reserved, 0, sizeof(req.cmd.sgl.reserved));
  } else if (sid == sgl_id::data_block_offset && extra > 0) {
    req.in_capsule_len = extra;
    req.buf = recv_buf(static_cast<uint32_t>(req.recv_slot)) + sizeof(nvme_sqe);
    req.buf_len = extra;
  }
  nvme_status st = begin_command(*this, req);
  if (!st.ok()) return complete(req, st);
  st = check_data(req);
  if (!st.ok()) return complete(req, st);
  if (req.dir == data_direction::none || req.xfer_len == 0 || req.in_capsule_len > 0) return execute(req);
  start_data_phase(req);
}

// The command's SGL against its transfer: in-capsule data must be exactly the transfer (at
// offset 0), a keyed SGL must cover it, within max_io_size.
nvme_status rdma_qpair::check_data(rdma_request& req) {
  if (req.xfer_len == 0 && req.in_capsule_len == 0) return {};
  uint8_t sid = req.cmd.sgl.sgl_identifier;
  switch (req.dir) {
    case data_direction::host_to_controller:
      if (sid == sgl_id::data_block_offset) {
        if (req.cmd.sgl.address.get() != 0) return nvme_status::generic(sc_generic::sgl_offset_invalid);
        if (req.cmd.sgl.length.get() != req.in_capsule_len || req.xfer_len != req.in_capsule_len)
          return nvme_status::generic(sc_generic::data_sgl_length_invalid);
        return {};
      }
      break;
    case data_direction::controller_to_host:
      req.in_place = false;  // the data goes out of a registered buffer
      break;
    default:
      return {};
  }
  if (!req.keyed) return nvme_status::generic(sc_generic::sgl_descriptor_type_invalid);
  if (req.xfer_len > limits().max_io_size || req.remote.length < req.xfer_len)
    return nvme_status::generic(sc_generic::data_sgl_length_invalid);
  return {};
}

void rdma_qpair::start_data_phase(rdma_request& req) {
  if (!buffer_waiters_.empty() || !take_data_buffer(req)) return wait_for_buffer(req);
  if (req.dir == data_direction::host_to_controller) return post_read(req);
  execute(req);
}

bool rdma_qpair::take_data_buffer(rdma_request& req) {
  uint64_t bytes = buffer_pool::class_bytes(req.xfer_len);
  if (!transport_.buffers().try_take(owner().index(), bytes)) return false;
  req.data = dev_->pool(owner().index()).take(req.xfer_len);
  if (!req.data.data) {
    transport_.buffers().give(owner().index(), bytes);
    return false;
  }
  req.buf = req.data.data;
  req.buf_len = req.xfer_len;
  req.budget_bytes = static_cast<uint32_t>(bytes);
  return true;
}

void rdma_qpair::wait_for_buffer(rdma_request& req) {
  req.state = rdma_request_state::awaiting_buffer;
  buffer_waiters_.push_back(req);
  arm_buffer_retry();
}

// Buffers freed by this queue retry its waiters at once (release_request); buffers freed by
// other queues, perhaps on other reactors, are noticed by polling while anyone waits.
void rdma_qpair::arm_buffer_retry() {
  if (buffer_retry_timer_) return;
  std::weak_ptr<target_queue> weak = weak_from_this();
  buffer_retry_timer_ = owner().schedule(std::chrono::milliseconds(1), [weak] {
    if (auto q = weak.lock()) {
      auto& self = static_cast<rdma_qpair&>(*q);
      self.buffer_retry_timer_ = 0;
      self.retry_buffer_waiters();
    }
  });
}

void rdma_qpair::retry_buffer_waiters() {
  while (!buffer_waiters_.empty() && state_ == conn_state::ready) {
    if (!take_data_buffer(buffer_waiters_.front())) break;
    rdma_request& req = buffer_waiters_.pop_front();
    if (req.dir == data_direction::host_to_controller)
      post_read(req);
    else
      execute(req);
  }
  if (!buffer_waiters_.empty() && state_ == conn_state::ready) arm_buffer_retry();
}

void rdma_qpair::post_read(rdma_request& req) {
  req.state = rdma_request_state::reading;
  // In order: behind the reads already waiting for one of the ord_ slots.
  if (reads_outstanding_ >= ord_ || !read_queue_.empty()) return read_queue_.push_back(req);
  issue_read(req);
}

void rdma_qpair::issue_read(rdma_request& req) {
  ibv_sge sge{reinterpret_cast<uintptr_t>(req.buf), req.xfer_len, req.data.lkey};
  ibv_send_wr wr{};
  wr.wr_id = wr_id(wr_kind::read, req.index);
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = IBV_WR_RDMA_READ;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.wr.rdma.remote_addr = req.remote.address;
  wr.wr.rdma.rkey = req.remote.key;
  ibv_send_wr* bad = nullptr;
  if (int rc = ibv_post_send(qp_, &wr, &bad); rc != 0) {
    NVMFD_LOG_WARN("RDMA qpair {} qid {}: posting an RDMA READ: {}", peer(), qreq_.qid, std::strerror(rc));
    return close("post failed");
  }
  ++wrs_outstanding_;
  ++reads_outstanding_;
}

void rdma_qpair::start_queued_reads() {
  while (!read_queue_.empty() && reads_outstanding_ < ord_ && state_ == conn_state::ready)
    issue_read(read_queue_.pop_front());
}

void rdma_qpair::execute(rdma_request& req) {
  req.state = rdma_request_state::executing;
  if (auto st = execute_command(*this, req)) complete(req, *st);
}

void rdma_qpair::on_io_done(rdma_request& req) {
  bdev_io_finished(req);
  if (state_ != conn_state::ready) {
    release_request(req);
    maybe_release();
    return;
  }
  if (auto st = io_step_done(*this, req)) complete(req, *st);
}

void rdma_qpair::complete(target_request& generic, nvme_status st) {
  assert(generic.queue == this);
  auto& req = static_cast<rdma_request&>(generic);
  if (state_ != conn_state::ready) {
    release_request(req);
    maybe_release();
    return;
  }
  fill_cqe(req, st);
  std::byte* resp = resp_mem_->data() + size_t{req.index} * sizeof(nvme_cqe);
  std::memcpy(resp, &req.cqe, sizeof(nvme_cqe));
  // The capsule's receive buffer is free again (its in-capsule data is used up): post it
  // before the response, so that the host's next command finds it.
  if (req.recv_slot >= 0) {
    uint32_t slot = static_cast<uint32_t>(req.recv_slot);
    req.recv_slot = -1;
    if (!post_recv(slot)) {
      release_request(req);
      return close("post failed");
    }
  }
  ibv_sge sges[2];
  ibv_send_wr wrs[2]{};
  int n = 0;
  if (st.ok() && req.dir == data_direction::controller_to_host && req.c2h_len > 0 && req.data.data) {
    if (req.c2h_data && req.c2h_data != req.buf) std::memcpy(req.buf, req.c2h_data, req.c2h_len);
    sges[n] = {reinterpret_cast<uintptr_t>(req.buf), req.c2h_len, req.data.lkey};
    wrs[n].wr_id = wr_id(wr_kind::write, req.index);
    wrs[n].opcode = IBV_WR_RDMA_WRITE;
    wrs[n].wr.rdma.remote_addr = req.remote.address;
    wrs[n].wr.rdma.rkey = req.remote.key;
    ++n;
  }
  sges[n] = {reinterpret_cast<uintptr_t>(resp), sizeof(nvme_cqe), resp_mem_->lkey()};
  wrs[n].wr_id = wr_id(wr_kind::send, req.index);
  if (req.keyed && req.remote.invalidate) {
    wrs[n].opcode = IBV_WR_SEND_WITH_INV;
    wrs[n].invalidate_rkey = req.remote.key;
  } else {
    wrs[n].opcode = IBV_WR_SEND;
  }
  ++n;
  for (int i = 0; i < n; ++i) {
    wrs[i].sg_list = &sges[i];
    wrs[i].num_sge = 1;
    wrs[i].send_flags = IBV_SEND_SIGNALED;
    wrs[i].next = i + 1 < n ? &wrs[i + 1] : nullptr;
  }
  req.state = rdma_request_state::sending;
  ibv_send_wr* bad = nullptr;
  if (int rc = ibv_post_send(qp_, wrs, &bad); rc != 0) {
    NVMFD_LOG_WARN("RDMA qpair {} qid {}: posting a response: {}", peer(), qreq_.qid, std::strerror(rc));
    // Work requests before the bad one were posted and complete (flushed); the request is
    // freed with the others once they have.
    for (ibv_send_wr* w = wrs; w && w != bad; w = w->next) ++wrs_outstanding_;
    return close("post failed");
  }
  wrs_outstanding_ += static_cast<uint32_t>(n);
}

bool rdma_qpair::post_recv(uint32_t slot) {
  ibv_sge sge{reinterpret_cast<uintptr_t>(recv_buf(slot)), recv_size_, recv_mem_->lkey()};
  ibv_recv_wr wr{};
  wr.wr_id = wr_id(wr_kind::recv, slot);
  wr.sg_list = &sge;
  wr.num_sge = 1;
  ibv_recv_wr* bad = nullptr;
  if (int rc = ibv_post_recv(qp_, &wr, &bad); rc != 0) {
    errno = rc;
    return false;
  }
  ++wrs_outstanding_;
  return true;
}

void rdma_qpair::release_request(rdma_request& req) {
  if (req.state == rdma_request_state::free) return;
  if (req.data.data) dev_->pool(owner().index()).give(req.data, req.xfer_len);
  req.data = {};
  req.buf = nullptr;
  req.buf_len = 0;
  if (req.budget_bytes) {
    transport_.buffers().give(owner().index(), req.budget_bytes);
    req.budget_bytes = 0;
  }
  req.recv_slot = -1;
  end_request(req);
  req.state = rdma_request_state::free;
  req.next = free_list_;
  free_list_ = &req;
  if (!buffer_waiters_.empty() && state_ == conn_state::ready) retry_buffer_waiters();
}

// --- close -----------------------------------------------------------------------------

void rdma_qpair::close(std::string_view why) {
  if (state_ == conn_state::closed) return;
  NVMFD_LOG_DEBUG("RDMA qpair {} qid {} closing: {}", peer(), qreq_.qid, why);
  (void)why;
  state_ = conn_state::closed;
  if (buffer_retry_timer_) owner().cancel(buffer_retry_timer_);
  buffer_retry_timer_ = 0;
  buffer_waiters_.clear();  // maybe_release frees them
  read_queue_.clear();
  // Release the queue ID before the host can see the connection go.
  unbind();
  if (qp_) {
    // Every posted work request now completes (flushed), so none can touch our buffers
    // once the count is back at zero.
    ibv_qp_attr a{};
    a.qp_state = IBV_QPS_ERR;
    ibv_modify_qp(qp_, &a, IBV_QP_STATE);
  }
  rdma_disconnect(id_);
  maybe_release();
}

void rdma_qpair::maybe_release() {
  if (state_ != conn_state::closed || released_) return;
  if (wrs_outstanding_ > 0) return;  // the completion handler calls again
  for (auto& r : requests_)
    if (r->state != rdma_request_state::free && !r->in_bdev) release_request(*r);
  if (inflight_io() != 0) return;
  released_ = true;
  target().release_queue(this);
}

}  // namespace nvmfd
