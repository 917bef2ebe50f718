#include "rpc/bdev_nvme_rpc.h"

#include "rpc/bdev_nvme_resv_rpc.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>

#include "base/tick_clock.h"
#include "host/ana_log_reader.h"
#include "proto/ana_log.h"
#include "proto/log_pages.h"
#include "proto/nqn.h"
#include "proto/wire.h"
#include "rpc/bdev_nvme_discovery_rpc.h"
#include "rpc/bdev_rpc.h"
#include "rpc/bdev_nvme_mdns_rpc.h"
#include "rpc/bdev_nvme_resv_rpc.h"
#include "rpc/dhchap_params.h"
#include "rpc/param_reader.h"
#include "rpc/tls_psk_params.h"

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

// The three reconnect params, each absent one from `defaults` -- fitted to a given
// ctrlr_loss_timeout_sec (0: no reconnect, so no delay either; N: neither the delay nor the
// fast-fail time may exceed N), so that giving only the loss timeout is never an error.
reconnect_policy read_reconnect(param_reader& p, const reconnect_policy& defaults) {
  reconnect_policy rc = defaults;
  auto loss = p.optional_int("ctrlr_loss_timeout_sec", INT32_MIN, INT32_MAX);
  auto delay = p.optional_uint("reconnect_delay_sec", UINT32_MAX);
  auto fast = p.optional_uint("fast_io_fail_timeout_sec", UINT32_MAX);
  if (loss) {
    rc.ctrlr_loss_timeout_sec = static_cast<int32_t>(*loss);
    if (*loss == 0) {
      rc.reconnect_delay_sec = rc.fast_io_fail_timeout_sec = 0;
    } else if (*loss > 0) {
      rc.reconnect_delay_sec = std::min<uint32_t>(rc.reconnect_delay_sec, static_cast<uint32_t>(*loss));
      rc.fast_io_fail_timeout_sec = std::min<uint32_t>(rc.fast_io_fail_timeout_sec, static_cast<uint32_t>(*loss));
    }
  }
  if (delay) rc.reconnect_delay_sec = static_cast<uint32_t>(*delay);
  if (fast) rc.fast_io_fail_timeout_sec = static_cast<uint32_t>(*fast);
  return rc;
}

// A parameter nvmfd accepts in SPDK's configs but cannot honour yet: refused when given.
void refuse(param_reader& p, std::string_view name, std::string_view why) {
  if (auto v = p.optional_string(name); v && !v->empty()) p.fail(name, why);
}

// multipath_opts {policy, selector, min_io} (SPDK's object), into pol.
void read_multipath_opts(param_reader& p, multipath_policy& pol) {
  auto sub = p.optional_sub("multipath_opts");
  if (!sub) return;
  if (auto m = sub->optional_enum("policy", {"active_passive", "active_active"})) pol.mode = *parse_multipath_mode(*m);
  if (auto s = sub->optional_enum("selector", {"round_robin", "queue_depth"})) pol.selector = *parse_multipath_selector(*s);
  if (auto n = sub->optional_uint("min_io", UINT32_MAX)) {
    if (*n == 0) sub->fail("min_io", "must be at least 1");
    pol.rr_min_io = static_cast<uint32_t>(*n);
  }
}

result<nvme_attach_request> read_attach(const json& params, unsigned reactors, const nvme_host_defaults& d,
                                        const keys::keyring* keyring) {
  param_reader p(params);
  nvme_attach_request r;
  r.opts.kato_ms = d.keep_alive_timeout_ms;
  r.opts.io_timeout_ms = d.io_timeout_ms;
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
  r.reconnect = read_reconnect(p, d.reconnect);
  r.max_bdevs = static_cast<uint32_t>(p.optional_uint("max_bdevs", UINT32_MAX).value_or(128));
  r.prchk_reftag = p.optional_bool("prchk_reftag").value_or(false);
  r.prchk_guard = p.optional_bool("prchk_guard").value_or(false);
  p.optional_bool("allow_unrecognized_csi");  // only NVM command set namespaces are identified
  p.optional_string("priority");              // a socket priority: not applied
  r.opts.tls_psk = read_tls_psk(p, "psk", keyring, r.psk_name);
  r.opts.dhchap_key = read_dhchap_key(p, "dhchap_key", keyring, r.dhchap_key_name);
  r.opts.dhchap_ctrl_key = read_dhchap_key(p, "dhchap_ctrlr_key", keyring, r.dhchap_ctrlr_key_name);
  r.opts.dhchap_digests = d.dhchap_digests;
  r.opts.dhchap_dhgroups = d.dhchap_dhgroups;
  refuse(p, "hostaddr", "choosing the source address is not supported yet");
  refuse(p, "hostsvcid", "choosing the source port is not supported yet");
  r.opts.disable_sq_flow_control = p.optional_bool("disable_sq_flow_control").value_or(false);
  multipath_policy unused;  // the bdev's policy is set by bdev_nvme_set_multipath_policy
  read_multipath_opts(p, unused);
  if (!p.ok()) return p.finish().take_err();

  check_tcp_address(p, trtype, adrfam, r.trid);
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
  if (!r.dhchap_ctrlr_key_name.empty() && r.dhchap_key_name.empty())
    p.fail("dhchap_ctrlr_key", "needs dhchap_key: the controller is authenticated only after the host");
  check_reconnect_params(p, r.reconnect.ctrlr_loss_timeout_sec, r.reconnect.reconnect_delay_sec,
                         r.reconnect.fast_io_fail_timeout_sec);
  if (r.fabrics_connect_timeout_us) {
    uint64_t ms = (r.fabrics_connect_timeout_us + 999) / 1000;
    r.opts.connect_timeout_ms = static_cast<uint32_t>(std::min<uint64_t>(ms, INT32_MAX - 1000));
  }
  if (auto f = p.finish(); !f) return f.take_err();
  return r;
}

json path_json(const nvme_path& p) {
  auto st = p.get_status();
  json ctrlr = {
      {"state", path_state_name(st.state)},
      {"trid", trid_json(st.trid)},
      {"cntlid", st.cntlid.value},
      {"host", {{"nqn", p.request().opts.hostnqn}, {"addr", ""}, {"svcid", ""}, {"no_shn_notification", false}}},
  };
  if (!st.alternates.empty()) {
    json alts = json::array();
    for (auto& t : st.alternates) alts.push_back(trid_json(t));
    ctrlr["alternate_trids"] = std::move(alts);
  }
  if (!st.last_error.empty() && st.state != path_state::enabled) ctrlr["last_error"] = st.last_error;
  return ctrlr;
}

json controller_json(const nvme_controller_entry& e) {
  json ctrlrs = json::array();
  for (auto& p : e.paths) ctrlrs.push_back(path_json(*p));
  return {{"name", e.name}, {"ctrlrs", std::move(ctrlrs)}};
}

json attach_call(const nvme_attach_request& r, const transport_id& trid, const char* multipath) {
  uint64_t timeout_us = r.fabrics_connect_timeout_us ? r.fabrics_connect_timeout_us
                                                     : uint64_t{controller_options{}.connect_timeout_ms} * 1000;
  json params = {{"name", r.name}};
  params.update(trid_json(trid));
  params.update({
      {"prchk_reftag", r.prchk_reftag},
      {"prchk_guard", r.prchk_guard},
      {"ctrlr_loss_timeout_sec", r.reconnect.ctrlr_loss_timeout_sec},
      {"reconnect_delay_sec", r.reconnect.reconnect_delay_sec},
      {"fast_io_fail_timeout_sec", r.reconnect.fast_io_fail_timeout_sec},
      {"hostnqn", r.opts.hostnqn},  // the one in use, generated or not: allow lists name it
      {"hdgst", r.opts.hdgst},
      {"ddgst", r.opts.ddgst},
      {"fabrics_connect_timeout_us", timeout_us},
  });
  if (multipath) params["multipath"] = multipath;
  if (r.num_io_queues) params["num_io_queues"] = r.num_io_queues;
  // Newer than SPDK v26.05's schema: written only when set, so that v26.05 can load the rest.
  if (r.opts.disable_sq_flow_control) params["disable_sq_flow_control"] = true;
  // Key names, as SPDK saves them; the material stays in the key files.
  if (!r.dhchap_key_name.empty()) params["dhchap_key"] = r.dhchap_key_name;
  if (!r.dhchap_ctrlr_key_name.empty()) params["dhchap_ctrlr_key"] = r.dhchap_ctrlr_key_name;
  if (r.max_bdevs != 128) params["max_bdevs"] = r.max_bdevs;
  if (!r.psk_name.empty()) params["psk"] = r.psk_name;
  return {{"method", "bdev_nvme_attach_controller"}, {"params", std::move(params)}};
}

// The calls that rebuild one controller name: its paths (the first plain, the others with
// multipath "multipath"), failover transport IDs, then each bdev's policy and preferred path.
void controller_calls(const nvme_controller_entry& e, const nvme_host_defaults& d, json& calls) {
  bool first = true;
  for (size_t i = 0; i < e.paths.size(); ++i) {
    const nvme_path& p = *e.paths[i];
    nvme_attach_request r = p.request();
    if (r.owner != "rpc") continue;  // a discovery service's: it attaches them again
    auto st = p.get_status();
    r.name = e.name;
    calls.push_back(attach_call(r, st.trid, first ? nullptr : "multipath"));
    first = false;
    for (auto& alt : st.alternates) calls.push_back(attach_call(r, alt, "failover"));
  }
  if (first) return;  // nothing of this name is saved: neither are its bdevs' settings
  for (auto& b : e.bdevs) {
    if (b->policy != d.policy) {
      json params = {{"name", b->name()}, {"policy", multipath_mode_name(b->policy.mode)}};
      if (b->policy.mode == multipath_mode::active_active) {
        params["selector"] = multipath_selector_name(b->policy.selector);
        if (b->policy.selector == multipath_selector::round_robin) params["rr_min_io"] = b->policy.rr_min_io;
      }
      calls.push_back({{"method", "bdev_nvme_set_multipath_policy"}, {"params", std::move(params)}});
    }
    // cntlid (SPDK's key) changes with every connection: the address says which path it was.
    for (auto& p : e.paths)
      if (p->id() == b->preferred_path) {
        auto st = p->get_status();
        calls.push_back({{"method", "bdev_nvme_set_preferred_path"},
                         {"params",
                          {{"name", b->name()}, {"cntlid", st.cntlid.value}, {"traddr", st.trid.traddr},
                           {"trsvcid", st.trid.trsvcid}}}});
      }
  }
}

json set_options_call(const nvme_host_defaults& d) {
  return {{"method", "bdev_nvme_set_options"},
          {"params",
           {{"keep_alive_timeout_ms", d.keep_alive_timeout_ms},
            {"timeout_us", uint64_t{d.io_timeout_ms} * 1000},
            {"ctrlr_loss_timeout_sec", d.reconnect.ctrlr_loss_timeout_sec},
            {"reconnect_delay_sec", d.reconnect.reconnect_delay_sec},
            {"fast_io_fail_timeout_sec", d.reconnect.fast_io_fail_timeout_sec},
            {"multipath_opts",
             {{"policy", multipath_mode_name(d.policy.mode)},
              {"selector", multipath_selector_name(d.policy.selector)},
              {"min_io", d.policy.rr_min_io}}},
            {"dhchap_digests", dhchap_digests_json(d.dhchap_digests)},
            {"dhchap_dhgroups", dhchap_dhgroups_json(d.dhchap_dhgroups)}}}};
}

// bdev_nvme_set_options: the SPDK params nvmfd acts on are read; the others are accepted
// with their types checked and have no effect (nvmfd has no such knob).
result<nvme_host_defaults> read_set_options(const json& params, nvme_host_defaults d) {
  param_reader p(params);
  if (auto v = p.optional_uint("keep_alive_timeout_ms", UINT32_MAX)) d.keep_alive_timeout_ms = static_cast<uint32_t>(*v);
  if (auto v = p.optional_uint("timeout_us", UINT64_MAX)) {
    if (*v) d.io_timeout_ms = static_cast<uint32_t>(std::min<uint64_t>((*v + 999) / 1000, UINT32_MAX - 1));
  }
  d.reconnect = read_reconnect(p, d.reconnect);
  const reconnect_policy& rc = d.reconnect;
  read_multipath_opts(p, d.policy);
  p.optional_enum("action_on_timeout", {"none", "reset", "abort"});
  p.optional_uint("timeout_admin_us");
  for (auto k : {"arbitration_burst", "low_priority_weight", "medium_priority_weight", "high_priority_weight",
                 "io_queue_requests", "transport_retry_count", "rdma_srq_size", "rdma_max_cq_size",
                 "tcp_connect_timeout_ms"})
    p.optional_uint(k, UINT32_MAX);
  p.optional_uint("nvme_adminq_poll_period_us");
  p.optional_uint("nvme_ioq_poll_period_us");
  p.optional_int("bdev_retry_count", -1, INT32_MAX);
  p.optional_uint("transport_ack_timeout", 255);
  p.optional_uint("transport_tos", 255);
  p.optional_uint("rdma_cm_event_timeout_ms", 65535);
  for (auto k : {"delay_cmd_submit", "disable_auto_failback", "generate_uuids", "nvme_error_stat", "io_path_stat",
                 "allow_accel_sequence", "rdma_umr_per_io", "enable_flush"})
    p.optional_bool(k);
  if (auto v = read_dhchap_digests(p, "dhchap_digests")) d.dhchap_digests = *v;
  if (auto v = read_dhchap_dhgroups(p, "dhchap_dhgroups")) d.dhchap_dhgroups = *v;
  if (!p.ok()) return p.finish().take_err();
  check_reconnect_params(p, rc.ctrlr_loss_timeout_sec, rc.reconnect_delay_sec, rc.fast_io_fail_timeout_sec);
  if (d.keep_alive_timeout_ms != 0 && d.keep_alive_timeout_ms < 200)
    p.fail("keep_alive_timeout_ms", "must be 0 (no keep-alive) or at least 200");
  if (auto f = p.finish(); !f) return f.take_err();
  return d;
}

json io_path_json(const nvme_bdev& b, const nvme_bdev_paths& t, size_t i) {
  const nvme_bdev_path& p = t.paths[i];
  auto st = p.path->get_status();
  bool connected = p.ctrl && !p.ctrl->failed();
  return {
      {"bdev_name", b.name()},
      {"cntlid", st.cntlid.value},
      {"current", nvme_bdev::is_current(t, i)},
      {"connected", connected},
      {"accessible", connected && ana_usable(p.ana) && !p.path->ana_pending()},
      {"transport",
       {{"trtype", spdk_trtype(st.trid)},
        {"traddr", st.trid.traddr},
        {"trsvcid", st.trid.trsvcid},
        {"adrfam", spdk_adrfam(st.trid)}}},
      {"ana_state", ana_state_rpc_name(p.ana)},
  };
}

json io_stat_json(const path_io_totals& s) {
  return {
      {"bytes_read", s.bytes_read},
      {"num_read_ops", s.num_read_ops},
      {"bytes_written", s.bytes_written},
      {"num_write_ops", s.num_write_ops},
      {"bytes_unmapped", s.bytes_unmapped},
      {"num_unmap_ops", s.num_unmap_ops},
      {"num_flush_ops", s.num_flush_ops},
      {"num_write_zeroes_ops", s.num_write_zeroes_ops},
      {"read_latency_ticks", s.read_latency_ticks},
      {"max_read_latency_ticks", s.max_read_latency_ticks},
      {"write_latency_ticks", s.write_latency_ticks},
      {"max_write_latency_ticks", s.max_write_latency_ticks},
      {"unmap_latency_ticks", s.unmap_latency_ticks},
      {"tick_rate", tick_clock::rate()},
      {"io_error", s.io_errors},
      {"path_errors", s.path_errors},
  };
}

}  // namespace

void check_tcp_address(param_reader& p, const std::string& trtype, const std::string& adrfam, transport_id& t) {
  t.trtype = lower(trtype);
  if (t.trtype != "tcp" && t.trtype != "rdma")
    p.fail("trtype", fmt::format("'{}' is not supported; nvmfd's host speaks TCP and RDMA", trtype));
  t.adrfam = lower(adrfam);
  if (t.adrfam != "ipv4" && t.adrfam != "ipv6") p.fail("adrfam", "expected IPv4 or IPv6");
  unsigned char addr[16];
  if (p.ok() && inet_pton(t.adrfam == "ipv4" ? AF_INET : AF_INET6, t.traddr.c_str(), addr) != 1)
    p.fail("traddr", fmt::format("'{}' is not a numeric {} address", t.traddr, spdk_adrfam(t)));
  const std::string& svc = t.trsvcid;
  bool digits = !svc.empty() && svc.size() <= 5 && std::all_of(svc.begin(), svc.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || std::stoul(svc) == 0 || std::stoul(svc) > 65535)
    p.fail("trsvcid", "expected a port number 1..65535");
}

json nvme_trid_json(const transport_id& t) { return trid_json(t); }

json nvme_bdev_driver_specific(const nvme_bdev& b) {
  auto table = b.paths();
  json paths = json::array();
  for (const nvme_bdev_path& p : table->paths) {
    auto st = p.path->get_status();
    json path = {{"trid", trid_json(st.trid)}};
    if (p.ctrl) {
      const identify_controller& id = p.ctrl->identity();
      uint16_t oacs = id.oacs.get();
      uint32_t ver = id.ver.get();
      std::string version = (ver & 0xff) ? fmt::format("{}.{}.{}", ver >> 16, (ver >> 8) & 0xff, ver & 0xff)
                                         : fmt::format("{}.{}", ver >> 16, (ver >> 8) & 0xff);
      path["ctrlr_data"] = {
          {"cntlid", p.ctrl->cntlid().value},
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
      path["vs"] = {{"nvme_version", version}};
    }
    json ns_data = {{"id", b.nsid().value}};
    if (st.ana_reporting) ns_data["ana_state"] = ana_state_rpc_name(p.ana);
    ns_data["can_share"] = (b.first_namespace().data.nmic & nmic_bits::shared) != 0;
    path["ns_data"] = std::move(ns_data);
    paths.push_back(std::move(path));
  }
  json out = {{"nvme", std::move(paths)}, {"mp_policy", multipath_mode_name(table->policy.mode)}};
  if (table->policy.mode == multipath_mode::active_active) {
    out["selector"] = multipath_selector_name(table->policy.selector);
    if (table->policy.selector == multipath_selector::round_robin) out["rr_min_io"] = table->policy.rr_min_io;
  }
  return out;
}

void add_bdev_nvme_methods(rpc_method_table& methods, nvme_controller_registry& controllers, reactor* mdns_loop,
                           const keys::keyring* keyring) {
  // The discovery services live as long as the method table (destroyed before the registry,
  // which its owner declares first): their handlers and the config section share them.
  auto services = std::make_shared<discovery_services>(controllers);
  // Every handler holds the registry's control token (discovery services on the control reactor share it).
  auto add = [&methods, &controllers](const char* name, std::function<result<json>(const json&)> fn) {
    methods.add(name, [&controllers, fn = std::move(fn)](const json& params) -> result<json> {
      auto control = controllers.lock_control();
      return fn(params);
    });
  };

  add_bdev_nvme_resv_methods(add, controllers);

  add("bdev_nvme_attach_controller", [&controllers, keyring](const json& params) -> result<json> {
    auto req = read_attach(params, controllers.pool().size(), controllers.defaults(), keyring);
    if (!req) return req.take_err();
    auto names = controllers.attach(std::move(req.value()));
    if (!names) return names.take_err();
    return json(*names);
  });

  add("bdev_nvme_detach_controller", [&controllers](const json& params) -> result<json> {
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
    // nvmfd's extension: whose controller (default: bdev_nvme_attach_controller's).
    auto owner = p.optional_string("owner").value_or("rpc");
    if (auto r = p.finish(); !r) return r.take_err();
    if (auto r = controllers.detach(name, f, owner); !r) return r.take_err();
    return json(true);
  });

  add("bdev_nvme_get_controllers", [&controllers](const json& params) -> result<json> {
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

  add("bdev_nvme_set_options", [&controllers](const json& params) -> result<json> {
    auto d = read_set_options(params, controllers.defaults());
    if (!d) return d.take_err();
    if (auto r = controllers.set_defaults(*d); !r) return r.take_err();
    return json(true);
  });

  add("bdev_nvme_set_multipath_policy", [&controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto mode = p.required_enum("policy", {"active_passive", "active_active"});
    auto selector = p.optional_enum("selector", {"round_robin", "queue_depth"});
    auto rr = p.optional_uint("rr_min_io", UINT32_MAX);
    if (!p.ok()) return p.finish().take_err();
    multipath_policy pol;
    pol.mode = *parse_multipath_mode(mode);
    if (selector) pol.selector = *parse_multipath_selector(*selector);
    if (rr) pol.rr_min_io = static_cast<uint32_t>(*rr);
    // SPDK's rules: a selector only for active_active, rr_min_io only for round_robin.
    if (selector && pol.mode != multipath_mode::active_active)
      p.fail("selector", "only for policy active_active");
    else if (rr && *rr == 0)
      p.fail("rr_min_io", "must be at least 1");
    else if (rr && (pol.mode != multipath_mode::active_active || pol.selector != multipath_selector::round_robin))
      p.fail("rr_min_io", "only for policy active_active with selector round_robin");
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto r = controllers.set_multipath_policy(name, pol); !r) return r.take_err();
    return json(true);
  });

  add("bdev_nvme_set_preferred_path", [&controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto cntlid = p.required_uint("cntlid", 0xffef);
    // nvmfd's extension, written by save_config: the path's address, which wins over cntlid.
    auto traddr = p.optional_string("traddr");
    auto trsvcid = p.optional_string("trsvcid");
    if (auto f = p.finish(); !f) return f.take_err();
    if (traddr && trsvcid) {
      if (auto r = controllers.set_preferred_path(name, *traddr, *trsvcid); !r) return r.take_err();
    } else if (auto r = controllers.set_preferred_path(name, cntlid_t{static_cast<uint16_t>(cntlid)}); !r) {
      return r.take_err();
    }
    return json(true);
  });

  add("bdev_nvme_get_io_paths", [&controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.optional_string("name");
    if (auto f = p.finish(); !f) return f.take_err();
    if (name && !controllers.find_bdev(*name).second)
      return error{errc::not_found, fmt::format("nvme bdev {} not found", *name)};
    // One poll group per reactor, as SPDK lists one per thread with an I/O channel; the
    // selector's view is the same on every reactor.
    json io_paths = json::array();
    for (const nvme_controller_entry* e : controllers.list())
      for (auto& b : e->bdevs) {
        if (name && b->name() != *name) continue;
        auto t = b->paths();
        for (size_t i = 0; i < t->paths.size(); ++i) io_paths.push_back(io_path_json(*b, *t, i));
      }
    json groups = json::array();
    for (unsigned r = 0; r < controllers.pool().size(); ++r)
      groups.push_back({{"thread", fmt::format("nvmf_reactor_{}", r)}, {"io_paths", io_paths}});
    return json{{"poll_groups", std::move(groups)}};
  });

  add("bdev_nvme_get_path_iostat", [&controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    if (auto f = p.finish(); !f) return f.take_err();
    auto [e, b] = controllers.find_bdev(name);
    if (!b) return error{errc::not_found, fmt::format("nvme bdev {} not found", name)};
    json stats = json::array();
    auto t = b->paths();
    for (const nvme_bdev_path& path : t->paths)
      stats.push_back({{"trid", trid_json(path.path->get_status().trid)}, {"stat", io_stat_json(path.stats->totals())}});
    return json{{"name", name}, {"stats", std::move(stats)}};
  });

  auto mdns = add_bdev_nvme_mdns_methods(methods, controllers, mdns_loop);
  methods.add_config_section({"bdev_nvme", {"keyring"}, [&controllers, services, mdns] {
                                auto control = controllers.lock_control();
                                json calls = json::array();
                                calls.push_back(set_options_call(controllers.defaults()));
                                for (const nvme_controller_entry* e : controllers.list())
                                  controller_calls(*e, controllers.defaults(), calls);
                                // QoS limits of their bdevs, once the attach calls made them.
                                for (const nvme_controller_entry* e : controllers.list())
                                  for (auto& b : e->bdevs)
                                    if (json c = qos_limit_call(*b); !c.is_null()) calls.push_back(std::move(c));
                                // Discovery services bring their controllers back themselves.
                                for (auto& c : discovery_calls(*services)) calls.push_back(std::move(c));
                                for (auto& c : mdns_discovery_calls(*mdns)) calls.push_back(std::move(c));
                                return calls;
                              }});
  add_bdev_nvme_discovery_methods(methods, controllers, services,
                                  [mdns](json& out) { append_mdns_discovery_info(*mdns, out); });
}

}  // namespace nvmfd
