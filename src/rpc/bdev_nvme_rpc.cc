#include "rpc/bdev_nvme_rpc.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "proto/ana_log.h"
#include "proto/log_pages.h"
#include "proto/nqn.h"
#include "proto/wire.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A fixed-size ASCII Identify field without its space (or NUL) padding.
template <size_t N>
std::string trimmed(const std::array<char, N>& field) {
  size_t n = 0;
  while (n < N && field[n] != '\0') ++n;
  while (n > 0 && field[n - 1] == ' ') --n;
  return std::string(field.data(), n);
}

// SPDK's nvme_bdev_dump_trid_json.
json trid_json(const transport_id& t) {
  return {{"trtype", spdk_trtype(t)}, {"adrfam", spdk_adrfam(t)}, {"traddr", t.traddr}, {"trsvcid", t.trsvcid},
          {"subnqn", t.subnqn}};
}

// SPDK's bdev_nvme_check_io_error_resiliency_params, with its rules as messages.
void check_reconnect_params(param_reader& p, int32_t loss, uint32_t delay, uint32_t fast_fail) {
  if (loss < -1) {
    p.fail("ctrlr_loss_timeout_sec", "must be -1 (retry forever), 0 (no reconnect) or a number of seconds");
  } else if (loss == 0) {
    if (delay != 0 || fast_fail != 0)
      p.fail("reconnect_delay_sec", "reconnect_delay_sec and fast_io_fail_timeout_sec must be 0 when "
                                    "ctrlr_loss_timeout_sec is 0");
  } else if (delay == 0) {
    p.fail("reconnect_delay_sec", "must not be 0 when ctrlr_loss_timeout_sec is not 0");
  } else if (loss > 0 && delay > static_cast<uint32_t>(loss)) {
    p.fail("reconnect_delay_sec", "must not be more than ctrlr_loss_timeout_sec");
  } else if (fast_fail != 0 && fast_fail < delay) {
    p.fail("fast_io_fail_timeout_sec", "must be 0 or at least reconnect_delay_sec");
  } else if (loss > 0 && fast_fail > static_cast<uint32_t>(loss)) {
    p.fail("fast_io_fail_timeout_sec", "must not be more than ctrlr_loss_timeout_sec");
  }
}

// A parameter nvmfd accepts in SPDK's configs but cannot honour yet: refused when given.
void refuse(param_reader& p, std::string_view name, std::string_view why) {
  if (auto v = p.optional_string(name); v && !v->empty()) p.fail(name, why);
}

result<nvme_attach_request> read_attach(const json& params, unsigned reactors) {
  param_reader p(params);
  nvme_attach_request r;
  r.name = p.required_string("name");
  auto trtype = p.required_string("trtype");
  r.trid.traddr = p.required_string("traddr");
  auto adrfam = p.optional_string("adrfam").value_or("IPv4");
  r.trid.trsvcid = p.optional_string("trsvcid").value_or("4420");
  auto subnqn = p.optional_string("subnqn");
  auto hostnqn = p.optional_string("hostnqn");
  r.opts.hdgst = p.optional_bool("hdgst").value_or(false);
  r.opts.ddgst = p.optional_bool("ddgst").value_or(false);
  r.fabrics_connect_timeout_us = p.optional_uint("fabrics_connect_timeout_us").value_or(0);
  r.multipath = p.optional_enum("multipath", {"failover", "multipath", "disable"}).value_or("");
  auto queues = p.optional_uint("num_io_queues", UINT32_MAX);
  r.ctrlr_loss_timeout_sec =
      static_cast<int32_t>(p.optional_int("ctrlr_loss_timeout_sec", INT32_MIN, INT32_MAX).value_or(0));
  r.reconnect_delay_sec = static_cast<uint32_t>(p.optional_uint("reconnect_delay_sec", UINT32_MAX).value_or(0));
  r.fast_io_fail_timeout_sec =
      static_cast<uint32_t>(p.optional_uint("fast_io_fail_timeout_sec", UINT32_MAX).value_or(0));
  r.max_bdevs = static_cast<uint32_t>(p.optional_uint("max_bdevs", UINT32_MAX).value_or(128));
  r.prchk_reftag = p.optional_bool("prchk_reftag").value_or(false);
  r.prchk_guard = p.optional_bool("prchk_guard").value_or(false);
  p.optional_bool("allow_unrecognized_csi");  // only NVM command set namespaces are identified
  p.optional_string("priority");              // a socket priority: not applied
  refuse(p, "psk", "TLS (PSK) is not supported yet");
  refuse(p, "dhchap_key", "DH-HMAC-CHAP authentication is not supported yet");
  refuse(p, "dhchap_ctrlr_key", "DH-HMAC-CHAP authentication is not supported yet");
  refuse(p, "hostaddr", "choosing the source address is not supported yet");
  refuse(p, "hostsvcid", "choosing the source port is not supported yet");
  r.opts.disable_sq_flow_control = p.optional_bool("disable_sq_flow_control").value_or(false);
  p.ignore({"multipath_opts"});  // the policy of a multipath bdev: moot with one path
  if (!p.ok()) return p.finish().take_err();

  if (lower(trtype) != "tcp") p.fail("trtype", fmt::format("'{}' is not supported; nvmfd's host speaks TCP", trtype));
  r.trid.trtype = "tcp";
  r.trid.adrfam = lower(adrfam);
  if (r.trid.adrfam != "ipv4" && r.trid.adrfam != "ipv6") p.fail("adrfam", "expected IPv4 or IPv6");
  unsigned char addr[16];
  if (p.ok() && inet_pton(r.trid.adrfam == "ipv4" ? AF_INET : AF_INET6, r.trid.traddr.c_str(), addr) != 1)
    p.fail("traddr", fmt::format("'{}' is not a numeric {} address", r.trid.traddr, spdk_adrfam(r.trid)));
  const std::string& svc = r.trid.trsvcid;
  bool digits = !svc.empty() && svc.size() <= 5 && std::all_of(svc.begin(), svc.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoul(svc) == 0 || std::stoul(svc) > 65535)
    p.fail("trsvcid", "expected a TCP port number 1..65535");
  if (!subnqn) {
    p.fail("subnqn", "required: the NQN of the NVM subsystem to attach (nvmfd does not default to the "
                     "discovery subsystem)");
  } else if (auto v = validate_nqn(*subnqn); !v) {
    p.fail("subnqn", v.err().message);
  } else if (is_discovery_nqn(*subnqn)) {
    p.fail("subnqn", "the discovery subsystem has no namespaces to attach (use bdev_nvme_start_discovery)");
  }
  r.trid.subnqn = subnqn.value_or("");
  if (hostnqn) {
    if (auto v = validate_nqn(*hostnqn); !v) p.fail("hostnqn", v.err().message);
    r.opts.hostnqn = *hostnqn;
  }
  if (queues && (*queues == 0 || *queues > 65536)) {
    p.fail("num_io_queues", "out of bounds, min: 1 max: 65536");
  } else if (queues && *queues < reactors) {
    // nvme_bdev sends I/O on the submitting reactor's own queue: fewer queues than reactors
    // would fail the I/O of the others.
    p.fail("num_io_queues", fmt::format("{} is fewer than the {} reactors: nvmfd needs an I/O queue per reactor",
                                        *queues, reactors));
  }
  r.num_io_queues = static_cast<uint32_t>(queues.value_or(0));
  r.opts.num_io_queues = reactors;  // more would never be used
  if (r.max_bdevs == 0) p.fail("max_bdevs", "cannot be zero");
  check_reconnect_params(p, r.ctrlr_loss_timeout_sec, r.reconnect_delay_sec, r.fast_io_fail_timeout_sec);
  if (r.fabrics_connect_timeout_us) {
    uint64_t ms = (r.fabrics_connect_timeout_us + 999) / 1000;
    r.opts.connect_timeout_ms = static_cast<uint32_t>(std::min<uint64_t>(ms, INT32_MAX - 1000));
  }
  if (auto f = p.finish(); !f) return f.take_err();
  return r;
}

json controller_json(const nvme_controller_entry& e) {
  const host_controller& c = *e.ctrl;
  json ctrlr = {
      {"state", c.failed() ? "failed" : "enabled"},
      {"trid", trid_json(c.trid())},
      {"cntlid", c.cntlid()},
      {"host", {{"nqn", c.hostnqn()}, {"addr", ""}, {"svcid", ""}, {"no_shn_notification", false}}},
  };
  return {{"name", e.request.name}, {"ctrlrs", json::array({ctrlr})}};
}

json attach_call(const nvme_controller_entry& e) {
  const nvme_attach_request& r = e.request;
  uint64_t timeout_us = r.fabrics_connect_timeout_us ? r.fabrics_connect_timeout_us
                                                     : uint64_t{controller_options{}.connect_timeout_ms} * 1000;
  json params = {{"name", r.name}};
  params.update(trid_json(r.trid));
  params.update({
      {"prchk_reftag", r.prchk_reftag},
      {"prchk_guard", r.prchk_guard},
      {"ctrlr_loss_timeout_sec", r.ctrlr_loss_timeout_sec},
      {"reconnect_delay_sec", r.reconnect_delay_sec},
      {"fast_io_fail_timeout_sec", r.fast_io_fail_timeout_sec},
      {"hostnqn", e.ctrl->hostnqn()},  // the one in use, generated or not: allow lists name it
      {"hdgst", r.opts.hdgst},
      {"ddgst", r.opts.ddgst},
      {"fabrics_connect_timeout_us", timeout_us},
  });
  if (r.num_io_queues) params["num_io_queues"] = r.num_io_queues;
  // Newer than SPDK v26.05's schema: written only when set, so that v26.05 can load the rest.
  if (r.opts.disable_sq_flow_control) params["disable_sq_flow_control"] = true;
  if (r.max_bdevs != 128) params["max_bdevs"] = r.max_bdevs;
  return {{"method", "bdev_nvme_attach_controller"}, {"params", std::move(params)}};
}

const char* ana_state_name(ana_state s) {
  switch (s) {
    case ana_state::optimized: return "optimized";
    case ana_state::non_optimized: return "non_optimized";
    case ana_state::inaccessible: return "inaccessible";
    case ana_state::persistent_loss: return "persistent_loss";
    case ana_state::change: return "change";
  }
  return nullptr;
}

// The ANA state of group `grpid` from the controller's ANA log page (groups only), or
// nullptr when it cannot be read or does not list the group.
const char* read_ana_state(host_controller& c, uint32_t grpid) {
  if (grpid == 0 || c.failed()) return nullptr;
  constexpr uint32_t len = 4096;
  auto page = c.get_log_page(static_cast<uint8_t>(log_page_id::ana), 0, len, /*lsp: RGO*/ 1);
  if (!page) return nullptr;
  std::span<const std::byte> b(*page);
  auto hdr = decode_wire<ana_log_header>(b);
  if (!hdr) return nullptr;
  size_t off = sizeof(ana_log_header);
  for (unsigned i = 0; i < hdr->ngrps.get() && off < b.size(); ++i) {
    auto g = decode_wire<ana_group_descriptor>(b.subspan(off));
    if (!g) break;
    if (g->grpid.get() == grpid) return ana_state_name(g->ana());
    off += sizeof(ana_group_descriptor) + size_t{g->nnsids.get()} * 4;  // zero with RGO
  }
  return nullptr;
}

}  // namespace

json nvme_bdev_driver_specific(const nvme_bdev& b) {
  host_controller& c = *b.controller();
  const identify_controller& id = c.identity();
  uint16_t oacs = id.oacs.get();
  uint32_t ver = id.ver.get();
  std::string version = (ver & 0xff) ? fmt::format("{}.{}.{}", ver >> 16, (ver >> 8) & 0xff, ver & 0xff)
                                     : fmt::format("{}.{}", ver >> 16, (ver >> 8) & 0xff);
  json ctrlr_data = {
      {"cntlid", c.cntlid()},
      {"vendor_id", fmt::format("{:#06x}", id.vid.get())},
      {"model_number", trimmed(id.mn)},
      {"serial_number", trimmed(id.sn)},
      {"firmware_revision", trimmed(id.fr)},
      {"subnqn", trimmed(id.subnqn)},
      {"oacs",
       {{"security", (oacs & oacs_bits::security) ? 1 : 0},
        {"format", (oacs & oacs_bits::format_nvm) ? 1 : 0},
        {"firmware", (oacs & oacs_bits::firmware) ? 1 : 0},
        {"ns_manage", (oacs & oacs_bits::ns_management) ? 1 : 0}}},
      {"multi_ctrlr", (id.cmic & cmic_bits::multi_controller) != 0},
      {"ana_reporting", (id.cmic & cmic_bits::ana_reporting) != 0},
  };
  json ns_data = {{"id", b.nsid()}};
  for (const remote_namespace& ns : c.namespaces()) {
    if (ns.nsid != b.nsid()) continue;
    if (id.cmic & cmic_bits::ana_reporting)
      if (const char* s = read_ana_state(c, ns.data.anagrpid.get())) ns_data["ana_state"] = s;
    ns_data["can_share"] = (ns.data.nmic & nmic_bits::shared) != 0;
  }
  json path = {{"trid", trid_json(c.trid())},
               {"ctrlr_data", std::move(ctrlr_data)},
               {"vs", {{"nvme_version", version}}},
               {"ns_data", std::move(ns_data)}};
  return {{"nvme", json::array({std::move(path)})}, {"mp_policy", "active_passive"}};
}

void add_bdev_nvme_methods(rpc_method_table& methods, nvme_controller_registry& controllers) {
  methods.add("bdev_nvme_attach_controller", [&controllers](const json& params) -> result<json> {
    auto req = read_attach(params, controllers.pool().size());
    if (!req) return req.take_err();
    auto names = controllers.attach(std::move(req.value()));
    if (!names) return names.take_err();
    return json(*names);
  });

  methods.add("bdev_nvme_detach_controller", [&controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    nvme_path_filter f;
    f.trtype = p.optional_string("trtype");
    f.traddr = p.optional_string("traddr");
    f.adrfam = p.optional_string("adrfam");
    f.trsvcid = p.optional_string("trsvcid");
    f.subnqn = p.optional_string("subnqn");
    f.hostaddr = p.optional_string("hostaddr");
    f.hostsvcid = p.optional_string("hostsvcid");
    if (auto r = p.finish(); !r) return r.take_err();
    if (auto r = controllers.detach(name, f); !r) return r.take_err();
    return json(true);
  });

  methods.add("bdev_nvme_get_controllers", [&controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.optional_string("name");
    if (auto r = p.finish(); !r) return r.take_err();
    json out = json::array();
    if (name) {
      const nvme_controller_entry* e = controllers.find(*name);
      if (!e) return error{errc::not_found, fmt::format("Controller {} does not exist", *name)};
      out.push_back(controller_json(*e));
    } else {
      for (const nvme_controller_entry* e : controllers.list()) out.push_back(controller_json(*e));
    }
    return out;
  });

  methods.add_config_section({"bdev_nvme", {}, [&controllers] {
                                json calls = json::array();
                                for (const nvme_controller_entry* e : controllers.list()) calls.push_back(attach_call(*e));
                                return calls;
                              }});
}

}  // namespace nvmfd
