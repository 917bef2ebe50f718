#include "host/tcp_host_qpair.h"

#include <unistd.h>

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"

namespace nvmfd {

namespace {
nvme_status path_error() { return nvme_status::path(sc_host::host_path_error); }
}  // namespace


tcp_host_qpair::tcp_host_qpair(reactor& r, int fd, const tcp_host_qpair_params& p, std::shared_ptr<tls::tls_session> tls)
    : reactor_(r),
      fd_(fd),
      params_(p),
      reader_(*this, pdu_check_params{pdu_role::host, true, p.hdgst, p.ddgst, 0, 16u << 20}),
      tls_(std::move(tls)) {
  index_bits_ = std::max(1u, static_cast<unsigned>(std::bit_width(unsigned{p.queue_size} - 1)));
  for (uint16_t i = 0; i < p.queue_size; ++i) {
    auto s = std::make_unique<host_request>();
    s->index = i;
    s->qp = this;
    s->next_free = free_;
    free_ = s.get();
    slots_.push_back(std::move(s));
  }
}

tcp_host_qpair::~tcp_host_qpair() {
  if (!channel_ && fd_ >= 0) ::close(fd_);
}

void tcp_host_qpair::start() {
  if (failed_) return;
  channel_ = tls_ ? make_tls_pdu_channel(reactor_, fd_, std::move(tls_), reader_, writer_, *this)
                 : make_pdu_channel(reactor_, fd_, reader_, writer_, *this);
  if (auto w = channel_->start(); !w) fail(w.err().message);
}

host_request* tcp_host_qpair::alloc() {
  if (failed_ || !free_) return nullptr;
  host_request* r = free_;
  free_ = r->next_free;
  r->next_free = nullptr;
  r->state = host_request_state::sent;
  r->data = nullptr;
  r->data_len = 0;
  r->host_to_controller = false;
  r->cb = nullptr;
  r->user = nullptr;
  r->timeout_ms = 0;
  r->cmd = {};
  return r;
}

host_request* tcp_host_qpair::find_by_cid(uint16_t cid) {
  uint16_t index = static_cast<uint16_t>(cid & ((1u << index_bits_) - 1));
  uint16_t gen = static_cast<uint16_t>(cid >> index_bits_);
  if (index >= slots_.size()) return nullptr;
  host_request* r = slots_[index].get();
  // An answered command takes no more PDUs: anything for it is stale.
  if (r->state == host_request_state::free || r->state == host_request_state::answered || r->generation != gen)
    return nullptr;
  return r;
}

void tcp_host_qpair::submit(host_request& req) {
  req.generation = static_cast<uint16_t>((req.generation + 1) & ((1u << (16 - index_bits_)) - 1));
  uint16_t cid = static_cast<uint16_t>((req.generation << index_bits_) | req.index);
  req.cmd.cid = cid;
  req.cmd.flags = static_cast<uint8_t>((req.cmd.flags & 0x3f) | 0x40);  // PSDT 01b: SGL
  req.c2h_received = 0;
  req.data_status = {};
  req.h2c_pending = req.h2c_offset = 0;
  req.cmd_queued = req.h2c_queued = false;
  req.in_capsule = req.host_to_controller && req.data_len > 0 && req.data_len <= params_.in_capsule_max;
  auto& sgl = req.cmd.sgl;
  sgl.address = 0;
  sgl.length = req.data_len;
  sgl.sgl_identifier = req.in_capsule ? sgl_id::data_block_offset : sgl_id::transport_data_block;
  uint32_t limit_ms = req.timeout_ms ? req.timeout_ms : params_.io_timeout_ms;
  req.deadline = limit_ms && limit_ms != host_request::no_timeout
                     ? reactor_.now() + std::chrono::milliseconds(limit_ms)
                     : clock_type::time_point::max();
  ++outstanding_;
  req.awaited = req.timeout_ms != host_request::no_timeout;
  if (req.awaited) reactor_.add_pending();
  req.state = host_request_state::waiting;

  capsule_cmd_pdu pdu{};
  pdu.ch.type = static_cast<uint8_t>(pdu_type::capsule_cmd);
  pdu.sqe = req.cmd;
  std::memcpy(req.cmd_hdr.data(), &pdu, sizeof(pdu));
  pdu_writer::build(req.cmd_tx, req.cmd_hdr.data(), sizeof(pdu), req.in_capsule ? req.data : nullptr,
                    req.in_capsule ? req.data_len : 0, params_.hdgst, params_.ddgst, params_.cpda_bytes);
  req.cmd_tx.done = &req;
  if (failed_) {
    // The queue died between alloc() and submit(): complete from the loop, not from here.
    schedule_flush();
    return;
  }
  req.cmd_queued = true;
  writer_.enqueue(req.cmd_tx);
  schedule_flush();
  if (req.deadline != clock_type::time_point::max() && !timeout_timer_) arm_timeout_check();
}

void tcp_host_qpair::complete(host_request& req, const nvme_completion& c) {
  req.state = host_request_state::free;
  --outstanding_;
  if (req.awaited) reactor_.remove_pending();
  host_callback* cb = req.cb;
  req.next_free = free_;
  free_ = &req;
  if (cb) cb->on_host_complete(req, c);
  wake_waiters();
}

// A completion from the controller. While the command's capsule or an H2CData PDU is still
// queued, the writer reads from the slot and the caller's buffer: the completion waits for
// that send (on_request_pdu_sent), and no further data of the command is queued. A
// controller may answer before it has read all the data (an error, or with io_uring our
// send's completion may simply be seen after its answer); a completion that frees the slot
// here would let the writer send from a reused slot and a buffer given back to its owner.
void tcp_host_qpair::finish(host_request& req, const nvme_completion& c) {
  if (!req.cmd_queued && !req.h2c_queued) return complete(req, c);
  req.state = host_request_state::answered;
  req.answer = c;
  req.h2c_pending = 0;
}

void tcp_host_qpair::wait_for_slot(slot_waiter& w) {
  w.next = nullptr;
  if (wait_tail_)
    wait_tail_->next = &w;
  else
    wait_head_ = &w;
  wait_tail_ = &w;
}

void tcp_host_qpair::wake_waiters() {
  // Each waiter takes a slot (or, on a failed queue, finds none and gives up).
  while (wait_head_ && (free_ || failed_)) {
    slot_waiter* w = wait_head_;
    wait_head_ = w->next;
    if (!wait_head_) wait_tail_ = nullptr;
    w->next = nullptr;
    w->cb->on_slot_free(*this, *w);
  }
}

// --- receive ---------------------------------------------------------------------------

void tcp_host_qpair::on_channel_error(channel_error e) {
  switch (e) {
    case channel_error::peer_closed:
      fail("the controller closed the connection");
      break;
    case channel_error::protocol_error:
      fail(fmt::format("protocol error from the controller (FES {:#x}, FEI {})",
                       static_cast<unsigned>(reader_.error_info().fes), reader_.error_info().fei));
      break;
    default:
      fail(std::string(to_string(e)));
      break;
  }
}

void tcp_host_qpair::on_channel_quiet() {
  auto last = std::move(self_);  // may be the last reference: nothing of this is used after
}

std::variant<std::byte*, term_error> tcp_host_qpair::on_pdu_header(std::span<const std::byte> header, uint32_t data_len) {
  auto ch = load_wire<pdu_common_header>(header.data());
  switch (static_cast<pdu_type>(ch.type)) {
    case pdu_type::c2h_data: {
      auto d = load_wire<data_pdu>(header.data());
      host_request* req = find_by_cid(d.cccid.get());
      if (!req || req->host_to_controller) {
        ++stale_completions_;
        return term_error{term_fes::invalid_header_field, offsetof(data_pdu, cccid)};
      }
      uint32_t datao = d.datao.get(), datal = d.datal.get();
      if (datal != data_len) return term_error{term_fes::invalid_header_field, offsetof(data_pdu, datal)};
      if (datao != req->c2h_received) return term_error{term_fes::data_transfer_out_of_range, offsetof(data_pdu, datao)};
      if (uint64_t{datao} + datal > req->data_len)
        return term_error{term_fes::data_transfer_out_of_range, offsetof(data_pdu, datal)};
      bool success = d.ch.flags & pdu_flags::success;
      if (success && (!(d.ch.flags & pdu_flags::last_pdu) || datao + datal != req->data_len))
        return term_error{term_fes::invalid_header_field, ch_offset::flags};
      rx_req_ = req;
      rx_datal_ = datal;
      rx_success_ = success;
      return req->data + datao;
    }
    case pdu_type::r2t: {
      auto r = load_wire<r2t_pdu>(header.data());
      host_request* req = find_by_cid(r.cccid.get());
      if (!req || !req->host_to_controller || req->in_capsule) {
        ++stale_completions_;
        return term_error{term_fes::invalid_header_field, offsetof(r2t_pdu, cccid)};
      }
      uint32_t off = r.r2to.get(), len = r.r2tl.get();
      if (req->h2c_pending != 0) return term_error{term_fes::r2t_limit_exceeded, 0};  // we allow one R2T
      if (off != req->h2c_offset) return term_error{term_fes::data_transfer_out_of_range, offsetof(r2t_pdu, r2to)};
      if (len == 0 || uint64_t{off} + len > req->data_len)
        return term_error{term_fes::data_transfer_out_of_range, offsetof(r2t_pdu, r2tl)};
      req->ttag = r.ttag.get();
      req->h2c_pending = len;
      rx_req_ = req;
      return static_cast<std::byte*>(nullptr);
    }
    case pdu_type::capsule_resp:
    case pdu_type::c2h_term_req:
      return static_cast<std::byte*>(nullptr);
    default:
      return term_error{term_fes::invalid_header_field, ch_offset::type};
  }
}

void tcp_host_qpair::on_pdu_received(std::span<const std::byte> header, bool data_digest_ok) {
  auto ch = load_wire<pdu_common_header>(header.data());
  switch (static_cast<pdu_type>(ch.type)) {
    case pdu_type::capsule_resp: {
      auto r = load_wire<capsule_resp_pdu>(header.data());
      host_request* req = find_by_cid(r.cqe.cid.get());
      if (!req) {
        ++stale_completions_;
        reader_.stop();
        fail(fmt::format("completion for unknown or stale command ID {:#x}", r.cqe.cid.get()));
        return;
      }
      nvme_completion c{nvme_status::decode(r.cqe.status.get()), r.cqe.dw0.get(), r.cqe.dw1.get()};
      if (c.status.ok() && !req->data_status.ok()) c.status = req->data_status;
      if (c.status.ok() && !req->host_to_controller && req->c2h_received != req->data_len)
        c.status = nvme_status::generic(sc_generic::data_transfer_error, false);
      finish(*req, c);
      break;
    }
    case pdu_type::c2h_data: {
      host_request& req = *rx_req_;
      rx_req_ = nullptr;
      req.c2h_received += rx_datal_;
      if (!data_digest_ok) req.data_status = nvme_status::generic(sc_generic::transient_transport_error, false);
      if (rx_success_) finish(req, {req.data_status, 0, 0});
      break;
    }
    case pdu_type::r2t: {
      host_request& req = *rx_req_;
      rx_req_ = nullptr;
      // The previous R2T's last H2CData may still be queued (its header is reused): then
      // on_request_pdu_sent queues this one.
      if (!req.h2c_queued) queue_h2c(req);
      break;
    }
    case pdu_type::c2h_term_req: {
      auto t = load_wire<term_req_pdu>(header.data());
      reader_.stop();
      fail(fmt::format("C2HTermReq from the controller (FES {:#x}, FEI {})", t.fes.get(), t.fei.get()));
      break;
    }
    default:
      break;
  }
}

// --- send ------------------------------------------------------------------------------

void tcp_host_qpair::queue_h2c(host_request& req) {
  uint32_t chunk = std::min(req.h2c_pending, params_.maxh2cdata);
  bool last = chunk == req.h2c_pending;
  data_pdu d{};
  d.ch.type = static_cast<uint8_t>(pdu_type::h2c_data);
  d.ch.flags = last ? pdu_flags::last_pdu : 0;
  d.cccid = req.cmd.cid.get();
  d.ttag = req.ttag;
  d.datao = req.h2c_offset;
  d.datal = chunk;
  std::memcpy(req.h2c_hdr.data(), &d, sizeof(d));
  pdu_writer::build(req.h2c_tx, req.h2c_hdr.data(), sizeof(d), req.data + req.h2c_offset, chunk, params_.hdgst,
                    params_.ddgst, params_.cpda_bytes);
  req.h2c_offset += chunk;
  req.h2c_pending -= chunk;
  // The next chunk reuses this header: queue it once this one is on the socket.
  req.h2c_tx.done = &req;
  req.h2c_queued = true;
  writer_.enqueue(req.h2c_tx);
  schedule_flush();
}

void tcp_host_qpair::on_request_pdu_sent(host_request& req, tx_pdu& p) {
  (&p == &req.cmd_tx ? req.cmd_queued : req.h2c_queued) = false;
  if (failed_) return;
  if (req.state == host_request_state::answered) {
    if (!req.cmd_queued && !req.h2c_queued) complete(req, req.answer);
    return;
  }
  if (req.h2c_pending > 0 && !req.h2c_queued) queue_h2c(req);
}

void tcp_host_qpair::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  reactor_.defer(*this);
}

void tcp_host_qpair::run_deferred() {
  flush_scheduled_ = false;
  if (failed_) {
    // Commands submitted after the failure: complete them now, from the loop.
    for (auto& s : slots_)
      if (s->state != host_request_state::free) complete(*s, {path_error(), 0, 0});
    return;
  }
  flush_now();
}

void tcp_host_qpair::flush_now() {
  if (failed_ || !channel_) return;
  channel_->flush();
}

// --- failure and timeouts --------------------------------------------------------------

void tcp_host_qpair::fail(const std::string& why, bool expected) {
  if (failed_) return;
  failed_ = true;
  failure_ = why;
  if (expected)
    NVMFD_LOG_DEBUG("host queue {} closed: {}", params_.qid, why);
  else
    NVMFD_LOG_WARN("host queue {} failed: {}", params_.qid, why);
  reader_.stop();
  if (timeout_timer_) reactor_.cancel(timeout_timer_);
  timeout_timer_ = 0;
  // The channel shuts the socket down now; until it is quiet, this stays alive.
  if (channel_) {
    channel_->close();
    if (!channel_->quiet()) self_ = shared_from_this();
  } else {
    ::close(fd_);
  }
  fd_ = -1;
  writer_ = pdu_writer{};
  auto now = reactor_.now();
  for (auto& s : slots_) {
    if (s->state == host_request_state::free) continue;
    if (s->state == host_request_state::answered) {
      complete(*s, s->answer);  // the controller's answer; the socket no longer reads the buffer
      continue;
    }
    bool timed_out = s->deadline <= now;
    complete(*s, {timed_out ? nvme_status::path(sc_host::host_aborted) : path_error(), 0, 0});
  }
  wake_waiters();
  if (on_failure_) on_failure_(why);
}

void tcp_host_qpair::arm_timeout_check() {
  uint32_t base = params_.io_timeout_ms ? params_.io_timeout_ms : 4000;
  auto period = std::chrono::milliseconds(std::max<uint32_t>(50, std::min<uint32_t>(base / 4, 250)));
  std::weak_ptr<tcp_host_qpair> weak = weak_from_this();
  timeout_timer_ = reactor_.schedule(period, [weak] {
    if (auto q = weak.lock()) {
      q->timeout_timer_ = 0;
      q->check_timeouts();
    }
  });
}

void tcp_host_qpair::check_timeouts() {
  if (failed_) return;
  auto now = reactor_.now();
  for (auto& s : slots_) {
    if (s->state != host_request_state::free && s->deadline <= now) {
      fail(fmt::format("command {:#x} (opcode {:#x}) timed out after {} ms", s->cmd.cid.get(), s->cmd.opcode,
                       s->timeout_ms ? s->timeout_ms : params_.io_timeout_ms));
      return;
    }
  }
  for (auto& s : slots_)
    if (s->state != host_request_state::free && s->deadline != clock_type::time_point::max()) {
      arm_timeout_check();
      return;
    }
}

}  // namespace nvmfd

namespace nvmfd {
void host_request::on_pdu_sent(tx_pdu& p) { qp->on_request_pdu_sent(*this, p); }
}  // namespace nvmfd
