// Fabrics commands (NVMe-oF 1.1 section 3): Connect, Property Get/Set, Disconnect.
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <string_view>

#include "base/log.h"
#include "proto/controller_properties.h"
#include "proto/discovery_log.h"
#include "proto/fabrics.h"
#include "proto/nqn.h"
#include "target/command_handlers.h"
#include "target/controller.h"
#include "target/keep_alive_policy.h"
#include "target/nvmf_target.h"
#include "target/target_queue.h"

namespace nvmfd {

namespace {

// A Connect field a refusal names: in the SQE or in the connect data, by byte offset.
struct connect_field {
  const char* name;
  bool in_data;
  uint16_t offset;
};
constexpr connect_field field_recfmt{"recfmt", false, connect_sqe_offset::recfmt};
constexpr connect_field field_qid{"qid", false, connect_sqe_offset::qid};
constexpr connect_field field_sqsize{"sqsize", false, connect_sqe_offset::sqsize};
constexpr connect_field field_cntlid{"cntlid", true, connect_data_offset::cntlid};
constexpr connect_field field_subnqn{"subnqn", true, connect_data_offset::subnqn};
constexpr connect_field field_hostnqn{"hostnqn", true, connect_data_offset::hostnqn};

// Text from the wire, fit for a log line: bytes outside printable ASCII as \xNN.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  return out;
}

std::string quoted(std::string_view nqn) { return "'" + printable(nqn) + "'"; }

// One Connect being executed: what it asked for, and how it is refused. Every refusal is
// logged (warn) with the host's address, the subsystem, the reason and the field.
struct connect_context {
  target_queue& q;
  target_request& req;
  connect_command_fields f;
  std::string subnqn;
  std::string hostnqn;

  // Logs the refusal and returns st; field: the field to name in the log, if any.
  nvme_status refuse(nvme_status st, std::string_view why, const connect_field* field = nullptr) const {
    std::string where;
    if (field)
      where = fmt::format(" (field {}, offset {} of {})", field->name, field->offset,
                          field->in_data ? "Connect data" : "the Connect command");
    NVMFD_LOG_WARN("Connect refused from {} to {} (qid {}): {}{}", q.peer(), quoted(subnqn), f.qid,
                   printable(why), where);
    return st;
  }
  // NVMe-oF 1.1 3.3: Connect Invalid Parameters names the field (IATTR, IPO) in dw0.
  nvme_status invalid_param(const connect_field& field, std::string_view why) const {
    req.cqe.dw0 = connect_response_invalid_param(field.in_data, field.offset);
    return refuse(nvme_status::specific(sc_command_specific::connect_invalid_parameters), why, &field);
  }
  // Connect Invalid Host. Its dw0 names HOSTNQN as well, as Linux nvmet does (the spec
  // defines IATTR/IPO for Invalid Parameters only; hosts ignore it here).
  nvme_status invalid_host(std::string_view why) const {
    req.cqe.dw0 = connect_response_invalid_param(field_hostnqn.in_data, field_hostnqn.offset);
    return refuse(nvme_status::specific(sc_command_specific::connect_invalid_host), why, &field_hostnqn);
  }
};

nvme_status connect_admin(connect_context& cx, const connect_data& d, std::shared_ptr<subsystem> sub) {
  target_queue& q = cx.q;
  const auto& f = cx.f;
  const auto& limits = q.limits();
  if (f.sqsize < 31 || f.sqsize > limits.max_aq_depth - 1)  // admin queue: 32 entries at least
    return cx.invalid_param(field_sqsize, fmt::format("admin queue size {} is outside 32..{}", f.sqsize + 1,
                                                      limits.max_aq_depth));
  if (d.cntlid.get() != cntlid_dynamic)
    return cx.invalid_param(field_cntlid, fmt::format("cntlid {:#x} is not FFFFh (dynamic controllers only)",
                                                      d.cntlid.get()));
  uuid hostid;
  std::memcpy(hostid.bytes.data(), d.hostid, 16);
  std::shared_ptr<controller> c;
  {
    std::lock_guard lk(q.target().mu());
    // The subsystem or the listener may have gone since do_connect looked. Resolving the
    // listener and registering the controller under one lock lets remove_listener and
    // delete_subsystem find every controller that came through what they remove.
    auto* l = sub->listener_for(q.local());
    if (!l || q.target().find_subsystem_locked(sub->nqn()) != sub)
      return cx.invalid_param(field_subnqn, "the subsystem or its listener was removed during Connect");
    std::optional<cntlid_t> cntlid = sub->allocate_cntlid();
    if (!cntlid)
      return cx.refuse(nvme_status::specific(sc_command_specific::controller_busy),
                       "no free controller ID in the subsystem's cntlid range");
    uint32_t kato = granted_kato(sub->type() == subsystem_kind::discovery, f.kato_ms, limits.min_kato);
    c = std::make_shared<controller>(q.target(), sub, *cntlid, cx.hostnqn, hostid, kato, q.owner(),
                                     limits.max_io_qpairs_per_ctrlr);
    c->set_listener(l->traddr, l->trsvcid);
    if (q.tls()) c->secure_channel = q.tls()->state;
    sub->controllers()[*cntlid] = c;
  }
  q.bind(c, admin_qid, static_cast<uint16_t>(f.sqsize + 1), f.sq_flow_control_disabled());
  c->attach_admin_queue(&q);
  cx.req.cqe.dw0 = connect_response_success(c->cntlid());
  NVMFD_LOG_INFO("controller {} of {} created for host {} at {}", c->cntlid(), sub->nqn(), quoted(cx.hostnqn),
                 q.peer());
  return nvme_status::success();
}

nvme_status connect_io(connect_context& cx, const connect_data& d, const std::shared_ptr<subsystem>& sub) {
  target_queue& q = cx.q;
  const auto& f = cx.f;
  if (sub->type() == subsystem_kind::discovery)
    return cx.invalid_param(field_qid, "a discovery controller has no I/O queues");
  if (f.sqsize == 0 || f.sqsize > q.limits().max_queue_depth - 1)
    return cx.invalid_param(field_sqsize, fmt::format("I/O queue size {} is outside 2..{}", f.sqsize + 1,
                                                      q.limits().max_queue_depth));
  std::shared_ptr<controller> c;
  {
    std::lock_guard lk(q.target().mu());
    auto it = sub->controllers().find(cntlid_t{d.cntlid.get()});
    if (it != sub->controllers().end()) c = it->second.lock();
  }
  if (!c) return cx.invalid_param(field_cntlid, fmt::format("no controller {} in the subsystem", d.cntlid.get()));
  // The I/O queue's host must be the admin queue's (an empty Host NQN matches only empty).
  if (c->hostnqn() != cx.hostnqn)
    return cx.invalid_param(field_hostnqn, fmt::format("host nqn {} is not controller {}'s host {}",
                                                       quoted(cx.hostnqn), c->cntlid(), quoted(c->hostnqn())));
  // SPDK and nvmet answer an I/O queue Connect before CC.EN = 1 with Command Sequence Error.
  if (!c->enabled)
    return cx.refuse(nvme_status::generic(sc_generic::command_sequence_error),
                     fmt::format("controller {} is not enabled (CC.EN = 0)", c->cntlid()));
  // Without Set Features (Number of Queues) the host may use up to the controller's maximum.
  uint16_t allowed = c->io_queues_set ? c->io_queues_granted.load() : c->max_io_queues();
  if (f.qid.value > allowed)
    return cx.invalid_param(field_qid, fmt::format("qid {} is beyond the {} I/O queue(s) granted", f.qid, allowed));
  if (!c->register_io_queue(f.qid, q.owner().index(), q.weak_from_this()))
    return cx.invalid_param(field_qid, fmt::format("qid {} of controller {} is in use (or the controller is ending)",
                                                   f.qid, c->cntlid()));
  q.bind(c, f.qid, static_cast<uint16_t>(f.sqsize + 1), f.sq_flow_control_disabled());
  cx.req.cqe.dw0 = connect_response_success(c->cntlid());
  return nvme_status::success();
}

// NVMe-oF 1.1 3.3. The Host NQN may be empty where the subsystem lets any host in (the
// discovery subsystem always does): SPDK's and Linux nvmet's targets accept that, and
// SPDK's hosts send it unless told a host NQN. A non-empty one must be a valid NQN.
nvme_status do_connect(target_queue& q, target_request& req) {
  connect_context cx{q, req, decode_connect(req.cmd), {}, {}};
  // The data is at buf by now, whether it came in the capsule (TCP) or was read from the
  // host's buffer (RDMA's keyed SGL).
  auto d = decode_connect_data(req.data());
  if (d) {
    cx.subnqn = nqn_from_field(d->subnqn);
    cx.hostnqn = nqn_from_field(d->hostnqn);
  }
  if (q.connected())
    return cx.refuse(nvme_status::generic(sc_generic::command_sequence_error), "the queue is already connected");
  if (cx.f.recfmt != 0)
    return cx.refuse(nvme_status::specific(sc_command_specific::incompatible_format),
                     fmt::format("record format {} is not 0", cx.f.recfmt), &field_recfmt);
  if (!d || req.xfer_len != sizeof(connect_data))
    return cx.refuse(nvme_status::generic(sc_generic::data_sgl_length_invalid),
                     fmt::format("Connect data is {} bytes, not {}", req.xfer_len, sizeof(connect_data)));
  if (!cx.hostnqn.empty())
    if (auto v = validate_nqn(cx.hostnqn); !v) return cx.invalid_param(field_hostnqn, v.err().message);
  std::shared_ptr<subsystem> sub;
  bool host_ok = false, listener_ok = false;
  {
    std::lock_guard lk(q.target().mu());
    sub = q.target().find_subsystem_locked(cx.subnqn);
    if (sub) {
      host_ok = sub->host_allowed(cx.hostnqn);
      listener_ok = sub->accepts_connection_on(q.local());
    }
  }
  if (!sub) return cx.invalid_param(field_subnqn, "no such subsystem");
  if (!listener_ok)
    return cx.invalid_param(field_subnqn, fmt::format("the subsystem does not listen on {}:{}", q.local().traddr,
                                                      q.local().trsvcid));
  if (q.tls() && (q.tls()->hostnqn != cx.hostnqn || q.tls()->subnqn != cx.subnqn))
    return cx.invalid_host(fmt::format("host nqn {} / subsystem {} is not what the TLS PSK identity names ({} / {})",
                                       quoted(cx.hostnqn), quoted(cx.subnqn), quoted(q.tls()->hostnqn),
                                       quoted(q.tls()->subnqn)));
  if (auto& o = q.opened_for(); o && (o->qid != cx.f.qid || o->sqsize != cx.f.sqsize))
    return cx.invalid_param(o->qid != cx.f.qid ? field_qid : field_sqsize,
                            fmt::format("the connection was opened for qid {} with {} entries, not qid {} with {}",
                                        o->qid.value, o->sqsize + 1, cx.f.qid.value, cx.f.sqsize + 1));
  if (!host_ok)
    return cx.invalid_host(cx.hostnqn.empty()
                               ? "host nqn '' not allowed, as only a subsystem allowing any host takes an empty one"
                               : fmt::format("host nqn {} not allowed, as it is not on the subsystem's allow list",
                                             quoted(cx.hostnqn)));
  // A host with a DH-HMAC-CHAP key must authenticate on every queue (Base 2.1 8.3.4.3).
  auto auth_cfg = q.target().dhchap_config_for(*sub, cx.hostnqn);
  if (!auth_cfg) return cx.invalid_host(auth_cfg.err().message);
  nvme_status st = cx.f.qid == admin_qid ? connect_admin(cx, *d, sub) : connect_io(cx, *d, sub);
  if (st.ok() && *auth_cfg) {
    q.require_authentication(std::move(**auth_cfg));
    req.cqe.dw0 = connect_response_success(q.ctrl()->cntlid(), authreq_bits::atr);
  }
  return st;
}

uint64_t cap_value(const target_queue& q) {
  cap_fields cap;
  cap.mqes = static_cast<uint16_t>(q.limits().max_queue_depth - 1);
  cap.cqr = true;
  cap.to = 30;  // 15 s ready timeout
  cap.css = cap_css::nvm;
  cap.mpsmin = 0;  // 4 KiB
  cap.mpsmax = 0;
  return cap.encode();
}

nvme_status property_get(target_queue& q, target_request& req) {
  if (!q.is_admin()) return nvme_status::generic(sc_generic::invalid_field);
  auto p = decode_property(req.cmd);
  uint8_t width = property_width(p.offset);
  if (p.size_bytes() == 0 || width == 0 || width != p.size_bytes())
    return nvme_status::generic(sc_generic::invalid_field);
  controller& c = *q.ctrl();
  uint64_t v = 0;
  switch (p.offset) {
    case property_offset::cap: v = cap_value(q); break;
    case property_offset::vs: v = nvme_version_1_4; break;
    case property_offset::cc: v = c.cc; break;
    case property_offset::csts: v = c.csts; break;
    default: return nvme_status::generic(sc_generic::invalid_field);
  }
  req.cqe.dw0 = static_cast<uint32_t>(v);
  req.cqe.dw1 = static_cast<uint32_t>(v >> 32);
  return nvme_status::success();
}

nvme_status property_set(target_queue& q, target_request& req) {
  if (!q.is_admin()) return nvme_status::generic(sc_generic::invalid_field);
  auto p = decode_property(req.cmd);
  if (p.offset != property_offset::cc || p.size_bytes() != 4) return nvme_status::generic(sc_generic::invalid_field);
  q.ctrl()->write_cc(static_cast<uint32_t>(p.value));
  return nvme_status::success();
}

}  // namespace

std::optional<nvme_status> execute_fabrics(target_queue& q, target_request& req) {
  switch (static_cast<fabrics_type>(req.cmd.fctype())) {
    case fabrics_type::connect: return do_connect(q, req);
    case fabrics_type::property_get: return property_get(q, req);
    case fabrics_type::property_set: return property_set(q, req);
    case fabrics_type::authentication_send: return execute_auth_send(q, req);
    case fabrics_type::authentication_receive: return execute_auth_receive(q, req);
    case fabrics_type::disconnect:
      q.disconnect_after_response();
      return nvme_status::success();
    default: return nvme_status::generic(sc_generic::invalid_opcode);
  }
}

}  // namespace nvmfd
