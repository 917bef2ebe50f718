// Admin commands (NVMe Base 2.0 section 5): Identify, Get/Set Features, Asynchronous Event
// Request, Keep Alive, Abort. Log pages are in admin_log_pages.cc.
#include <bit>
#include <cstring>

#include "proto/controller_properties.h"
#include "proto/features.h"
#include "proto/wire.h"
#include "proto/identify.h"
#include "proto/nqn.h"
#include "proto/reservations.h"
#include "target/admin_command_limits.h"
#include "target/command_handlers.h"
#include "target/controller.h"
#include "target/keep_alive_policy.h"
#include "target/nvmf_target.h"
#include "target/target_queue.h"

namespace nvmfd {

namespace {

constexpr const char* firmware_revision = "0.1.0";
constexpr uint8_t ana_transition_time_s = 10;  // ANATT: how long a group may stay in "change"

// Copies a structure to the host buffer: at most xfer_len bytes, the rest zero.
// The active namespace nsid of table as controller c's host may see it, or nullptr.
const target_namespace* visible(const namespace_table& table, uint32_t nsid, const controller& c) {
  const target_namespace* ns = table.find(nsid_t{nsid});
  return ns && ns->visible_to(c.hostnqn()) ? ns : nullptr;
}

nvme_status send_to_host(target_request& req, const void* data, size_t len) {
  auto out = req.data();
  size_t n = std::min(len, out.size());
  if (n) std::memcpy(out.data(), data, n);
  if (out.size() > n) std::memset(out.data() + n, 0, out.size() - n);
  req.c2h_len = req.xfer_len;
  return nvme_status::success();
}

void fill_identify_controller(target_queue& q, controller& c, identify_controller& id) {
  auto& sub = *c.subsys();
  const auto& limits = q.limits();
  bool discovery = c.is_discovery();
  std::shared_ptr<const namespace_table> table;
  bool ana = false;
  {
    std::lock_guard lk(q.target().mu());
    set_ascii(id.sn, sub.serial_number);
    set_ascii(id.mn, sub.model_number);
    table = sub.namespaces_snapshot();
    if (!discovery) id.cmic = cmic_bits::multi_port | cmic_bits::multi_controller;
    ana = !discovery && sub.ana_reporting;
  }
  set_ascii(id.fr, firmware_revision);
  id.rab = 6;
  id.mdts = static_cast<uint8_t>(std::bit_width(limits.max_io_size / 4096) - 1);
  id.cntlid = c.cntlid().value;
  id.ver = nvme_version_1_4;
  id.cntrltype = static_cast<uint8_t>(discovery ? controller_type::discovery : controller_type::io);
  id.aerl = max_outstanding_aers - 1;
  id.kas = limits.kas;
  id.maxcmd = discovery ? limits.max_aq_depth : limits.max_queue_depth;
  id.sgls = sgls_bits::supported | sgls_bits::address_is_offset | (limits.keyed_sgl ? sgls_bits::keyed_data_block : 0);
  id.msdbd = 1;
  id.ofcs = 1;  // Disconnect command supported
  set_padded(id.subnqn, sub.nqn(), '\0');
  if (discovery) {
    id.lpa = lpa_bits::extended_data;
    id.oaes = oaes_bits::discovery_log_change;
  } else {
    id.ctratt = ctratt_bits::host_id_128;
    id.oaes = oaes_bits::namespace_attribute;
    id.frmw = 0x3;  // one slot, read-only
    id.lpa = lpa_bits::extended_data;
    id.sqes = 0x66;
    id.cqes = 0x44;
    id.nn = sub.max_namespaces();
    id.mnan = sub.max_namespaces();
    id.oncs = oncs_bits::dataset_management | oncs_bits::write_zeroes | oncs_bits::reservations;
    id.vwc = table->any_volatile_cache() ? (vwc_bits::present | vwc_bits::flush_broadcast_unsupported) : 0;
    id.wctemp = 343;
    id.cctemp = 373;
    id.ioccsz = (sizeof(nvme_sqe) + limits.in_capsule_data_size) / 16;
    id.iorcsz = sizeof(nvme_cqe) / 16;
    id.icdoff = 0;
    id.fcatt = 0;  // dynamic controller model
    if (ana) {
      // Base 2.0 8.20: ANA groups are 1..max_namespaces; every state may be reported.
      // ANACAP bit 6 as SPDK reports it: the group of a namespace changes only by an
      // operator's nvmf_subsystem_set_ns_ana_group, announced by an ANA change notice.
      id.cmic |= cmic_bits::ana_reporting;
      id.oaes = id.oaes.get() | oaes_bits::ana_change;
      id.anatt = ana_transition_time_s;
      id.anacap = anacap_bits::optimized | anacap_bits::non_optimized | anacap_bits::inaccessible |
                  anacap_bits::persistent_loss | anacap_bits::change | anacap_bits::grpid_static;
      id.anagrpmax = sub.max_namespaces();
      id.nanagrpid = sub.max_namespaces();
    }
  }
}

void fill_identify_namespace(const subsystem& sub, const target_namespace& ns, identify_namespace& id) {
  const bdev& d = *ns.dev;
  id.nsze = d.num_blocks();
  id.ncap = d.num_blocks();
  id.nuse = d.num_blocks();
  id.nlbaf = 0;
  id.flbas = identify_namespace::make_flbas(0);
  id.lbaf[0].lbads = static_cast<uint8_t>(std::countr_zero(d.block_size()));
  id.nmic = nmic_bits::shared;
  // Every reservation type, IEKEY as NVMe 1.3 defines it, and PTPL where a file keeps it.
  id.rescap = rescap_bits::all_types | rescap_bits::ignore_existing_key |
              (ns.ptpl ? rescap_bits::persist_through_power_loss : 0);
  // Deallocated blocks read as zeroes (DLFEAT bits 2:0 = 001b) on every backend we have.
  if (d.supports(bdev_op::unmap)) id.dlfeat = 0x1;
  if (sub.ana_reporting) id.anagrpid = ns.anagrpid;
  std::memcpy(id.nguid, ns.nguid.data(), 16);
  if (ns.eui64) std::memcpy(id.eui64, ns.eui64->data(), 8);
}

nvme_status identify(target_queue& q, target_request& req) {
  auto f = decode_identify(req.cmd);
  controller& c = *q.ctrl();
  std::array<std::byte, identify_data_size> page{};
  if (f.cns == static_cast<uint8_t>(identify_cns::controller)) {
    identify_controller id{};
    fill_identify_controller(q, c, id);
    std::memcpy(page.data(), &id, sizeof(id));
    return send_to_host(req, page.data(), page.size());
  }
  if (c.is_discovery()) return nvme_status::generic(sc_generic::invalid_field);
  std::shared_ptr<const namespace_table> table;
  {
    std::lock_guard lk(q.target().mu());
    table = c.subsys()->namespaces_snapshot();
  }
  switch (static_cast<identify_cns>(f.cns)) {
    case identify_cns::namespace_: {
      if (f.nsid == 0 || (f.nsid > table->max_nsid().value && f.nsid != 0xffffffffu))
        return nvme_status::generic(sc_generic::invalid_namespace_or_format);
      // An inactive (or the broadcast) NSID returns zeroes (Base 2.0 5.17.2.1).
      if (auto* ns = visible(*table, f.nsid, c)) {
        identify_namespace id{};
        fill_identify_namespace(*c.subsys(), *ns, id);
        std::memcpy(page.data(), &id, sizeof(id));
      }
      return send_to_host(req, page.data(), page.size());
    }
    case identify_cns::active_namespace_list: {
      if (f.nsid >= 0xfffffffeu) return nvme_status::generic(sc_generic::invalid_namespace_or_format);
      size_t n = 0;
      for (nsid_t id : table->active_nsids()) {
        if (id.value <= f.nsid || !visible(*table, id.value, c)) continue;
        if (n == 1024) break;
        le32 v;
        v = id.value;
        std::memcpy(page.data() + 4 * n++, &v, 4);
      }
      return send_to_host(req, page.data(), page.size());
    }
    case identify_cns::io_cs_controller:
      // NVM Command Set specific controller data (NVM CS 1.0 Figure 106: VSL, WZSL, WUSL, DMRL,
      // DMRSL, DMSL): all zero, no limits beyond MDTS. Other command sets are not supported.
      if (f.csi != static_cast<uint8_t>(command_set::nvm)) return nvme_status::generic(sc_generic::invalid_field);
      return send_to_host(req, page.data(), page.size());
    case identify_cns::namespace_id_descriptors: {
      auto* ns = visible(*table, f.nsid, c);
      if (!ns) return nvme_status::generic(sc_generic::invalid_namespace_or_format);
      build_ns_id_descriptors(page, ns->eui64 ? ns->eui64->data() : nullptr, ns->nguid.data(), ns->id.bytes.data(),
                              true);
      return send_to_host(req, page.data(), page.size());
    }
    default:
      return nvme_status::generic(sc_generic::invalid_field);
  }
}

nvme_status get_feature_value(target_queue& q, target_request& req, const get_features_fields& f, uint32_t& dw0);

// nsid names an active namespace of c's subsystem.
bool namespace_is_active(target_queue& q, controller& c, uint32_t nsid) {
  std::lock_guard lk(q.target().mu());
  return visible(*c.subsys()->namespaces_snapshot(), nsid, c) != nullptr;
}

nvme_status get_features(target_queue& q, target_request& req) {
  auto f = decode_get_features(req.cmd);
  if (f.sel > 3) return nvme_status::generic(sc_generic::invalid_field);
  uint32_t dw0 = 0;
  nvme_status st = get_feature_value(q, req, f, dw0);
  req.cqe.dw0 = dw0;
  return st;
}

nvme_status get_feature_value(target_queue& q, target_request& req, const get_features_fields& f, uint32_t& dw0) {
  controller& c = *q.ctrl();
  auto sel = static_cast<feature_select>(f.sel);
  bool caps = sel == feature_select::supported_capabilities;
  switch (static_cast<feature_id>(f.fid)) {
    case feature_id::number_of_queues: {
      if (c.is_discovery()) return nvme_status::generic(sc_generic::invalid_field);
      uint16_t n = c.io_queues_set ? c.io_queues_granted.load() : c.max_io_queues();
      dw0 = caps ? 0 : queue_counts{static_cast<uint16_t>(n - 1), static_cast<uint16_t>(n - 1)}.encode();
      return nvme_status::success();
    }
    case feature_id::async_event_configuration:
      dw0 = caps ? feature_capability_bits::changeable : (sel == feature_select::current ? c.aec : 0);
      return nvme_status::success();
    case feature_id::keep_alive_timer:
      dw0 = caps ? feature_capability_bits::changeable : c.kato_ms;
      return nvme_status::success();
    case feature_id::volatile_write_cache: {
      if (c.is_discovery()) return nvme_status::generic(sc_generic::invalid_field);
      std::lock_guard lk(q.target().mu());
      if (!c.subsys()->namespaces_snapshot()->any_volatile_cache()) return nvme_status::generic(sc_generic::invalid_field);
      dw0 = caps ? 0 : vwc_enable;
      return nvme_status::success();
    }
    case feature_id::arbitration:
    case feature_id::power_management:
    case feature_id::temperature_threshold:
    case feature_id::error_recovery:
    case feature_id::write_atomicity: {
      if (c.is_discovery()) return nvme_status::generic(sc_generic::invalid_field);
      auto it = c.feature_values.find(f.fid);
      uint32_t def = f.fid == static_cast<uint8_t>(feature_id::temperature_threshold) ? 343u : 0u;
      dw0 = caps ? feature_capability_bits::changeable
                 : (sel == feature_select::current && it != c.feature_values.end() ? it->second : def);
      return nvme_status::success();
    }
    case feature_id::host_identifier:
      if (caps) return nvme_status::success();
      // Base 2.0 5.27.1.25: only the 128-bit identifier exists on fabrics; EXHID must ask for it.
      if (!(f.cdw11 & host_id_extended)) return nvme_status::generic(sc_generic::invalid_field);
      dw0 = host_id_extended;
      return send_to_host(req, c.hostid().bytes.data(), c.hostid().bytes.size());
    case feature_id::reservation_notification_mask: {
      if (c.is_discovery()) return nvme_status::generic(sc_generic::invalid_field);
      if (caps) {
        dw0 = feature_capability_bits::namespace_specific | feature_capability_bits::changeable;
        return nvme_status::success();
      }
      if (!namespace_is_active(q, c, f.nsid)) return nvme_status::generic(sc_generic::invalid_namespace_or_format);
      dw0 = sel == feature_select::current ? c.reservation_mask(nsid_t{f.nsid}) : 0;
      return nvme_status::success();
    }
    case feature_id::reservation_persistence: {
      if (c.is_discovery()) return nvme_status::generic(sc_generic::invalid_field);
      if (caps) {
        dw0 = feature_capability_bits::namespace_specific | feature_capability_bits::changeable;
        return nvme_status::success();
      }
      std::lock_guard lk(q.target().mu());
      const target_namespace* ns = visible(*c.subsys()->namespaces_snapshot(), f.nsid, c);
      if (!ns) return nvme_status::generic(sc_generic::invalid_namespace_or_format);
      dw0 = sel == feature_select::current && ns->reservations->ptpl() ? ptpl_bit : 0;
      return nvme_status::success();
    }
    default:
      return nvme_status::generic(sc_generic::invalid_field);
  }
}

// Set Features Reservation Persistence: the namespace's PTPL state (a ptpl file needed to
// turn it on), written to the file before the command completes.
std::optional<nvme_status> set_reservation_persistence(target_queue& q, target_request& req,
                                                       const set_features_fields& f) {
  controller& c = *q.ctrl();
  reservation_change change;
  {
    std::lock_guard lk(q.target().mu());
    auto& sub = *c.subsys();
    const target_namespace* ns = visible(*sub.namespaces_snapshot(), f.nsid, c);
    if (!ns) return nvme_status::generic(sc_generic::invalid_namespace_or_format);
    const bool on = (f.cdw11 & ptpl_bit) != 0;
    if (on && !ns->ptpl) return nvme_status::generic(sc_generic::invalid_field);
    const bool was = ns->reservations->ptpl();
    if (on == was) return nvme_status::success();
    ns->reservations->set_ptpl(on);
    reservation_effects fx;
    fx.changed = true;
    change = reservation_changed_locked(sub, nsid_t{f.nsid}, *ns, fx, was);
  }
  return complete_after_reservation_change(q, req, nvme_status::success(), std::move(change));
}

std::optional<nvme_status> set_features(target_queue& q, target_request& req) {
  auto f = decode_set_features(req.cmd);
  controller& c = *q.ctrl();
  if (f.sv) return nvme_status::specific(sc_command_specific::feature_id_not_saveable);
  switch (static_cast<feature_id>(f.fid)) {
    case feature_id::number_of_queues: {
      if (c.is_discovery()) return nvme_status::generic(sc_generic::invalid_field);
      auto want = queue_counts::decode(f.cdw11);
      if (!want.valid_request()) return nvme_status::generic(sc_generic::invalid_field);
      // Fixed once I/O queues exist (Base 2.0 5.27.1.7).
      if (c.io_queue_count() > 0) return nvme_status::generic(sc_generic::command_sequence_error);
      uint32_t n = std::min<uint32_t>({uint32_t{want.nsq} + 1, uint32_t{want.ncq} + 1, c.max_io_queues()});
      c.io_queues_granted = static_cast<uint16_t>(n);
      c.io_queues_set = true;
      req.cqe.dw0 = queue_counts{static_cast<uint16_t>(n - 1), static_cast<uint16_t>(n - 1)}.encode();
      return nvme_status::success();
    }
    case feature_id::async_event_configuration: {
      uint32_t supported = c.is_discovery() ? aec_bits::discovery_log_change : aec_bits::namespace_attribute;
      if (!c.is_discovery() && c.subsys()->ana_reporting) supported |= aec_bits::ana_change;
      c.aec = f.cdw11 & supported;
      return nvme_status::success();
    }
    case feature_id::keep_alive_timer:
      // keep_alive_policy.h: no way to turn keep-alive off on an I/O controller.
      if (f.cdw11 == 0 && !c.is_discovery()) return nvme_status::generic(sc_generic::keep_alive_timeout_invalid);
      c.set_kato(granted_kato(c.is_discovery(), f.cdw11, q.limits().min_kato));
      return nvme_status::success();
    case feature_id::power_management:
      if ((f.cdw11 & 0x1f) != 0) return nvme_status::generic(sc_generic::invalid_field);  // one power state
      [[fallthrough]];
    case feature_id::arbitration:
    case feature_id::temperature_threshold:
    case feature_id::error_recovery:
    case feature_id::write_atomicity:
      if (c.is_discovery()) return nvme_status::generic(sc_generic::invalid_field);
      c.feature_values[f.fid] = f.cdw11;
      return nvme_status::success();
    case feature_id::volatile_write_cache: {
      if (c.is_discovery()) return nvme_status::generic(sc_generic::invalid_field);
      std::lock_guard lk(q.target().mu());
      bool present = c.subsys()->namespaces_snapshot()->any_volatile_cache();
      // The cache cannot be turned off; enabling it (the state it is in) is accepted.
      if (!present || !(f.cdw11 & vwc_enable)) return nvme_status::generic(sc_generic::invalid_field);
      return nvme_status::success();
    }
    case feature_id::host_identifier:
      return nvme_status::generic(sc_generic::command_sequence_error);  // set by Connect on fabrics
    case feature_id::reservation_notification_mask:
      if (c.is_discovery() || (f.cdw11 & ~reservation_mask_bits::all)) return nvme_status::generic(sc_generic::invalid_field);
      if (f.nsid != broadcast_nsid.value && !namespace_is_active(q, c, f.nsid))
        return nvme_status::generic(sc_generic::invalid_namespace_or_format);
      c.set_reservation_mask(nsid_t{f.nsid}, f.cdw11);
      return nvme_status::success();
    case feature_id::reservation_persistence:
      if (c.is_discovery()) return nvme_status::generic(sc_generic::invalid_field);
      return set_reservation_persistence(q, req, f);
    default:
      return nvme_status::generic(sc_generic::invalid_field);
  }
}

}  // namespace

nvme_status prepare_command(target_queue& q, target_request& req) {
  uint8_t opc = req.cmd.opcode;
  uint32_t sgl_len = req.cmd.sgl.length.get();
  bool fabrics = opc == static_cast<uint8_t>(admin_opcode::fabrics);
  if (fabrics || q.is_admin())
    if (nvme_status st = check_admin_data(q, req); !st.ok()) return st;
  // Base 2.0 3.5.1: before CC.EN = 1 and CSTS.RDY = 1 the controller serves the fabrics
  // commands only (Connect, Property Get/Set, authentication), as Linux nvmet does.
  if (!fabrics && q.is_admin() && !q.ctrl()->enabled) return nvme_status::generic(sc_generic::command_sequence_error);
  if (fabrics) {
    req.dir = static_cast<data_direction>(req.cmd.fctype() & 0x3);
  } else if (!q.is_admin()) {
    return prepare_io(q, req);
  } else {
    req.dir = static_cast<data_direction>(opc & 0x3);
  }
  if (req.dir == data_direction::bidirectional) return nvme_status::generic(sc_generic::invalid_opcode);
  req.xfer_len = req.dir == data_direction::none ? 0 : sgl_len;
  return nvme_status::success();
}

std::optional<nvme_status> execute_admin(target_queue& q, target_request& req) {
  controller& c = *q.ctrl();
  switch (static_cast<admin_opcode>(req.cmd.opcode)) {
    case admin_opcode::identify: return identify(q, req);
    case admin_opcode::get_log_page: return execute_get_log_page(q, req);
    case admin_opcode::get_features: return get_features(q, req);
    case admin_opcode::set_features: return set_features(q, req);
    case admin_opcode::keep_alive:
      c.keep_alive();
      return nvme_status::success();
    case admin_opcode::async_event_request:
      if (!c.park_aer(req)) return nvme_status::specific(sc_command_specific::async_event_request_limit_exceeded);
      return std::nullopt;
    case admin_opcode::abort:
      req.cqe.dw0 = 1;  // bit 0: the command was not aborted
      return nvme_status::success();
    default:
      return nvme_status::generic(sc_generic::invalid_opcode);
  }
}

}  // namespace nvmfd
