#include "test_client.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fmt/format.h>
#include <thread>

#include "base/crc32c.h"
#include "proto/controller_properties.h"
#include "proto/fabrics.h"
#include "proto/features.h"
#include "proto/identify.h"
#include "proto/pdu_check.h"
#include "proto/wire.h"

namespace nvmfd {

namespace {

// A Dataset Management range (NVM Command Set 1.0 Figure 39). The target's copy is private
// to src/target/io_commands.cc; the host side keeps its own, checked the same way.
struct dsm_range_wire {
  le32 attributes;
  le32 nlb;
  le64 slba;
};
static_assert(sizeof(dsm_range_wire) == 16);
static_assert(offsetof(dsm_range_wire, nlb) == 4 && offsetof(dsm_range_wire, slba) == 8);

// Largest PDU data we accept from the target: above any max_io_size a test configures.
constexpr uint32_t max_rx_data = 8u << 20;

error protocol(std::string msg) { return error{errc::protocol_error, std::move(msg)}; }

std::string describe(const term_error& e) {
  return fmt::format("FES {:#x} FEI {}", static_cast<unsigned>(e.fes), e.fei);
}

void append(std::vector<std::byte>& out, std::span<const std::byte> in) { out.insert(out.end(), in.begin(), in.end()); }

void append_le32(std::vector<std::byte>& out, uint32_t v) {
  le32 w;
  w.set(v);
  append(out, std::as_bytes(std::span(w.raw)));
}

}  // namespace

test_client::test_client(client_options o) : opts_(std::move(o)) {}

// --- connection ------------------------------------------------------------------------

result<void> test_client::open(const std::string& addr, uint16_t port) {
  auto s = blocking_socket::connect(addr, port, opts_.timeout);
  if (!s) return s.take_err();
  sock_ = std::move(s.value());
  ic_done_ = hdgst_ = ddgst_ = false;
  pending_.clear();
  done_order_.clear();
  last_term_.reset();
  return success();
}

result<ic_resp_pdu> test_client::initialize() {
  ic_req_pdu req{};
  req.ch.type = static_cast<uint8_t>(pdu_type::ic_req);
  req.ch.hlen = sizeof(ic_req_pdu);
  req.ch.plen = sizeof(ic_req_pdu);
  req.pfv = pdu_format_version_1_0;
  req.hpda = opts_.hpda;
  req.dgst = static_cast<uint8_t>((opts_.hdgst ? dgst_bits::hdgst : 0) | (opts_.ddgst ? dgst_bits::ddgst : 0));
  req.maxr2t = 0;
  if (auto r = send_raw_struct(req); !r) return r.take_err();
  auto p = recv_pdu();
  if (!p) return p.take_err();
  if (p->type() == pdu_type::c2h_term_req) {
    auto t = p->as<term_req_pdu>();
    return protocol(fmt::format("ICReq answered with C2HTermReq FES {:#x} FEI {}", t.fes.get(), t.fei.get()));
  }
  auto resp = p->as<ic_resp_pdu>();
  if (auto e = check_ic_resp(resp, req.dgst)) return protocol("ICResp: " + describe(*e));
  ic_resp_ = resp;
  hdgst_ = resp.dgst & dgst_bits::hdgst;
  ddgst_ = resp.dgst & dgst_bits::ddgst;
  ic_done_ = true;
  return resp;
}

result<void> test_client::connect(const std::string& addr, uint16_t port) {
  if (auto r = open(addr, port); !r) return r;
  if (auto r = initialize(); !r) return r.take_err();
  return success();
}

// --- PDUs ------------------------------------------------------------------------------

result<void> test_client::send_raw(std::span<const std::byte> bytes) {
  if (batching_) {
    append(batch_, bytes);
    return success();
  }
  if (opts_.send_fragment == 0) return sock_.send_all(bytes, opts_.timeout);
  for (size_t at = 0; at < bytes.size(); at += opts_.send_fragment) {
    auto piece = bytes.subspan(at, std::min<size_t>(opts_.send_fragment, bytes.size() - at));
    if (auto r = sock_.send_all(piece, opts_.timeout); !r) return r;
  }
  return success();
}

result<void> test_client::flush_batch() {
  batching_ = false;
  std::vector<std::byte> out;
  out.swap(batch_);
  return send_raw(out);
}

result<void> test_client::send_pdu(std::span<const std::byte> header, std::span<const std::byte> data,
                                   pdu_tweaks tweaks) {
  auto ch = load_wire<pdu_common_header>(header.data());
  const bool has_data = !data.empty();
  ch.flags = static_cast<uint8_t>(ch.flags & ~(pdu_flags::hdgstf | pdu_flags::ddgstf));
  if (hdgst_) ch.flags |= pdu_flags::hdgstf;
  if (ddgst_ && has_data) ch.flags |= pdu_flags::ddgstf;
  ch.hlen = static_cast<uint8_t>(header.size());
  const uint8_t pdo = pdu_data_offset(ch.hlen, hdgst_, ic_resp_.cpda);
  ch.pdo = has_data ? pdo : 0;
  const uint32_t header_end = ch.hlen + (hdgst_ ? digest_len : 0);
  ch.plen = (has_data ? pdo : header_end) + static_cast<uint32_t>(data.size()) +
            (ddgst_ && has_data ? digest_len : 0);

  std::vector<std::byte> out(header.begin(), header.end());
  std::memcpy(out.data(), &ch, sizeof(ch));
  if (hdgst_) append_le32(out, nvmfd::header_digest(out) ^ (tweaks.bad_header_digest ? 1u : 0u));
  if (has_data) {
    out.resize(pdo, std::byte{0});
    append(out, data);
    if (ddgst_) append_le32(out, crc32c(data.data(), data.size()) ^ (tweaks.bad_data_digest ? 1u : 0u));
  }
  return send_raw(out);
}

result<rx_pdu> test_client::recv_pdu() {
  rx_pdu p;
  p.header.resize(sizeof(pdu_common_header));
  if (auto r = sock_.recv_exact(p.header, opts_.timeout); !r) return r.take_err();
  const auto ch = p.ch();
  const pdu_check_params params{pdu_role::host, ic_done_, hdgst_, ddgst_, opts_.hpda, max_rx_data};
  if (auto e = check_common_header(ch, params))
    return protocol(fmt::format("target sent a bad PDU header (type {:#x}): {}", ch.type, describe(*e)));

  const bool has_hd = pdu_has_header_digest(ch, hdgst_);
  std::vector<std::byte> rest(ch.hlen + (has_hd ? digest_len : 0) - sizeof(pdu_common_header));
  if (auto r = sock_.recv_exact(rest, opts_.timeout); !r) return r.take_err();
  append(p.header, rest);
  if (has_hd) {
    if (auto e = check_header_digest(p.header, ch.hlen)) return protocol("target's header digest is wrong");
    p.header.resize(ch.hlen);
  }

  const uint32_t data_len = pdu_data_length(ch, hdgst_, ddgst_);
  if (uint32_t pad = data_len ? pdu_padding(ch, hdgst_) : 0) {
    std::vector<std::byte> skip(pad);
    if (auto r = sock_.recv_exact(skip, opts_.timeout); !r) return r.take_err();
  }
  p.data.resize(data_len);
  if (auto r = sock_.recv_exact(p.data, opts_.timeout); !r) return r.take_err();
  if (pdu_has_data_digest(ch, hdgst_, ddgst_)) {
    le32 got;
    if (auto r = sock_.recv_exact(std::as_writable_bytes(std::span(got.raw)), opts_.timeout); !r) return r.take_err();
    p.data_digest_ok = got.get() == crc32c(p.data.data(), p.data.size());
  }
  return p;
}

result<term_req_pdu> test_client::expect_term_req_and_close() {
  auto p = recv_pdu();
  if (!p) return p.take_err();
  if (p->type() != pdu_type::c2h_term_req)
    return protocol(fmt::format("expected C2HTermReq, got PDU type {:#x}", static_cast<unsigned>(p->type())));
  auto t = p->as<term_req_pdu>();
  if (auto r = wait_closed(); !r) return r.take_err();
  return t;
}

result<void> test_client::wait_closed() { return sock_.wait_closed(opts_.timeout); }

// --- commands --------------------------------------------------------------------------

uint16_t test_client::alloc_cid() {
  while (pending_.count(next_cid_)) ++next_cid_;
  return next_cid_++;
}

result<uint16_t> test_client::submit(nvme_sqe sqe, std::span<const std::byte> in_capsule,
                                     std::vector<std::byte> h2c_data, uint32_t c2h_len, pdu_tweaks tweaks,
                                     bool keep_cid) {
  const uint16_t cid = keep_cid ? sqe.cid.get() : alloc_cid();
  sqe.cid = cid;
  const bool writes = (sqe.opcode & 0x3) == static_cast<uint8_t>(1);
  pending_command pc;
  pc.manual_r2t = writes && sqe.sgl.sgl_identifier == sgl_id::transport_data_block && h2c_data.empty() &&
                  sqe.sgl.length.get() > 0;
  pc.h2c = std::move(h2c_data);
  pc.c2h.resize(c2h_len);
  pending_[cid] = std::move(pc);
  capsule_cmd_pdu cmd{};
  cmd.ch.type = static_cast<uint8_t>(pdu_type::capsule_cmd);
  cmd.sqe = sqe;
  if (auto r = send_pdu_struct(cmd, in_capsule, tweaks); !r) return r.take_err();
  return cid;
}

result<void> test_client::pump_one() {
  // Waiting for the target with our own PDUs still queued would only time out.
  if (batching_)
    if (auto r = flush_batch(); !r) return r;
  auto p = recv_pdu();
  if (!p) return p.take_err();
  switch (p->type()) {
    case pdu_type::capsule_resp: return on_capsule_resp(*p);
    case pdu_type::c2h_data: return on_c2h_data(*p);
    case pdu_type::r2t: return on_r2t(*p);
    case pdu_type::c2h_term_req: {
      auto t = p->as<term_req_pdu>();
      last_term_ = t;
      return protocol(fmt::format("target sent C2HTermReq FES {:#x} FEI {}", t.fes.get(), t.fei.get()));
    }
    default:
      return protocol(fmt::format("unexpected PDU type {:#x}", static_cast<unsigned>(p->type())));
  }
}

result<void> test_client::on_capsule_resp(const rx_pdu& p) {
  auto r = p.as<capsule_resp_pdu>();
  const uint16_t cid = r.cqe.cid.get();
  auto it = pending_.find(cid);
  if (it == pending_.end() || it->second.done)
    return protocol(fmt::format("CapsuleResp for CID {} which is not outstanding", cid));
  it->second.cpl.cqe = r.cqe;
  it->second.done = true;
  done_order_.push_back(cid);
  return success();
}

result<void> test_client::on_c2h_data(const rx_pdu& p) {
  auto d = p.as<data_pdu>();
  const uint16_t cid = d.cccid.get();
  auto it = pending_.find(cid);
  if (it == pending_.end() || it->second.done)
    return protocol(fmt::format("C2HData for CID {} which is not outstanding", cid));
  auto& pc = it->second;
  if (!p.data_digest_ok) return protocol(fmt::format("C2HData for CID {}: data digest mismatch", cid));
  const uint64_t datao = d.datao.get(), datal = d.datal.get();
  if (datal != p.data.size())
    return protocol(fmt::format("C2HData DATAL {} but the PDU carries {} bytes", datal, p.data.size()));
  if (datao + datal > pc.c2h.size())
    return protocol(fmt::format("C2HData [{}, {}) past the {} bytes of CID {}", datao, datao + datal, pc.c2h.size(), cid));
  std::memcpy(pc.c2h.data() + datao, p.data.data(), datal);
  pc.c2h_received += static_cast<uint32_t>(datal);
  const uint8_t flags = d.ch.flags;
  if ((flags & pdu_flags::last_pdu) && datao + datal != pc.c2h.size())
    return protocol(fmt::format("C2HData LAST_PDU at {} of {} bytes", datao + datal, pc.c2h.size()));
  if (flags & pdu_flags::success) {
    if (pc.c2h_received != pc.c2h.size())
      return protocol(fmt::format("C2HData SUCCESS after {} of {} bytes", pc.c2h_received, pc.c2h.size()));
    pc.cpl = {};
    pc.cpl.cqe.cid = cid;
    pc.cpl.by_success_flag = true;
    pc.done = true;
    done_order_.push_back(cid);
  }
  return success();
}

result<void> test_client::on_r2t(const rx_pdu& p) {
  auto r = p.as<r2t_pdu>();
  const uint16_t cid = r.cccid.get();
  auto it = pending_.find(cid);
  if (it == pending_.end() || it->second.done)
    return protocol(fmt::format("R2T for CID {} which is not outstanding", cid));
  auto& pc = it->second;
  if (pc.manual_r2t) {
    pc.r2ts.push_back(r);
    return success();
  }
  const uint64_t r2to = r.r2to.get(), r2tl = r.r2tl.get();
  if (r2tl == 0 || r2to + r2tl > pc.h2c.size())
    return protocol(fmt::format("R2T [{}, {}) outside the {} bytes of CID {}", r2to, r2to + r2tl, pc.h2c.size(), cid));
  uint32_t chunk = opts_.h2c_chunk ? std::min(opts_.h2c_chunk, maxh2cdata()) : maxh2cdata();
  for (uint64_t off = 0; off < r2tl; off += chunk) {
    const uint64_t n = std::min<uint64_t>(chunk, r2tl - off);
    const bool last = off + n == r2tl;
    std::span<const std::byte> piece(pc.h2c.data() + r2to + off, n);
    if (auto s = send_h2c_data(cid, r.ttag.get(), static_cast<uint32_t>(r2to + off), piece, last); !s) return s;
  }
  return success();
}

result<void> test_client::send_h2c_data(uint16_t cccid, uint16_t ttag, uint32_t datao,
                                        std::span<const std::byte> data, bool last, pdu_tweaks tweaks) {
  data_pdu h{};
  h.ch.type = static_cast<uint8_t>(pdu_type::h2c_data);
  h.ch.flags = last ? pdu_flags::last_pdu : 0;
  h.cccid = cccid;
  h.ttag = ttag;
  h.datao = datao;
  h.datal = static_cast<uint32_t>(data.size());
  return send_pdu_struct(h, data, tweaks);
}

result<r2t_pdu> test_client::wait_r2t(uint16_t cid) {
  for (;;) {
    auto it = pending_.find(cid);
    if (it == pending_.end()) return error{errc::not_found, fmt::format("CID {} is not outstanding", cid)};
    if (!it->second.r2ts.empty()) {
      auto r = it->second.r2ts.front();
      it->second.r2ts.pop_front();
      return r;
    }
    if (it->second.done)
      return protocol(fmt::format("CID {} completed (status {:#x}) instead of sending R2T", cid,
                                  it->second.cpl.cqe.status.get()));
    if (auto r = pump_one(); !r) return r.take_err();
  }
}

command_result test_client::take(uint16_t cid) {
  auto it = pending_.find(cid);
  command_result out{it->second.cpl, std::move(it->second.c2h)};
  pending_.erase(it);
  std::erase(done_order_, cid);
  return out;
}

result<command_result> test_client::wait(uint16_t cid) {
  for (;;) {
    auto it = pending_.find(cid);
    if (it == pending_.end()) return error{errc::not_found, fmt::format("CID {} is not outstanding", cid)};
    if (it->second.done) return take(cid);
    if (auto r = pump_one(); !r) return r.take_err();
  }
}

result<std::pair<uint16_t, command_result>> test_client::wait_any() {
  if (pending_.empty()) return error{errc::not_found, "no command is outstanding"};
  while (done_order_.empty())
    if (auto r = pump_one(); !r) return r.take_err();
  const uint16_t cid = done_order_.front();
  return std::make_pair(cid, take(cid));
}

result<command_result> test_client::execute(const nvme_sqe& sqe, std::span<const std::byte> in_capsule,
                                            std::vector<std::byte> h2c_data, uint32_t c2h_len) {
  auto cid = submit(sqe, in_capsule, std::move(h2c_data), c2h_len);
  if (!cid) return cid.take_err();
  return wait(*cid);
}

// --- SQE builders ----------------------------------------------------------------------

nvme_sqe test_client::make_sqe(uint8_t opcode, uint32_t nsid) {
  nvme_sqe s{};
  s.opcode = opcode;
  s.flags = 0x1 << 6;  // PSDT 01b: SGL (NVMe-oF 1.1 2.2: fabrics use SGLs only)
  s.nsid = nsid;
  // No data: a null Transport Data Block descriptor, as the Linux host sends.
  set_sgl_transport(s, 0);
  return s;
}

nvme_sqe test_client::make_fabrics_sqe(fabrics_type t) {
  nvme_sqe s = make_sqe(static_cast<uint8_t>(admin_opcode::fabrics));
  s.nsid.raw[0] = static_cast<uint8_t>(t);
  return s;
}

void test_client::set_sgl_in_capsule(nvme_sqe& sqe, uint32_t len) {
  sqe.sgl = {};
  sqe.sgl.sgl_identifier = sgl_id::data_block_offset;
  sqe.sgl.address = 0;
  sqe.sgl.length = len;
}

void test_client::set_sgl_transport(nvme_sqe& sqe, uint32_t len) {
  sqe.sgl = {};
  sqe.sgl.sgl_identifier = sgl_id::transport_data_block;
  sqe.sgl.length = len;
}

nvme_sqe test_client::make_rw_sqe(io_opcode op, uint32_t nsid, uint64_t slba, uint32_t nlb) {
  nvme_sqe s = make_sqe(static_cast<uint8_t>(op), nsid);
  s.cdw10 = static_cast<uint32_t>(slba);
  s.cdw11 = static_cast<uint32_t>(slba >> 32);
  s.cdw12 = (nlb - 1) & 0xffff;
  return s;
}

// --- fabrics ---------------------------------------------------------------------------

result<command_result> test_client::fabrics_connect(std::string_view subnqn, uint16_t qid, uint16_t sqsize,
                                                    uint16_t cntlid, uint32_t kato_ms) {
  connect_command c{};
  c.opcode = static_cast<uint8_t>(admin_opcode::fabrics);
  c.fctype = static_cast<uint8_t>(fabrics_type::connect);
  c.qid = qid;
  c.sqsize = sqsize;
  c.kato = kato_ms;
  nvme_sqe sqe = load_wire<nvme_sqe>(&c);
  sqe.flags = make_sqe(0).flags;
  set_sgl_in_capsule(sqe, sizeof(connect_data));

  connect_data d{};
  std::memcpy(d.hostid, opts_.hostid.bytes.data(), sizeof(d.hostid));
  d.cntlid = cntlid;
  set_padded(d.subnqn, subnqn, '\0');
  set_padded(d.hostnqn, opts_.hostnqn, '\0');
  return execute(sqe, wire_bytes(d));
}

result<command_result> test_client::property_get(uint32_t ofst) {
  property_command p{};
  p.opcode = static_cast<uint8_t>(admin_opcode::fabrics);
  p.fctype = static_cast<uint8_t>(fabrics_type::property_get);
  p.attrib = property_width(ofst) == 8 ? 1 : 0;
  p.ofst = ofst;
  nvme_sqe sqe = load_wire<nvme_sqe>(&p);
  sqe.flags = make_sqe(0).flags;
  return execute(sqe);
}

result<uint64_t> test_client::property_value(uint32_t ofst) {
  auto r = property_get(ofst);
  if (!r) return r.take_err();
  if (!r->status().ok()) return protocol(fmt::format("Property Get {:#x} failed: {:#x}", ofst, r->cpl.cqe.status.get()));
  return uint64_t{r->cpl.dw0()} | (uint64_t{r->cpl.dw1()} << 32);
}

result<command_result> test_client::property_set(uint32_t ofst, uint32_t value) {
  property_command p{};
  p.opcode = static_cast<uint8_t>(admin_opcode::fabrics);
  p.fctype = static_cast<uint8_t>(fabrics_type::property_set);
  p.attrib = 0;
  p.ofst = ofst;
  p.value = value;
  nvme_sqe sqe = load_wire<nvme_sqe>(&p);
  sqe.flags = make_sqe(0).flags;
  return execute(sqe);
}

result<void> test_client::enable() {
  auto cc = cc_register::make(true, cc_css_nvm, 0, 0, shutdown_notification::none, 6, 4);
  auto r = property_set(property_offset::cc, cc.raw);
  if (!r) return r.take_err();
  if (!r->status().ok()) return protocol(fmt::format("Property Set CC failed: {:#x}", r->cpl.cqe.status.get()));
  auto deadline = std::chrono::steady_clock::now() + opts_.timeout;
  for (;;) {
    auto csts = property_value(property_offset::csts);
    if (!csts) return csts.take_err();
    if (*csts & csts_bits::rdy) return success();
    if (std::chrono::steady_clock::now() > deadline) return error{errc::timed_out, "CSTS.RDY stayed 0"};
    // A host polls CSTS (NVMe Base 2.0 3.5.1); our target sets RDY with CC.EN, so this
    // pause is a poll period that the first read makes unnecessary, not a synchronisation.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

result<command_result> test_client::disconnect() {
  return execute(make_fabrics_sqe(fabrics_type::disconnect));
}

// --- admin -----------------------------------------------------------------------------

result<command_result> test_client::identify(uint8_t cns, uint32_t nsid, uint16_t cntid, uint8_t csi) {
  nvme_sqe s = make_sqe(static_cast<uint8_t>(admin_opcode::identify), nsid);
  s.cdw10 = uint32_t{cns} | (uint32_t{cntid} << 16);
  s.cdw11 = uint32_t{csi} << 24;
  set_sgl_transport(s, identify_data_size);
  return execute(s, {}, {}, identify_data_size);
}

result<command_result> test_client::get_log_page(uint8_t lid, uint64_t offset, uint32_t len, uint32_t nsid,
                                                 bool rae) {
  nvme_sqe s = make_sqe(static_cast<uint8_t>(admin_opcode::get_log_page), nsid);
  const uint32_t numd = len / 4 - 1;  // zero-based dwords
  s.cdw10 = uint32_t{lid} | (rae ? 1u << 15 : 0u) | ((numd & 0xffff) << 16);
  s.cdw11 = numd >> 16;
  s.cdw12 = static_cast<uint32_t>(offset);
  s.cdw13 = static_cast<uint32_t>(offset >> 32);
  set_sgl_transport(s, len);
  return execute(s, {}, {}, len);
}

result<command_result> test_client::set_features(uint8_t fid, uint32_t cdw11, uint32_t nsid) {
  nvme_sqe s = make_sqe(static_cast<uint8_t>(admin_opcode::set_features), nsid);
  s.cdw10 = fid;
  s.cdw11 = cdw11;
  return execute(s);
}

result<command_result> test_client::get_features(uint8_t fid, uint8_t sel, uint32_t nsid) {
  nvme_sqe s = make_sqe(static_cast<uint8_t>(admin_opcode::get_features), nsid);
  s.cdw10 = uint32_t{fid} | (uint32_t{sel} << 8);
  return execute(s);
}

result<command_result> test_client::set_number_of_queues(uint16_t n) {
  const uint16_t z = static_cast<uint16_t>(n - 1);
  return set_features(static_cast<uint8_t>(feature_id::number_of_queues), queue_counts{z, z}.encode());
}

result<command_result> test_client::keep_alive() {
  return execute(make_sqe(static_cast<uint8_t>(admin_opcode::keep_alive)));
}

result<uint16_t> test_client::submit_async_event_request() {
  return submit(make_sqe(static_cast<uint8_t>(admin_opcode::async_event_request)));
}

// --- I/O -------------------------------------------------------------------------------

result<uint16_t> test_client::submit_read(uint32_t nsid, uint64_t slba, uint32_t nlb, uint32_t block_size) {
  nvme_sqe s = make_rw_sqe(io_opcode::read, nsid, slba, nlb);
  const uint32_t len = nlb * block_size;
  set_sgl_transport(s, len);
  return submit(s, {}, {}, len);
}

result<command_result> test_client::read(uint32_t nsid, uint64_t slba, uint32_t nlb, uint32_t block_size) {
  auto cid = submit_read(nsid, slba, nlb, block_size);
  if (!cid) return cid.take_err();
  return wait(*cid);
}

result<uint16_t> test_client::submit_write(uint32_t nsid, uint64_t slba, std::span<const std::byte> data,
                                           uint32_t block_size, write_mode mode) {
  const auto nlb = static_cast<uint32_t>(data.size() / block_size);
  nvme_sqe s = make_rw_sqe(io_opcode::write, nsid, slba, nlb);
  const auto len = static_cast<uint32_t>(data.size());
  if (mode == write_mode::in_capsule) {
    set_sgl_in_capsule(s, len);
    return submit(s, data);
  }
  set_sgl_transport(s, len);
  return submit(s, {}, std::vector<std::byte>(data.begin(), data.end()));
}

result<command_result> test_client::write(uint32_t nsid, uint64_t slba, std::span<const std::byte> data,
                                          uint32_t block_size, write_mode mode) {
  auto cid = submit_write(nsid, slba, data, block_size, mode);
  if (!cid) return cid.take_err();
  return wait(*cid);
}

result<command_result> test_client::flush(uint32_t nsid) {
  return execute(make_sqe(static_cast<uint8_t>(io_opcode::flush), nsid));
}

result<command_result> test_client::write_zeroes(uint32_t nsid, uint64_t slba, uint32_t nlb) {
  return execute(make_rw_sqe(io_opcode::write_zeroes, nsid, slba, nlb));
}

result<command_result> test_client::dsm_deallocate(uint32_t nsid, std::span<const lba_range> ranges) {
  std::vector<std::byte> buf;
  for (const auto& r : ranges) {
    dsm_range_wire w{};
    w.nlb = r.nlb;
    w.slba = r.slba;
    append(buf, wire_bytes(w));
  }
  nvme_sqe s = make_sqe(static_cast<uint8_t>(io_opcode::dataset_management), nsid);
  s.cdw10 = static_cast<uint32_t>(ranges.size() - 1);
  s.cdw11 = 1u << 2;  // AD: deallocate
  set_sgl_in_capsule(s, static_cast<uint32_t>(buf.size()));
  return execute(s, buf);
}

}  // namespace nvmfd
