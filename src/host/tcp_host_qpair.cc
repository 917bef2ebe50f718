#include "host/tcp_host_qpair.h"

#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

namespace nvmfd {

tcp_host_qpair::tcp_host_qpair(reactor& r, int fd, const tcp_host_qpair_params& p,
                               std::shared_ptr<tls::tls_session> tls)
    : host_queue(r, p.qid, p.queue_size, p.io_timeout_ms),
      fd_(fd),
      params_(p),
      reader_(*this, pdu_check_params{pdu_role::host, true, p.hdgst, p.ddgst, 0, 16u << 20}),
      tls_(std::move(tls)),
      tcp_(p.queue_size) {
  for (auto& s : slots_) {
    tcp_[s->index].qp = this;
    tcp_[s->index].req = s.get();
  }
}

tcp_host_qpair::~tcp_host_qpair() {
  if (!channel_ && fd_ >= 0) ::close(fd_);
}

void tcp_host_qpair::start() {
  if (failed()) return;
  channel_ = tls_ ? make_tls_pdu_channel(reactor_, fd_, std::move(tls_), reader_, writer_, *this)
                 : make_pdu_channel(reactor_, fd_, reader_, writer_, *this);
  if (auto w = channel_->start(); !w) fail(w.err().message);
}

void tcp_host_qpair::send(host_request& req) {
  slot& s = tcp_[req.index];
  req.cmd.flags = static_cast<uint8_t>((req.cmd.flags & 0x3f) | 0x40);  // PSDT 01b: SGL
  s.c2h_received = 0;
  s.data_status = {};
  s.h2c_pending = s.h2c_offset = 0;
  s.cmd_queued = s.h2c_queued = false;
  s.in_capsule = req.host_to_controller && req.data_len > 0 && req.data_len <= params_.in_capsule_max;
  auto& sgl = req.cmd.sgl;
  sgl.address = 0;
  sgl.length = req.data_len;
  sgl.sgl_identifier = s.in_capsule ? sgl_id::data_block_offset : sgl_id::transport_data_block;

  capsule_cmd_pdu pdu{};
  pdu.ch.type = static_cast<uint8_t>(pdu_type::capsule_cmd);
  pdu.sqe = req.cmd;
  std::memcpy(s.cmd_hdr.data(), &pdu, sizeof(pdu));
  pdu_writer::build(s.cmd_tx, s.cmd_hdr.data(), sizeof(pdu), s.in_capsule ? req.data : nullptr,
                    s.in_capsule ? req.data_len : 0, params_.hdgst, params_.ddgst, params_.cpda_bytes);
  s.cmd_tx.done = &s;
  if (failed()) {
    // The queue died between alloc() and submit(): complete from the loop, not from here.
    schedule_flush();
    return;
  }
  s.cmd_queued = true;
  writer_.enqueue(s.cmd_tx);
  schedule_flush();
}

// A completion from the controller. While the command's capsule or an H2CData PDU is still
// queued, the writer reads from the slot and the caller's buffer: the completion waits for
// that send (on_request_pdu_sent), and no further data of the command is queued. A
// controller may answer before it has read all the data (an error, or with io_uring our
// send's completion may simply be seen after its answer); a completion that frees the slot
// here would let the writer send from a reused slot and a buffer given back to its owner.
void tcp_host_qpair::finish(host_request& req, const nvme_completion& c) {
  slot& s = tcp_[req.index];
  if (!s.cmd_queued && !s.h2c_queued) return complete(req, c);
  req.state = host_request_state::answered;
  req.answer = c;
  s.h2c_pending = 0;
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

std::variant<std::byte*, term_error> tcp_host_qpair::on_pdu_header(std::span<const std::byte> header,
                                                                   uint32_t data_len) {
  auto ch = load_wire<pdu_common_header>(header.data());
  switch (static_cast<pdu_type>(ch.type)) {
    case pdu_type::c2h_data: {
      auto d = load_wire<data_pdu>(header.data());
      host_request* req = find_by_cid(d.cccid.get());
      if (!req || req->host_to_controller) {
        ++stale_completions_;
        return term_error{term_fes::invalid_header_field, offsetof(data_pdu, cccid)};
      }
      slot& s = tcp_[req->index];
      uint32_t datao = d.datao.get(), datal = d.datal.get();
      if (datal != data_len) return term_error{term_fes::invalid_header_field, offsetof(data_pdu, datal)};
      if (datao != s.c2h_received) return term_error{term_fes::data_transfer_out_of_range, offsetof(data_pdu, datao)};
      if (uint64_t{datao} + datal > req->data_len)
        return term_error{term_fes::data_transfer_out_of_range, offsetof(data_pdu, datal)};
      bool success = d.ch.flags & pdu_flags::success;
      if (success && (!(d.ch.flags & pdu_flags::last_pdu) || datao + datal != req->data_len))
        return term_error{term_fes::invalid_header_field, ch_offset::flags};
      rx_slot_ = &s;
      rx_datal_ = datal;
      rx_success_ = success;
      return req->data + datao;
    }
    case pdu_type::r2t: {
      auto r = load_wire<r2t_pdu>(header.data());
      host_request* req = find_by_cid(r.cccid.get());
      if (!req || !req->host_to_controller || tcp_[req->index].in_capsule) {
        ++stale_completions_;
        return term_error{term_fes::invalid_header_field, offsetof(r2t_pdu, cccid)};
      }
      slot& s = tcp_[req->index];
      uint32_t off = r.r2to.get(), len = r.r2tl.get();
      if (s.h2c_pending != 0) return term_error{term_fes::r2t_limit_exceeded, 0};  // we allow one R2T
      if (off != s.h2c_offset) return term_error{term_fes::data_transfer_out_of_range, offsetof(r2t_pdu, r2to)};
      if (len == 0 || uint64_t{off} + len > req->data_len)
        return term_error{term_fes::data_transfer_out_of_range, offsetof(r2t_pdu, r2tl)};
      s.ttag = r.ttag.get();
      s.h2c_pending = len;
      rx_slot_ = &s;
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
      const slot& s = tcp_[req->index];
      nvme_completion c{nvme_status::decode(r.cqe.status.get()), r.cqe.dw0.get(), r.cqe.dw1.get()};
      if (c.status.ok() && !s.data_status.ok()) c.status = s.data_status;
      if (c.status.ok() && !req->host_to_controller && s.c2h_received != req->data_len)
        c.status = nvme_status::generic(sc_generic::data_transfer_error, false);
      finish(*req, c);
      break;
    }
    case pdu_type::c2h_data: {
      slot& s = *rx_slot_;
      rx_slot_ = nullptr;
      s.c2h_received += rx_datal_;
      if (!data_digest_ok) s.data_status = nvme_status::generic(sc_generic::transient_transport_error, false);
      if (rx_success_) finish(*s.req, {s.data_status, 0, 0});
      break;
    }
    case pdu_type::r2t: {
      slot& s = *rx_slot_;
      rx_slot_ = nullptr;
      // The previous R2T's last H2CData may still be queued (its header is reused): then
      // on_request_pdu_sent queues this one.
      if (!s.h2c_queued) queue_h2c(s);
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

void tcp_host_qpair::queue_h2c(slot& s) {
  host_request& req = *s.req;
  uint32_t chunk = std::min(s.h2c_pending, params_.maxh2cdata);
  bool last = chunk == s.h2c_pending;
  data_pdu d{};
  d.ch.type = static_cast<uint8_t>(pdu_type::h2c_data);
  d.ch.flags = last ? pdu_flags::last_pdu : 0;
  d.cccid = req.cmd.cid.get();
  d.ttag = s.ttag;
  d.datao = s.h2c_offset;
  d.datal = chunk;
  std::memcpy(s.h2c_hdr.data(), &d, sizeof(d));
  pdu_writer::build(s.h2c_tx, s.h2c_hdr.data(), sizeof(d), req.data + s.h2c_offset, chunk, params_.hdgst,
                    params_.ddgst, params_.cpda_bytes);
  s.h2c_offset += chunk;
  s.h2c_pending -= chunk;
  // The next chunk reuses this header: queue it once this one is on the socket.
  s.h2c_tx.done = &s;
  s.h2c_queued = true;
  writer_.enqueue(s.h2c_tx);
  schedule_flush();
}

void tcp_host_qpair::on_request_pdu_sent(slot& s, tx_pdu& p) {
  (&p == &s.cmd_tx ? s.cmd_queued : s.h2c_queued) = false;
  if (failed()) return;
  if (s.req->state == host_request_state::answered) {
    if (!s.cmd_queued && !s.h2c_queued) complete(*s.req, s.req->answer);
    return;
  }
  if (s.h2c_pending > 0 && !s.h2c_queued) queue_h2c(s);
}

void tcp_host_qpair::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  reactor_.defer(*this);
}

void tcp_host_qpair::run_deferred() {
  flush_scheduled_ = false;
  if (failed()) {
    complete_unfinished();  // commands submitted after the failure, completed from the loop
    return;
  }
  if (channel_) channel_->flush();
}

// --- failure ---------------------------------------------------------------------------

void tcp_host_qpair::close_transport() {
  reader_.stop();
  // The channel shuts the socket down now; until it is quiet, this stays alive.
  if (channel_) {
    channel_->close();
    if (!channel_->quiet()) self_ = shared_from_this();
  } else {
    ::close(fd_);
  }
  fd_ = -1;
  writer_ = pdu_writer{};
}

}  // namespace nvmfd
