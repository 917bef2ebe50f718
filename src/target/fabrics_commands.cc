// Fabrics commands (NVMe-oF 1.1 section 3): Connect, Property Get/Set, Disconnect.
#include <cstring>

#include "base/log.h"
#include "proto/controller_properties.h"
#include "proto/discovery_log.h"
#include "proto/fabrics.h"
#include "proto/nqn.h"
#include "target/command_handlers.h"
#include "target/controller.h"
#include "target/nvmf_target.h"
#include "target/tcp_qpair.h"

namespace nvmfd {

namespace {

// NVMe-oF 1.1 3.3: Connect Invalid Parameters names the field (IATTR, IPO) in dw0.
nvme_status invalid_param(target_request& req, bool in_data, uint16_t offset) {
  req.cqe.dw0 = connect_response_invalid_param(in_data, offset);
  return nvme_status::specific(sc_command_specific::connect_invalid_parameters);
}

nvme_status connect_admin(tcp_qpair& qp, target_request& req, const connect_command_fields& f,
                          const connect_data& d, std::shared_ptr<subsystem> sub, const std::string& hostnqn) {
  const auto& opts = qp.options();
  if (f.sqsize < 31 || f.sqsize > opts.max_aq_depth - 1)  // admin queue: 32 entries at least
    return invalid_param(req, false, connect_sqe_offset::sqsize);
  if (d.cntlid.get() != cntlid_dynamic) return invalid_param(req, true, connect_data_offset::cntlid);
  uuid hostid;
  std::memcpy(hostid.bytes.data(), d.hostid, 16);
  std::shared_ptr<controller> c;
  {
    std::lock_guard lk(qp.target().mu());
    // The subsystem or the listener may have gone since do_connect looked. Resolving the
    // listener and registering the controller under one lock lets remove_listener and
    // delete_subsystem find every controller that came through what they remove.
    auto* l = sub->listener_for(qp.local().addr, std::to_string(qp.local().port));
    if (!l || qp.target().find_subsystem_locked(sub->nqn()) != sub)
      return invalid_param(req, true, connect_data_offset::subnqn);
    uint16_t cntlid = sub->allocate_cntlid();
    if (cntlid == 0) return nvme_status::specific(sc_command_specific::controller_busy);
    uint32_t kato = f.kato_ms;
    // Discovery controllers may run without keep-alive (kato 0); I/O controllers get
    // at least min_kato, as SPDK does, so that a vanished host is noticed.
    if (sub->type() == subsystem_kind::nvme && kato != 0 && kato < opts.min_kato) kato = opts.min_kato;
    c = std::make_shared<controller>(qp.target(), sub, cntlid, hostnqn, hostid, kato, qp.owner(),
                                     opts.max_io_qpairs_per_ctrlr);
    c->set_listener(l->traddr, l->trsvcid);
    sub->controllers()[cntlid] = c;
  }
  qp.bind(c, 0, static_cast<uint16_t>(f.sqsize + 1), f.sq_flow_control_disabled());
  c->attach_admin_queue(&qp);
  req.cqe.dw0 = connect_response_success(c->cntlid());
  NVMFD_LOG_INFO("controller {} of {} created for host {}", c->cntlid(), sub->nqn(), hostnqn);
  return nvme_status::success();
}

nvme_status connect_io(tcp_qpair& qp, target_request& req, const connect_command_fields& f, const connect_data& d,
                       const std::shared_ptr<subsystem>& sub, const std::string& hostnqn) {
  if (sub->type() == subsystem_kind::discovery) return invalid_param(req, false, connect_sqe_offset::qid);
  if (f.sqsize == 0 || f.sqsize > qp.options().max_queue_depth - 1)
    return invalid_param(req, false, connect_sqe_offset::sqsize);
  std::shared_ptr<controller> c;
  {
    std::lock_guard lk(qp.target().mu());
    auto it = sub->controllers().find(d.cntlid.get());
    if (it != sub->controllers().end()) c = it->second.lock();
  }
  if (!c) return invalid_param(req, true, connect_data_offset::cntlid);
  if (c->hostnqn() != hostnqn) return invalid_param(req, true, connect_data_offset::hostnqn);
  // SPDK and nvmet answer an I/O queue Connect before CC.EN = 1 with Command Sequence Error.
  if (!c->enabled) return nvme_status::generic(sc_generic::command_sequence_error);
  // Without Set Features (Number of Queues) the host may use up to the controller's maximum.
  uint16_t allowed = c->io_queues_set ? c->io_queues_granted.load() : c->max_io_queues();
  if (f.qid > allowed) return invalid_param(req, false, connect_sqe_offset::qid);
  if (!c->register_io_queue(f.qid, qp.owner().index(), qp.weak_from_this()))
    return invalid_param(req, false, connect_sqe_offset::qid);
  qp.bind(c, f.qid, static_cast<uint16_t>(f.sqsize + 1), f.sq_flow_control_disabled());
  req.cqe.dw0 = connect_response_success(c->cntlid());
  return nvme_status::success();
}

nvme_status do_connect(tcp_qpair& qp, target_request& req) {
  if (qp.connected()) return nvme_status::generic(sc_generic::command_sequence_error);
  auto f = decode_connect(req.cmd);
  if (f.recfmt != 0) return nvme_status::specific(sc_command_specific::incompatible_format);
  auto d = decode_connect_data({req.buf, req.in_capsule_len});
  if (!d || req.in_capsule_len != sizeof(connect_data))
    return nvme_status::generic(sc_generic::data_sgl_length_invalid);
  std::string subnqn(nqn_from_field(d->subnqn));
  std::string hostnqn(nqn_from_field(d->hostnqn));
  if (!validate_nqn(hostnqn)) return invalid_param(req, true, connect_data_offset::hostnqn);
  std::shared_ptr<subsystem> sub;
  bool host_ok = false, listener_ok = false;
  {
    std::lock_guard lk(qp.target().mu());
    sub = qp.target().find_subsystem_locked(subnqn);
    if (sub) {
      host_ok = sub->host_allowed(hostnqn);
      listener_ok = sub->accepts_connection_on(qp.local().addr, std::to_string(qp.local().port));
    }
  }
  if (!sub || !listener_ok) {
    NVMFD_LOG_INFO("connect to unknown subsystem '{}' (or not on {}:{}) from {}", subnqn, qp.local().addr,
                   qp.local().port, hostnqn);
    return invalid_param(req, true, connect_data_offset::subnqn);
  }
  if (!host_ok) {
    NVMFD_LOG_INFO("host {} is not allowed to connect to {}", hostnqn, subnqn);
    return nvme_status::specific(sc_command_specific::connect_invalid_host);
  }
  return f.qid == 0 ? connect_admin(qp, req, f, *d, sub, hostnqn) : connect_io(qp, req, f, *d, sub, hostnqn);
}

uint64_t cap_value(const tcp_qpair& qp) {
  cap_fields cap;
  cap.mqes = static_cast<uint16_t>(qp.options().max_queue_depth - 1);
  cap.cqr = true;
  cap.to = 30;  // 15 s ready timeout
  cap.css = cap_css::nvm;
  cap.mpsmin = 0;  // 4 KiB
  cap.mpsmax = 0;
  return cap.encode();
}

nvme_status property_get(tcp_qpair& qp, target_request& req) {
  if (qp.qid() != 0) return nvme_status::generic(sc_generic::invalid_field);
  auto p = decode_property(req.cmd);
  uint8_t width = property_width(p.offset);
  if (p.size_bytes() == 0 || width == 0 || width != p.size_bytes())
    return nvme_status::generic(sc_generic::invalid_field);
  controller& c = *qp.ctrl();
  uint64_t v = 0;
  switch (p.offset) {
    case property_offset::cap: v = cap_value(qp); break;
    case property_offset::vs: v = nvme_version_1_4; break;
    case property_offset::cc: v = c.cc; break;
    case property_offset::csts: v = c.csts; break;
    default: return nvme_status::generic(sc_generic::invalid_field);
  }
  req.cqe.dw0 = static_cast<uint32_t>(v);
  req.cqe.dw1 = static_cast<uint32_t>(v >> 32);
  return nvme_status::success();
}

nvme_status property_set(tcp_qpair& qp, target_request& req) {
  if (qp.qid() != 0) return nvme_status::generic(sc_generic::invalid_field);
  auto p = decode_property(req.cmd);
  if (p.offset != property_offset::cc || p.size_bytes() != 4) return nvme_status::generic(sc_generic::invalid_field);
  qp.ctrl()->write_cc(static_cast<uint32_t>(p.value));
  return nvme_status::success();
}

}  // namespace

std::optional<nvme_status> execute_fabrics(tcp_qpair& qp, target_request& req) {
  switch (static_cast<fabrics_type>(req.cmd.fctype())) {
    case fabrics_type::connect: return do_connect(qp, req);
    case fabrics_type::property_get: return property_get(qp, req);
    case fabrics_type::property_set: return property_set(qp, req);
    case fabrics_type::disconnect:
      qp.close_after_send();
      return nvme_status::success();
    default: return nvme_status::generic(sc_generic::invalid_opcode);
  }
}

}  // namespace nvmfd
