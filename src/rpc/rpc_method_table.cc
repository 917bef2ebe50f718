#include "rpc/rpc_method_table.h"

#include <cassert>
#include <cerrno>

namespace nvmfd {

void rpc_method_table::add(const std::string& name, rpc_handler h) {
  assert(h);
  methods_[name] = std::move(h);
}

const rpc_handler* rpc_method_table::find(const std::string& name) const {
  auto it = methods_.find(name);
  return it == methods_.end() ? nullptr : &it->second;
}

std::vector<std::string> rpc_method_table::names() const {
  std::vector<std::string> out;
  out.reserve(methods_.size());
  for (const auto& [name, h] : methods_) out.push_back(name);
  return out;
}

void rpc_method_table::add_config_section(config_section s) {
  assert(find_config_section(s.name) == nullptr);
  sections_.push_back(std::move(s));
}

const config_section* rpc_method_table::find_config_section(const std::string& name) const {
  for (const auto& s : sections_) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

void rpc_method_table::prepend_config(const std::string& name, std::function<json()> calls) {
  for (auto& s : sections_) {
    if (s.name != name) continue;
    s.get_config = [first = std::move(calls), rest = std::move(s.get_config)] {
      json out = first();
      for (auto& c : rest()) out.push_back(c);
      return out;
    };
    return;
  }
  assert(!"prepend_config: no such section");
}

int rpc_error_code(const error& e) {
  switch (e.code) {
    case errc::invalid_argument: return rpc_error_invalid_params;
    case errc::not_found: return -ENODEV;
    default: return e.sys_errno > 0 ? -e.sys_errno : rpc_error_internal;
  }
}

}  // namespace nvmfd
