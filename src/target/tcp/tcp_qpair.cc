#include "target/tcp/tcp_qpair.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstring>
#include <optional>

#include "base/buffer_pool.h"
#include "base/log.h"
#include "target/command_handlers.h"
#include "target/controller.h"
#include "target/nvmf_target.h"
#include "target/target_namespace.h"
#include "target/tcp/tcp_transport.h"
#include "tls/psk_identity.h"

namespace nvmfd {

namespace {

uint32_t max_pdu_data(const tcp_transport_options& o) {
  return std::max({admin_in_capsule_data_size, o.in_capsule_data_size, tcp_max_h2c_data});
}

// "addr:port", "[v6addr]:port": the host's end as Connect logs name it.
std::string describe_peer(const socket_address& a) {
  return a.ipv6 ? fmt::format("[{}]:{}", a.addr, a.port) : fmt::format("{}:{}", a.addr, a.port);
}

}  // namespace

void tcp_request::on_bdev_io_done(bdev_io&) { qp->on_io_done(*this); }

void tcp_request::on_pdu_sent(tx_pdu&) { qp->release_request(*this); }

tcp_qpair::tcp_qpair(nvmf_target& t, reactor& r, int fd, const tcp_transport_options& opts,
                     data_buffer_budget& buffers, connection_slot slot, std::shared_ptr<tls::tls_session> tls)
    : target_queue(t, r, limits_of(opts)),
      fd_(fd),
      opts_(opts),
      reader_(*this, pdu_check_params{pdu_role::target, false, false, false, 0, max_pdu_data(opts)}),
      tls_(std::move(tls)),
      buffers_(buffers),
      watchdog_(r.now()),
      slot_(std::move(slot)) {}

tcp_qpair::~tcp_qpair() {
  if (!channel_ && fd_ >= 0) ::close(fd_);
}

void tcp_qpair::start() {
  queue_endpoint local;
  if (auto a = local_address(fd_)) local = {a->addr, std::to_string(a->port), std::string(tcp_transport::trtype)};
  std::string peer = "an unknown peer";
  if (auto a = peer_address(fd_)) {
    peer_ = *a;
    peer = describe_peer(peer_);
  }
  set_endpoints(std::move(local), std::move(peer));
  // buf_cache_size: what this reactor keeps of the buffers its requests give back.
  buffer_pool::local().set_cache_limit(
      static_cast<size_t>(std::min<uint64_t>(uint64_t{opts_.buf_cache_size} * opts_.io_unit_size, SIZE_MAX)));
  grow_requests(1);  // room for the Connect; the queue size is known after it
  arm_receive_watchdog();
  channel_ = tls_ ? make_tls_pdu_channel(owner(), fd_, tls_, reader_, writer_, *this)
                 : make_pdu_channel(owner(), fd_, reader_, writer_, *this);
  if (auto w = channel_->start(); !w) {
    NVMFD_LOG_ERROR("qpair: {}", w.err().message);
    close("cannot watch socket");
  }
}

void tcp_qpair::grow_requests(uint16_t n) {
  while (requests_.size() < n) {
    auto req = std::make_unique<tcp_request>();
    req->queue = this;
    req->qp = this;
    req->index = static_cast<uint16_t>(requests_.size());
    req->io.done = req.get();
    req->io.owner = &owner();
    req->next_free = free_list_;
    free_list_ = req.get();
    requests_.push_back(std::move(req));
  }
}

tcp_request* tcp_qpair::alloc_request() {
  tcp_request* req = free_list_;
  if (!req) return nullptr;
  free_list_ = req->next_free;
  req->next_free = nullptr;
  req->reset();
  req->state = request_state::receiving;
  req->h2c_received = 0;
  req->data_digest_error = req->early_error = false;
  return req;
}

void tcp_qpair::release_request(tcp_request& req) {
  if (req.buf) buffer_pool::local().give(req.buf, req.buf_len);
  req.buf = nullptr;
  req.buf_len = 0;
  if (req.budget_bytes) {
    buffers_.give(owner().index(), req.budget_bytes);
    req.budget_bytes = 0;
    if (!buffer_waiters_.empty()) schedule_flush();  // run_deferred retries them, outside this call
  }
  end_request(req);
  req.state = request_state::free;
  req.next_free = free_list_;
  free_list_ = &req;
}

// In-capsule data only: the reader needs the buffer now (not counted in the budget).
bool tcp_qpair::take_buffer(target_request& req, uint32_t len) {
  if (len == 0) return true;
  if (req.buf && req.buf_len >= len) return true;
  if (req.buf) buffer_pool::local().give(req.buf, req.buf_len);
  req.buf = buffer_pool::local().take(len);
  req.buf_len = req.buf ? len : 0;
  return req.buf != nullptr;
}

// --- receive ---------------------------------------------------------------------------

void tcp_qpair::on_channel_error(channel_error e) {
  if (state_ == conn_state::closed) return;
  switch (e) {
    case channel_error::protocol_error:
      send_term_req(reader_.error_info(), reader_.error_header());
      break;
    case channel_error::peer_closed:
      // After our C2HTermReq, the host closing is the end of the drain.
      close(state_ == conn_state::terminating ? "terminated" : "peer closed the connection");
      break;
    default:
      close(to_string(e));
      break;
  }
}

void tcp_qpair::on_channel_drained() {
  if (close_after_send_ && state_ != conn_state::closed) close("disconnect");
}

void tcp_qpair::on_channel_quiet() { maybe_release(); }

std::variant<std::byte*, term_error> tcp_qpair::on_pdu_header(std::span<const std::byte> header,
                                                              uint32_t data_len) {
  auto ch = load_wire<pdu_common_header>(header.data());
  switch (static_cast<pdu_type>(ch.type)) {
    case pdu_type::ic_req:
      return static_cast<std::byte*>(nullptr);
    case pdu_type::capsule_cmd:
      return on_capsule_header(header, data_len);
    case pdu_type::h2c_data:
      return on_h2c_data_header(header, data_len);
    case pdu_type::h2c_term_req:
      if (data_len > term_data_.size()) return term_error{term_fes::invalid_header_field, ch_offset::plen};
      return term_data_.data();
    default:
      return term_error{term_fes::invalid_header_field, ch_offset::type};
  }
}

std::variant<std::byte*, term_error> tcp_qpair::on_capsule_header(std::span<const std::byte> header,
                                                                  uint32_t data_len) {
  tcp_request* req = alloc_request();
  // More commands outstanding than the queue has entries (NVMe/TCP 3.3: SQ size).
  if (!req) return term_error{term_fes::pdu_sequence_error, 0};
  req->cmd = load_wire<nvme_sqe>(header.data() + sizeof(pdu_common_header));
  req->in_capsule_len = data_len;
  rx_req_ = req;
  if (data_len == 0) return static_cast<std::byte*>(nullptr);
  uint32_t limit = (!connected() || is_admin()) ? admin_in_capsule_data_size : opts_.in_capsule_data_size;
  if (data_len > limit) {
    req->early_error = true;
    req->early_status = nvme_status::generic(sc_generic::data_sgl_length_invalid);
    return static_cast<std::byte*>(nullptr);  // the reader discards the data
  }
  if (!take_buffer(*req, data_len)) {
    req->early_error = true;
    req->early_status = nvme_status::generic(sc_generic::internal_error, false);
    return static_cast<std::byte*>(nullptr);
  }
  return req->buf;
}

std::variant<std::byte*, term_error> tcp_qpair::on_h2c_data_header(std::span<const std::byte> header,
                                                                   uint32_t data_len) {
  auto d = load_wire<data_pdu>(header.data());
  uint16_t ttag = d.ttag.get();
  if (ttag >= requests_.size() || requests_[ttag]->state != request_state::awaiting_h2c)
    return term_error{term_fes::invalid_header_field, offsetof(data_pdu, ttag)};
  tcp_request& req = *requests_[ttag];
  if (req.cid() != d.cccid.get()) return term_error{term_fes::invalid_header_field, offsetof(data_pdu, cccid)};
  uint32_t datao = d.datao.get(), datal = d.datal.get();
  if (datal == 0 || datal != data_len) return term_error{term_fes::invalid_header_field, offsetof(data_pdu, datal)};
  if (datao != req.h2c_received)
    return term_error{term_fes::data_transfer_out_of_range, offsetof(data_pdu, datao)};
  if (datal > tcp_max_h2c_data) return term_error{term_fes::r2t_limit_exceeded, offsetof(data_pdu, datal)};
  if (uint64_t{datao} + datal > req.xfer_len)
    return term_error{term_fes::data_transfer_out_of_range, offsetof(data_pdu, datal)};
  if ((d.ch.flags & pdu_flags::last_pdu) && datao + datal != req.xfer_len)
    return term_error{term_fes::invalid_header_field, ch_offset::flags};
  rx_req_ = &req;
  return req.buf + datao;
}

void tcp_qpair::on_pdu_received(std::span<const std::byte> header, bool data_digest_ok) {
  auto ch = load_wire<pdu_common_header>(header.data());
  switch (static_cast<pdu_type>(ch.type)) {
    case pdu_type::ic_req:
      on_ic_req(header);
      break;
    case pdu_type::capsule_cmd: {
      tcp_request& req = *rx_req_;
      rx_req_ = nullptr;
      consume_sqe();  // whatever becomes of the command, even with a bad digest
      if (!data_digest_ok) {
        // NVMe/TCP 3.6.2.? : a data digest error fails the command, not the connection.
        complete(req, nvme_status::generic(sc_generic::transient_transport_error, false));
        break;
      }
      start_command(req);
      break;
    }
    case pdu_type::h2c_data: {
      tcp_request& req = *rx_req_;
      rx_req_ = nullptr;
      req.h2c_received += load_wire<data_pdu>(header.data()).datal.get();
      if (opts_.h2c_data_timeout_ms)
        req.h2c_deadline = owner().now() + std::chrono::milliseconds(opts_.h2c_data_timeout_ms);
      if (!data_digest_ok) req.data_digest_error = true;
      if (req.h2c_received == req.xfer_len) {
        if (req.data_digest_error)
          complete(req, nvme_status::generic(sc_generic::transient_transport_error, false));
        else
          execute(req);
      }
      break;
    }
    case pdu_type::h2c_term_req: {
      auto t = load_wire<term_req_pdu>(header.data());
      NVMFD_LOG_WARN("qpair {}:{} qid {}: host terminated the connection (FES {:#x}, FEI {})", peer_.addr,
                     peer_.port, qid(), t.fes.get(), t.fei.get());
      reader_.stop();
      close("H2CTermReq");
      break;
    }
    default:
      break;
  }
}

void tcp_qpair::on_ic_req(std::span<const std::byte> header) {
  auto req = load_wire<ic_req_pdu>(header.data());
  if (auto e = check_ic_req(req)) {
    send_term_req(*e, header);
    return;
  }
  if (tls_) {
    // The handshake is done (the ICReq came over it): its PSK identity binds the Connect.
    if (auto id = tls::parse_psk_identity(tls_->identity()))
      set_tls({id->hostnqn, id->subnqn, channel_->tls_state()});
  }
  hdgst_ = req.dgst & 0x1;
  ddgst_ = req.dgst & 0x2;
  c2h_pda_ = req.hpda ? (uint32_t{req.hpda} + 1) * 4 : 0;
  ic_resp_pdu r{};
  r.ch.type = static_cast<uint8_t>(pdu_type::ic_resp);
  r.pfv = pdu_format_version_1_0;
  r.cpda = 0;
  r.dgst = static_cast<uint8_t>(req.dgst & 0x3);
  r.maxh2cdata = tcp_max_h2c_data;
  std::memcpy(icresp_hdr_.data(), &r, sizeof(r));
  pdu_writer::build(icresp_tx_, icresp_hdr_.data(), sizeof(r), nullptr, 0, false, false);
  icresp_tx_.done = nullptr;
  writer_.enqueue(icresp_tx_);
  schedule_flush();
  state_ = conn_state::ready;
  reader_.set_params({pdu_role::target, true, hdgst_, ddgst_, 0, max_pdu_data(opts_)});
}

// --- command path ----------------------------------------------------------------------

void tcp_qpair::start_command(tcp_request& req) {
  if (req.early_error) return complete(req, req.early_status);
  nvme_status st = begin_command(*this, req);
  if (!st.ok()) return complete(req, st);

  const auto& sgl = req.cmd.sgl;
  uint8_t sgl_type = sgl.sgl_identifier;
  if (req.xfer_len == 0 && req.in_capsule_len == 0) return execute(req);  // no data: any SGL type will do
  switch (req.dir) {
    case data_direction::host_to_controller:
      if (sgl_type == sgl_id::data_block_offset) {
        if (sgl.address.get() != 0) return complete(req, nvme_status::generic(sc_generic::sgl_offset_invalid));
        if (sgl.length.get() != req.in_capsule_len || req.xfer_len != req.in_capsule_len)
          return complete(req, nvme_status::generic(sc_generic::data_sgl_length_invalid));
        return execute(req);
      }
      if (sgl_type != sgl_id::transport_data_block || req.in_capsule_len != 0)
        return complete(req, nvme_status::generic(sc_generic::sgl_descriptor_type_invalid));
      if (req.xfer_len > opts_.max_io_size)
        return complete(req, nvme_status::generic(sc_generic::data_sgl_length_invalid));
      if (req.xfer_len == 0) return execute(req);
      return start_data_phase(req);
    case data_direction::controller_to_host:
      if (req.xfer_len > 0 && sgl_type != sgl_id::transport_data_block)
        return complete(req, nvme_status::generic(sc_generic::sgl_descriptor_type_invalid));
      if (req.xfer_len > opts_.max_io_size)
        return complete(req, nvme_status::generic(sc_generic::data_sgl_length_invalid));
      if (req.in_place || req.xfer_len == 0) return execute(req);
      return start_data_phase(req);
    default:
      return execute(req);
  }
}

void tcp_qpair::start_data_phase(tcp_request& req) {
  // First come, first served: behind any command already waiting on this queue.
  if (!buffer_waiters_.empty() || !take_data_buffer(req)) return wait_for_buffer(req);
  if (req.dir == data_direction::host_to_controller) return send_r2t(req);
  execute(req);
}

bool tcp_qpair::take_data_buffer(tcp_request& req) {
  uint64_t bytes = buffer_pool::class_bytes(req.xfer_len);
  if (!buffers_.try_take(owner().index(), bytes)) return false;
  if (req.buf) buffer_pool::local().give(req.buf, req.buf_len);  // in-capsule data of a read
  req.buf = buffer_pool::local().take(req.xfer_len);
  if (!req.buf) {  // out of memory: wait as for the budget
    buffers_.give(owner().index(), bytes);
    req.buf_len = 0;
    return false;
  }
  req.buf_len = req.xfer_len;
  req.budget_bytes = static_cast<uint32_t>(bytes);
  return true;
}

void tcp_qpair::wait_for_buffer(tcp_request& req) {
  req.state = request_state::awaiting_buffer;
  buffer_waiters_.push_back(req);
  arm_buffer_retry();
}

void tcp_qpair::retry_buffer_waiters() {
  while (!buffer_waiters_.empty() && state_ == conn_state::ready) {
    if (!take_data_buffer(buffer_waiters_.front())) break;
    tcp_request& req = buffer_waiters_.pop_front();
    if (req.dir == data_direction::host_to_controller)
      send_r2t(req);
    else
      execute(req);
  }
  if (!buffer_waiters_.empty()) arm_buffer_retry();
}

// Buffers freed by this queue retry its waiters at once (release_request); buffers freed by
// other queues, perhaps on other reactors, are noticed by polling while anyone waits.
void tcp_qpair::arm_buffer_retry() {
  if (!buffer_retry_timer_) schedule_self(&tcp_qpair::buffer_retry_timer_, std::chrono::milliseconds(1),
                                          &tcp_qpair::on_buffer_retry_timer);
}

void tcp_qpair::on_buffer_retry_timer() {
  retry_buffer_waiters();
  flush_now();
}

void tcp_qpair::schedule_self(timer_id tcp_qpair::*slot, std::chrono::milliseconds delay, void (tcp_qpair::*fn)()) {
  std::weak_ptr<target_queue> weak = weak_from_this();
  this->*slot = owner().schedule(delay, [weak, slot, fn] {
    if (auto q = weak.lock()) {
      auto& self = static_cast<tcp_qpair&>(*q);
      self.*slot = 0;
      (self.*fn)();
    }
  });
}

void tcp_qpair::arm_h2c_timer(std::chrono::milliseconds delay) {
  schedule_self(&tcp_qpair::h2c_timer_, delay, &tcp_qpair::check_h2c_deadlines);
}

void tcp_qpair::check_h2c_deadlines() {
  if (state_ != conn_state::ready) return;
  auto now = owner().now();
  std::optional<time_source::time_point> next;
  for (auto& r : requests_) {
    if (r->state != request_state::awaiting_h2c) continue;
    if (r->h2c_deadline <= now) {
      NVMFD_LOG_WARN("qpair {} qid {}: no H2CData for command {} (cid {}) within {} ms of its R2T, closing the "
                     "connection",
                     peer(), qid(), r->cmd.opcode, r->cid(), opts_.h2c_data_timeout_ms);
      close("H2CData timeout");
      return;
    }
    if (!next || r->h2c_deadline < *next) next = r->h2c_deadline;
  }
  if (next) arm_h2c_timer(std::chrono::ceil<std::chrono::milliseconds>(*next - now));
}

void tcp_qpair::arm_receive_watchdog() {
  if (!opts_.incomplete_pdu_timeout_ms) return;
  auto period = std::chrono::milliseconds(std::max<uint32_t>(1, opts_.incomplete_pdu_timeout_ms / 2));
  schedule_self(&tcp_qpair::watchdog_timer_, period, &tcp_qpair::check_receive_stall);
}

void tcp_qpair::check_receive_stall() {
  if (state_ == conn_state::closed || state_ == conn_state::terminating) return;
  receive_watchdog::sample s{state_ == conn_state::wait_ic_req, reader_.mid_pdu(), reader_.pdus_received()};
  if (watchdog_.stalled(s, owner().now(), std::chrono::milliseconds(opts_.incomplete_pdu_timeout_ms))) {
    NVMFD_LOG_WARN("qpair {} qid {}: {} for {} ms (incomplete_pdu_timeout_ms), closing the connection", peer(), qid(),
                   s.waiting_ic_req ? "no ICReq" : "a PDU left incomplete", opts_.incomplete_pdu_timeout_ms);
    close("incomplete PDU timeout");
    return;
  }
  arm_receive_watchdog();
}

void tcp_qpair::execute(tcp_request& req) {
  req.state = request_state::executing;
  if (auto st = execute_command(*this, req)) complete(req, *st);
}

void tcp_qpair::on_io_done(tcp_request& req) {
  bdev_io_finished(req);
  if (state_ != conn_state::ready) {
    release_request(req);
    maybe_release();
    return;
  }
  if (auto st = io_step_done(*this, req)) complete(req, *st);
}

void tcp_qpair::send_r2t(tcp_request& req) {
  req.state = request_state::awaiting_h2c;
  req.h2c_received = 0;
  if (opts_.h2c_data_timeout_ms) {
    req.h2c_deadline = owner().now() + std::chrono::milliseconds(opts_.h2c_data_timeout_ms);
    if (!h2c_timer_) arm_h2c_timer(std::chrono::milliseconds(opts_.h2c_data_timeout_ms));
  }
  r2t_pdu r{};
  r.ch.type = static_cast<uint8_t>(pdu_type::r2t);
  r.cccid = req.cid();
  r.ttag = req.index;
  r.r2to = 0;
  r.r2tl = req.xfer_len;
  std::memcpy(req.r2t_hdr.data(), &r, sizeof(r));
  pdu_writer::build(req.r2t_tx, req.r2t_hdr.data(), sizeof(r), nullptr, 0, hdgst_, false);
  req.r2t_tx.done = nullptr;
  writer_.enqueue(req.r2t_tx);
  schedule_flush();
}

void tcp_qpair::complete(target_request& generic, nvme_status st) {
  assert(generic.queue == this);  // a queue completes only its own slots
  auto& req = static_cast<tcp_request&>(generic);
  if (state_ != conn_state::ready) {
    release_request(req);
    maybe_release();
    return;
  }
  req.state = request_state::sending;
  fill_cqe(req, st);
  if (st.ok() && req.dir == data_direction::controller_to_host && req.c2h_len > 0) {
    data_pdu d{};
    d.ch.type = static_cast<uint8_t>(pdu_type::c2h_data);
    // NVMe/TCP 3.6.2.8: SUCCESS (no CapsuleResp follows) only when the host disabled SQ flow
    // control at Connect, since the response would carry SQHD; and only for plain results.
    bool success_flag = opts_.c2h_success && sq_flow_control_disabled() && !is_admin() && req.cqe.dw0.get() == 0 &&
                        req.cqe.dw1.get() == 0;
    d.ch.flags = static_cast<uint8_t>(pdu_flags::last_pdu | (success_flag ? pdu_flags::success : 0));
    d.cccid = req.cid();
    d.datao = 0;
    d.datal = req.c2h_len;
    std::memcpy(req.data_hdr.data(), &d, sizeof(d));
    const std::byte* data = req.c2h_data ? req.c2h_data : req.buf;
    pdu_writer::build(req.data_tx, req.data_hdr.data(), sizeof(d), data, req.c2h_len, hdgst_, ddgst_, c2h_pda_);
    req.data_tx.done = success_flag ? &req : nullptr;
    writer_.enqueue(req.data_tx);
    if (success_flag) {
      schedule_flush();
      return;
    }
  }
  capsule_resp_pdu r{};
  r.ch.type = static_cast<uint8_t>(pdu_type::capsule_resp);
  r.cqe = req.cqe;
  std::memcpy(req.resp_hdr.data(), &r, sizeof(r));
  pdu_writer::build(req.resp_tx, req.resp_hdr.data(), sizeof(r), nullptr, 0, hdgst_, false);
  req.resp_tx.done = &req;
  writer_.enqueue(req.resp_tx);
  schedule_flush();
}

// --- send ------------------------------------------------------------------------------

void tcp_qpair::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  owner().defer(*this);
}

void tcp_qpair::run_deferred() {
  flush_scheduled_ = false;
  if (!buffer_waiters_.empty()) retry_buffer_waiters();
  flush_now();
}

void tcp_qpair::flush_now() {
  if (state_ == conn_state::closed || !channel_) return;
  channel_->flush();  // on_channel_drained closes after a Disconnect's response
}

void tcp_qpair::send_term_req(const term_error& e, std::span<const std::byte> bad_header) {
  if (state_ == conn_state::terminating || state_ == conn_state::closed) return;  // one TermReq at most
  NVMFD_LOG_WARN("qpair {}:{} qid {}: protocol error, FES {:#x} FEI {}: sending C2HTermReq", peer_.addr, peer_.port,
                 qid(), static_cast<unsigned>(e.fes), e.fei);
  state_ = conn_state::terminating;
  reader_.stop();
  channel_->discard_input();
  term_req_pdu t{};
  t.ch.type = static_cast<uint8_t>(pdu_type::c2h_term_req);
  t.ch.hlen = sizeof(t);
  t.fes = static_cast<uint16_t>(e.fes);
  t.fei = e.fei;
  size_t n = std::min(bad_header.size(), max_term_req_data);
  std::memcpy(term_data_.data(), bad_header.data(), n);
  t.ch.plen = static_cast<uint32_t>(sizeof(t) + n);
  std::memcpy(term_hdr_.data(), &t, sizeof(t));
  // No digests and no PDO on a TermReq (NVMe/TCP 3.6.2.9): iovecs by hand.
  term_tx_.iovcnt = 0;
  term_tx_.first_iov = 0;
  term_tx_.iov[term_tx_.iovcnt++] = {term_hdr_.data(), sizeof(t)};
  if (n) term_tx_.iov[term_tx_.iovcnt++] = {term_data_.data(), n};
  term_tx_.done = this;
  writer_.enqueue(term_tx_);
  flush_now();
}

void tcp_qpair::on_pdu_sent(tx_pdu& p) {
  if (&p != &term_tx_ || state_ != conn_state::terminating) return;
  // TermReq is out: stop sending, drain what the host still sends, close on EOF or in 1 s.
  channel_->shutdown_write();
  std::weak_ptr<target_queue> weak = weak_from_this();
  drain_timer_ = owner().schedule(std::chrono::seconds(1), [weak] {
    if (auto q = weak.lock()) {
      static_cast<tcp_qpair&>(*q).drain_timer_ = 0;
      q->close("terminated");
    }
  });
}

// --- close -----------------------------------------------------------------------------

void tcp_qpair::close(std::string_view why) {
  if (state_ == conn_state::closed) return;
  NVMFD_LOG_DEBUG("qpair {}:{} qid {} closing: {}", peer_.addr, peer_.port, qid(), why);
  (void)why;
  state_ = conn_state::closed;
  reader_.stop();
  for (timer_id* t : {&drain_timer_, &buffer_retry_timer_, &h2c_timer_, &watchdog_timer_}) {
    if (*t) owner().cancel(*t);
    *t = 0;
  }
  buffer_waiters_.clear();  // maybe_release frees them
  // Release the queue ID before the host can see the socket close, so that a host that
  // reconnects at once finds it free.
  unbind();
  if (channel_)
    channel_->close();
  else
    ::close(fd_);
  fd_ = -1;
  writer_ = pdu_writer{};
  maybe_release();
}

void tcp_qpair::maybe_release() {
  if (state_ != conn_state::closed || released_) return;
  // A send in flight may still read the PDUs of requests: on_channel_quiet calls again.
  if (channel_ && !channel_->quiet()) return;
  // Free every command not waiting on a bdev; those are freed when their I/O completes.
  for (auto& r : requests_)
    if (r->state != request_state::free && !r->in_bdev) release_request(*r);
  if (inflight_io() != 0) return;
  released_ = true;
  target().release_queue(this);
}

}  // namespace nvmfd
