#include "rpc/bdev_nvme_discovery_rpc.h"

#include <arpa/inet.h>

#include <algorithm>
#include <fmt/format.h>

#include "proto/nqn.h"
#include "rpc/bdev_nvme_rpc.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

result<discovery_service_params> read_start(const json& params, const nvme_host_defaults& d) {
  param_reader p(params);
  discovery_service_params s;
  s.name = p.required_string("name");
  auto trtype = p.required_string("trtype");
  s.trid.traddr = p.required_string("traddr");
  auto adrfam = p.optional_string("adrfam").value_or("IPv4");
  s.trid.trsvcid = p.optional_string("trsvcid").value_or("8009");
  auto hostnqn = p.optional_string("hostnqn");
  s.wait_for_attach = p.optional_bool("wait_for_attach").value_or(false);
  s.attach_timeout_ms = p.optional_uint("attach_timeout_ms").value_or(0);
  s.reconnect = d.reconnect;
  if (auto v = p.optional_int("ctrlr_loss_timeout_sec", -1, INT32_MAX)) s.reconnect.ctrlr_loss_timeout_sec = static_cast<int32_t>(*v);
  if (auto v = p.optional_uint("reconnect_delay_sec", UINT32_MAX)) s.reconnect.reconnect_delay_sec = static_cast<uint32_t>(*v);
  if (auto v = p.optional_uint("fast_io_fail_timeout_sec", UINT32_MAX)) s.reconnect.fast_io_fail_timeout_sec = static_cast<uint32_t>(*v);
  if (!p.ok()) return p.finish().take_err();
  if (s.name.empty()) p.fail("name", "must not be empty");
  check_tcp_address(p, trtype, adrfam, s.trid);
  s.trid.subnqn = std::string(discovery_nqn);
  s.opts.kato_ms = d.keep_alive_timeout_ms;
  s.opts.io_timeout_ms = d.io_timeout_ms;
  if (hostnqn) {
    if (auto v = validate_nqn(*hostnqn); !v) p.fail("hostnqn", v.err().message);
    s.opts.hostnqn = *hostnqn;
  }
  if (auto f = p.finish(); !f) return f.take_err();
  return s;
}

}  // namespace

json discovery_calls(const discovery_services& services) {
  json calls = json::array();
  for (auto& [name, s] : services.by_name()) {
    const discovery_service_params& p = s->params();
    json params = {{"name", name}};
    params.update({{"trtype", "TCP"}, {"adrfam", spdk_adrfam(p.trid)}, {"traddr", p.trid.traddr},
                   {"trsvcid", p.trid.trsvcid}});
    if (!p.opts.hostnqn.empty()) params["hostnqn"] = p.opts.hostnqn;
    params["wait_for_attach"] = false;  // at load time the targets may not be up yet
    params["ctrlr_loss_timeout_sec"] = p.reconnect.ctrlr_loss_timeout_sec;
    params["reconnect_delay_sec"] = p.reconnect.reconnect_delay_sec;
    params["fast_io_fail_timeout_sec"] = p.reconnect.fast_io_fail_timeout_sec;
    calls.push_back({{"method", "bdev_nvme_start_discovery"}, {"params", std::move(params)}});
  }
  return calls;
}

json discovery_info_json(const std::string& name, const discovery_service& s) {
  auto i = s.get_info();
  json refs = json::array();
  for (auto& r : i.referrals) {
    transport_id t = r;
    if (t.subnqn.empty()) t.subnqn = std::string(discovery_nqn);
    refs.push_back({{"trid", nvme_trid_json(t)}});
  }
  json entry = {{"name", name}, {"trid", nvme_trid_json(i.trid)}, {"referrals", std::move(refs)}};
  // nvmfd's additions: what it attached and whether its discovery controller is connected.
  entry["controllers"] = i.controllers;
  entry["connected"] = i.connected;
  if (!i.last_error.empty() && !i.connected) entry["last_error"] = i.last_error;
  return entry;
}

void add_bdev_nvme_discovery_methods(rpc_method_table& methods, nvme_controller_registry& controllers,
                                     std::shared_ptr<discovery_services> shared,
                                     std::function<void(json&)> more_info) {
  methods.add("bdev_nvme_start_discovery", [&controllers, shared](const json& params) -> result<json> {
    auto p = read_start(params, controllers.defaults());
    if (!p) return p.take_err();
    if (auto r = shared->start(std::move(p.value())); !r) return r.take_err();
    return json(true);
  });

  methods.add("bdev_nvme_stop_discovery", [shared](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto r = shared->stop(name); !r) return r.take_err();
    return json(true);
  });

  methods.add("bdev_nvme_get_discovery_info", [&controllers, shared, more_info](const json& params) -> result<json> {
    discovery_services& services = *shared;
    param_reader p(params);
    if (auto f = p.finish(); !f) return f.take_err();
    auto control = controllers.lock_control();
    json out = json::array();
    for (auto& [name, s] : services.by_name()) out.push_back(discovery_info_json(name, *s));
    if (more_info) more_info(out);
    return out;
  });

  methods.add("bdev_nvme_disconnect", [&controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto subnqn = p.optional_string("subnqn");
    auto traddr = p.optional_string("traddr");
    auto trsvcid = p.optional_string("trsvcid");
    auto owner = p.optional_string("owner");
    bool force = p.optional_bool("force").value_or(false);
    if (!p.ok()) return p.finish().take_err();
    if (!subnqn && !force)
      p.fail("subnqn", "required: disconnecting every subsystem needs force (nvmfctl disconnect --all --force)");
    if (auto f = p.finish(); !f) return f.take_err();
    auto control = controllers.lock_control();
    nvme_controller_registry::path_match m;
    m.subnqn = subnqn;
    m.traddr = traddr;
    m.trsvcid = trsvcid;
    if (owner) m.owner = *owner;
    else if (!force) m.owner = "rpc";
    auto gone = controllers.detach_matching(m);
    if (!gone) return gone.take_err();
    json out = json::array();
    for (auto& g : *gone) out.push_back(g);
    return json{{"detached", std::move(out)}};
  });
}

}  // namespace nvmfd
