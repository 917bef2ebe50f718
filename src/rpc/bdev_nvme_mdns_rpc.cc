// bdev_nvme_start_mdns_discovery / bdev_nvme_stop_mdns_discovery /
// bdev_nvme_get_mdns_discovery_info (SPDK's names, params and result shape): parse, call
// discovery/mdns_discovery.h, format.
#include "rpc/bdev_nvme_mdns_rpc.h"

#include <fmt/format.h>
#include <map>

#include "discovery/mdns_discovery.h"
#include "proto/nqn.h"
#include "rpc/bdev_nvme_discovery_rpc.h"
#include "rpc/bdev_nvme_rpc.h"
#include "rpc/param_reader.h"

namespace nvmfd {

struct mdns_discoveries {
  // Stops each discovery before letting it go (mdns_discovery.h); the registry's control lock
  // is not needed here: the table goes when nothing else runs.
  ~mdns_discoveries() {
    for (auto& [name, d] : by_name) d->stop();
  }
  std::map<std::string, std::shared_ptr<mdns_discovery>> by_name;
};

json mdns_discovery_calls(const mdns_discoveries& all) {
  json calls = json::array();
  for (auto& [name, d] : all.by_name) {
    json params = {{"name", name}, {"svcname", d->params().svcname}};
    if (!d->params().hostnqn.empty()) params["hostnqn"] = d->params().hostnqn;
    calls.push_back({{"method", "bdev_nvme_start_mdns_discovery"}, {"params", std::move(params)}});
  }
  return calls;
}

void append_mdns_discovery_info(const mdns_discoveries& all, json& out) {
  for (auto& [name, d] : all.by_name)
    d->for_each_service([&](const std::string&, const discovery_service& s) {
      out.push_back(discovery_info_json(s.params().name, s));
    });
}

namespace {

json info_of(const mdns_discovery& d) {
  json refs = json::array();
  d.for_each_service([&](const std::string&, const discovery_service& s) {
    transport_id t = s.params().trid;
    refs.push_back({{"name", s.params().name}, {"trid", nvme_trid_json(t)}});
  });
  return {{"name", d.params().name}, {"svcname", d.params().svcname}, {"referrals", std::move(refs)}};
}

}  // namespace

std::shared_ptr<mdns_discoveries> add_bdev_nvme_mdns_methods(rpc_method_table& m, nvme_controller_registry& controllers,
                                                             reactor* loop) {
  auto all = std::make_shared<mdns_discoveries>();
  m.add("bdev_nvme_start_mdns_discovery", [all, &controllers, loop](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto svcname = p.required_string("svcname");
    auto hostnqn = p.optional_string("hostnqn");
    if (!p.ok()) return p.finish().take_err();
    if (name.empty()) p.fail("name", "must not be empty");
    if (svcname != "_nvme-disc._tcp") p.fail("svcname", "only _nvme-disc._tcp (TP8009) is browsed");
    if (hostnqn)
      if (auto v = validate_nqn(*hostnqn); !v) p.fail("hostnqn", v.err().message);
    if (auto f = p.finish(); !f) return f.take_err();
    auto control = controllers.lock_control();
    if (all->by_name.count(name))
      return error{errc::already_exists, fmt::format("mDNS discovery {} already exists", name), EEXIST};
    if (!loop) return error{errc::io_error, "mDNS unavailable: no event loop for Avahi", ECONNREFUSED};
    auto d = mdns_discovery::start(*loop, controllers, {name, svcname, hostnqn.value_or("")}, avahi_browsers(*loop));
    if (!d) return d.take_err();
    all->by_name.emplace(name, std::move(d.value()));
    return json(true);
  });
  m.add("bdev_nvme_stop_mdns_discovery", [all, &controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    if (auto f = p.finish(); !f) return f.take_err();
    auto control = controllers.lock_control();
    auto it = all->by_name.find(name);
    if (it == all->by_name.end()) return error{errc::not_found, fmt::format("mDNS discovery {} not found", name)};
    auto d = std::move(it->second);
    all->by_name.erase(it);
    d->stop();
    return json(true);
  });
  m.add("bdev_nvme_get_mdns_discovery_info", [all, &controllers](const json& params) -> result<json> {
    param_reader p(params);
    if (auto f = p.finish(); !f) return f.take_err();
    auto control = controllers.lock_control();
    json out = json::array();
    for (auto& [name, d] : all->by_name) out.push_back(info_of(*d));
    return out;
  });
  return all;
}

}  // namespace nvmfd
