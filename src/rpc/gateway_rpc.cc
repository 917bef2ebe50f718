#include "rpc/gateway_rpc.h"

#include <fmt/format.h>

#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

using gateway::gateway_runner;
using gateway::runner_params;

// ana_groups: [anagrpid | {anagrpid, home}], each 1..UINT32_MAX-1 once.
void read_ana_groups(param_reader& p, gateway::group_config& g) {
  const json* a = p.required_array("ana_groups");
  if (!a) return;
  if (a->empty()) return p.fail("ana_groups", "must name at least one ANA group");
  for (auto& e : *a) {
    uint64_t id = 0;
    std::string home;
    if (e.is_number_unsigned()) {
      id = e.get<uint64_t>();
    } else if (e.is_object() && e.contains("anagrpid") && e["anagrpid"].is_number_unsigned()) {
      id = e["anagrpid"].get<uint64_t>();
      if (auto h = e.find("home"); h != e.end()) {
        if (!h->is_string() || h->get<std::string>().empty()) return p.fail("ana_groups", "home: expected a gateway_id");
        home = h->get<std::string>();
      }
      for (auto& [k, v] : e.items())
        if (k != "anagrpid" && k != "home") return p.fail("ana_groups", fmt::format("unknown key {}", k));
    } else {
      return p.fail("ana_groups", "expected an ANA group id or {anagrpid, home}");
    }
    if (id == 0 || id >= UINT32_MAX) return p.fail("ana_groups", fmt::format("anagrpid {} out of range", id));
    auto g32 = static_cast<uint32_t>(id);
    if (std::find(g.ana_groups.begin(), g.ana_groups.end(), g32) != g.ana_groups.end())
      return p.fail("ana_groups", fmt::format("ANA group {} listed twice", id));
    g.ana_groups.push_back(g32);
    if (!home.empty()) g.home[g32] = home;
  }
}

json ana_groups_param(const gateway::group_config& g) {
  json out = json::array();
  for (uint32_t id : g.ana_groups) {
    auto h = g.home.find(id);
    if (h == g.home.end())
      out.push_back(id);
    else
      out.push_back({{"anagrpid", id}, {"home", h->second}});
  }
  return out;
}

json create_params(const gateway_runner& r) {
  const auto& p = r.params();
  return {{"name", p.group.name},           {"gateway_id", p.group.gateway_id}, {"cluster_name", p.cluster_name},
          {"pool_name", p.pool},            {"ana_groups", ana_groups_param(p.group)},
          {"failback", p.group.failback}, {"lease_ms", p.group.lease.count()}};
}

json group_json(const gateway_runner& r) {
  json j = create_params(r);
  auto v = r.group().view();
  j["fenced"] = v.fenced;
  j["last_error"] = v.last_error;
  json members = json::array();
  for (auto& m : v.members) members.push_back({{"gateway_id", m.gateway_id}, {"address", m.address}});
  j["members"] = members;
  json groups = json::array();
  for (auto& g : v.groups)
    groups.push_back({{"anagrpid", g.anagrpid},
                      {"owner", g.owner},
                      {"home", g.home},
                      {"requested", g.requested},
                      {"ana_state", std::string(ana_state_rpc_name(g.shown))}});
  j["ana_groups"] = groups;
  return j;
}

bool valid_id(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; });
}

}  // namespace

void add_gateway_methods(rpc_method_table& m, gateway::gateway_registry& gateways, rbd_cluster_registry& clusters,
                         nvmf_target& target) {
  m.add("nvmf_gateway_group_create", [&gateways, &clusters, &target](const json& params) -> result<json> {
    param_reader p(params);
    runner_params rp;
    rp.group.name = p.required_string("name");
    rp.group.gateway_id = p.required_string("gateway_id");
    rp.cluster_name = p.required_string("cluster_name");
    rp.pool = p.optional_string("pool_name").value_or("rbd");
    read_ana_groups(p, rp.group);
    rp.group.failback = p.optional_bool("failback").value_or(false);
    rp.group.lease = std::chrono::milliseconds(p.optional_uint("lease_ms", 600000).value_or(10000));
    if (p.ok() && !valid_id(rp.group.name)) p.fail("name", "1-64 characters of [A-Za-z0-9._-]");
    if (p.ok() && !valid_id(rp.group.gateway_id)) p.fail("gateway_id", "1-64 characters of [A-Za-z0-9._-]");
    if (p.ok() && rp.group.lease < std::chrono::milliseconds(4000)) p.fail("lease_ms", "must be 4000..600000");
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto c = gateways.check(rp.group); !c) return c.take_err();
    auto c = clusters.find(rp.cluster_name);
    if (!c)
      return error{errc::not_found,
                   fmt::format("cluster {} is not registered (bdev_rbd_register_cluster)", rp.cluster_name)};
    auto r = gateway_runner::create(std::move(rp), *c, target);
    if (!r) return r.take_err();
    if (auto a = gateways.add(std::move(r.value())); !a) return a.take_err();
    return json(true);
  });
  m.add("nvmf_gateway_group_delete", [&gateways](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto r = gateways.remove(name); !r) return r.take_err();
    return json(true);
  });
  m.add("nvmf_gateway_group_get", [&gateways](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.optional_string("name");
    if (auto f = p.finish(); !f) return f.take_err();
    json out = json::array();
    if (name) {
      auto* r = gateways.find(*name);
      if (!r) return error{errc::not_found, fmt::format("gateway group {} not found", *name)};
      out.push_back(group_json(*r));
      return out;
    }
    for (auto* r : gateways.list()) out.push_back(group_json(*r));
    return out;
  });
  m.add("nvmf_gateway_group_move", [&gateways](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto g = static_cast<uint32_t>(p.required_uint("anagrpid", UINT32_MAX - 1));
    auto to = p.required_string("gateway_id");
    if (auto f = p.finish(); !f) return f.take_err();
    auto* r = gateways.find(name);
    if (!r) return error{errc::not_found, fmt::format("gateway group {} not found", name)};
    if (auto mv = r->move(g, to); !mv) return mv.take_err();
    return json(true);
  });
  m.add_config_section({"nvmf_gateway", {"bdev"}, [&gateways] {
                          json calls = json::array();
                          for (auto* r : gateways.list())
                            calls.push_back({{"method", "nvmf_gateway_group_create"}, {"params", create_params(*r)}});
                          return calls;
                        }});
}

}  // namespace nvmfd
