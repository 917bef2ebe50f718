// Get Log Page (NVMe Base 2.0 5.16): Error Information, SMART / Health, Firmware Slot,
// Changed Namespace List, and the Discovery log page (NVMe-oF 1.1 5.3) on discovery controllers.
#include <cstring>
#include <vector>

#include <map>

#include "proto/ana_log.h"
#include "proto/discovery_log.h"
#include "proto/log_pages.h"
#include "proto/reservations.h"
#include "proto/wire.h"
#include "target/command_handlers.h"
#include "target/controller.h"
#include "target/discovery_log_page.h"
#include "target/nvmf_target.h"
#include "target/target_queue.h"

namespace nvmfd {

namespace {

template <class S>
std::vector<std::byte> as_bytes(const S& s) {
  std::vector<std::byte> v(sizeof(S));
  std::memcpy(v.data(), &s, sizeof(S));
  return v;
}

std::vector<std::byte> smart_health(controller& c) {
  smart_health_log log{};
  log.composite_temperature = 293;  // kelvin; there is no sensor, report room temperature
  log.avail_spare = 100;
  log.avail_spare_threshold = 10;
  auto t = c.total_stats();
  // Data units: thousands of 512-byte units, rounded up (Base 2.0 Figure 207).
  set_le128(log.data_units_read, (t.read_bytes / 512 + 999) / 1000);
  set_le128(log.data_units_written, (t.write_bytes / 512 + 999) / 1000);
  set_le128(log.host_read_commands, t.read_ops);
  set_le128(log.host_write_commands, t.write_ops);
  set_le128(log.power_cycles, 1);
  return as_bytes(log);
}

std::vector<std::byte> firmware_slot() {
  firmware_slot_log log{};
  log.afi = 1;
  set_ascii(log.frs[0], "0.1.0");
  for (size_t i = 1; i < 7; ++i) log.frs[i] = {};
  return as_bytes(log);
}

std::vector<std::byte> changed_namespaces(controller& c, bool rae) {
  changed_namespace_list_log log{};
  auto ids = c.take_changed_namespaces(!rae);
  for (size_t i = 0; i < ids.size() && i < 1024; ++i) log.nsid[i] = ids[i].value;
  if (!rae) c.unmask_notice(static_cast<uint8_t>(log_page_id::changed_namespace_list));
  return as_bytes(log);
}

// Base 2.0 5.16.1.13: one descriptor per ANA group that has namespaces, in group order,
// with the state through this controller's listener; NSID lists unless rgo.
std::vector<std::byte> ana_log(target_queue& q, controller& c, bool rgo, bool rae) {
  std::map<uint32_t, std::vector<uint32_t>> groups;
  uint64_t chgcnt = 0;
  std::map<uint32_t, ana_state> states;
  {
    std::lock_guard lk(q.target().mu());
    auto& sub = *c.subsys();
    for (auto& ns : sub.namespaces_snapshot()->slots())
      if (ns && ns->visible_to(c.hostnqn())) groups[ns->anagrpid].push_back(ns->nsid.value);
    if (auto* l = sub.find_listener(c.listener_traddr(), c.listener_trsvcid())) {
      chgcnt = l->ana_chgcnt;
      states = l->ana_states;
    }
  }
  size_t nsids = 0;
  if (!rgo)
    for (auto& [g, ids] : groups) nsids += ids.size();
  std::vector<std::byte> page(ana_log_size(groups.size(), nsids));
  ana_log_header h{};
  h.chgcnt = chgcnt;
  h.ngrps = static_cast<uint16_t>(groups.size());
  std::memcpy(page.data(), &h, sizeof(h));
  size_t off = sizeof(h);
  for (auto& [g, ids] : groups) {
    ana_group_descriptor d{};
    d.grpid = g;
    d.nnsids = rgo ? 0u : static_cast<uint32_t>(ids.size());
    d.chgcnt = chgcnt;
    auto it = states.find(g);
    d.state = static_cast<uint8_t>(it == states.end() ? ana_state::optimized : it->second);
    std::memcpy(page.data() + off, &d, sizeof(d));
    off += sizeof(d);
    if (rgo) continue;
    for (uint32_t id : ids) {
      le32 v;
      v = id;
      std::memcpy(page.data() + off, &v, 4);
      off += 4;
    }
  }
  if (!rae) c.unmask_notice(static_cast<uint8_t>(log_page_id::ana));
  return page;
}

}  // namespace

std::optional<nvme_status> execute_get_log_page(target_queue& q, target_request& req) {
  auto f = decode_get_log_page(req.cmd);
  controller& c = *q.ctrl();
  if (!f.offset_aligned() || f.ot) return nvme_status::generic(sc_generic::invalid_field);
  if (f.length_bytes() > req.xfer_len) return nvme_status::generic(sc_generic::data_sgl_length_invalid);
  std::vector<std::byte> page;
  auto lid = static_cast<log_page_id>(f.lid);
  if (c.is_discovery()) {
    if (lid != log_page_id::discovery) return nvme_status::specific(sc_command_specific::invalid_log_page);
    page = build_discovery_log_page(q.target(), c.hostnqn(), q.local().traddr, q.local().trsvcid);
    if (!f.rae) c.unmask_notice(f.lid);
  } else {
    switch (lid) {
      case log_page_id::error_information:
        page.assign(sizeof(error_information_entry), std::byte{0});
        break;
      case log_page_id::smart_health:
        if (req.cmd.nsid.get() != 0 && req.cmd.nsid.get() != 0xffffffffu)
          return nvme_status::generic(sc_generic::invalid_field);  // no per-namespace SMART (LPA bit 0)
        page = smart_health(c);
        break;
      case log_page_id::firmware_slot:
        page = firmware_slot();
        break;
      case log_page_id::changed_namespace_list:
        page = changed_namespaces(c, f.rae);
        break;
      case log_page_id::reservation_notification: {
        auto e = c.take_reservation_notice(f.rae);
        page = as_bytes(e);
        break;
      }
      case log_page_id::ana: {
        bool ana_reporting;
        {
          std::lock_guard lk(q.target().mu());
          ana_reporting = c.subsys()->ana_reporting;
        }
        if (!ana_reporting) return nvme_status::specific(sc_command_specific::invalid_log_page);
        page = ana_log(q, c, (f.lsp & ana_lsp_bits::rgo) != 0, f.rae);
        break;
      }
      default:
        return nvme_status::specific(sc_command_specific::invalid_log_page);
    }
  }
  // Base 2.0 5.16: an offset past the end of the log is Invalid Field in Command.
  if (f.offset_bytes > page.size()) return nvme_status::generic(sc_generic::invalid_field);
  size_t len = static_cast<size_t>(f.length_bytes());
  size_t avail = page.size() - static_cast<size_t>(f.offset_bytes);
  size_t n = std::min(len, avail);
  auto out = req.data().first(len);  // len <= xfer_len, checked above
  if (n) std::memcpy(out.data(), page.data() + f.offset_bytes, n);
  if (len > n) std::memset(out.data() + n, 0, len - n);
  req.c2h_len = static_cast<uint32_t>(len);
  return nvme_status::success();
}

}  // namespace nvmfd
