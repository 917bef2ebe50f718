#include "rpc/framework_methods.h"

#include <cstdio>

#include <fmt/format.h>

#include "rpc/config_loader.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

result<json> rpc_get_methods(const rpc_method_table& methods, const json& params) {
  param_reader p(params);
  bool current = p.optional_bool("current").value_or(false);
  p.optional_bool("include_aliases");  // nvmfd has no aliases
  if (auto r = p.finish(); !r) return r.take_err();
  json out = json::array();
  for (const auto& name : methods.names()) {
    if (current && name == "framework_start_init") continue;
    out.push_back(name);
  }
  return out;
}

result<json> framework_get_subsystems(const rpc_method_table& methods, const json& params) {
  param_reader p(params);
  if (auto r = p.finish(); !r) return r.take_err();
  json out = json::array();
  for (const config_section* s : ordered_config_sections(methods)) {
    out.push_back({{"subsystem", s->name}, {"depends_on", s->depends_on}});
  }
  return out;
}

void flatten_into(json& out, const json& elem) {
  if (!elem.is_array()) {
    out.push_back(elem);
    return;
  }
  for (const auto& e : elem) flatten_into(out, e);
}

result<json> framework_get_config(const rpc_method_table& methods, const json& params) {
  param_reader p(params);
  std::string name = p.required_string("name");
  bool with_batches = p.optional_bool("with_batches").value_or(false);
  if (auto r = p.finish(); !r) return r.take_err();
  const config_section* s = methods.find_config_section(name);
  if (!s) return error{errc::invalid_argument, fmt::format("Subsystem '{}' not found", name)};
  json cfg = s->get_config ? s->get_config() : json::array();
  if (!cfg.is_array()) return json::array();
  if (with_batches) return cfg;
  json flat = json::array();
  for (const auto& e : cfg) flatten_into(flat, e);
  return flat;
}

result<json> no_params_true(const json& params) {
  param_reader p(params);
  if (auto r = p.finish(); !r) return r.take_err();
  return json(true);
}

result<json> spdk_get_version(const json& params) {
  param_reader p(params);
  if (auto r = p.finish(); !r) return r.take_err();
  unsigned major = 0, minor = 0, patch = 0;
  std::sscanf(nvmfd_version, "%u.%u.%u", &major, &minor, &patch);
  return json{{"version", fmt::format("nvmfd v{}", nvmfd_version)},
              {"fields", {{"major", major}, {"minor", minor}, {"patch", patch}, {"suffix", ""}}}};
}

}  // namespace

void add_framework_methods(rpc_method_table& methods) {
  const rpc_method_table& m = methods;
  methods.add("rpc_get_methods", [&m](const json& p) { return rpc_get_methods(m, p); });
  methods.add("framework_get_subsystems",
              [&m](const json& p) { return framework_get_subsystems(m, p); });
  methods.add("framework_get_config", [&m](const json& p) { return framework_get_config(m, p); });
  methods.add("framework_start_init", no_params_true);
  methods.add("framework_wait_init", no_params_true);
  methods.add("spdk_get_version", spdk_get_version);
}

}  // namespace nvmfd
