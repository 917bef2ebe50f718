#include "rpc/log_rpc.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <string>
#include <utility>

#include "base/log.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

using level = spdlog::level::level_enum;

constexpr std::array<std::pair<const char*, level>, 5> spdk_levels{{{"ERROR", level::err},
                                                                   {"WARNING", level::warn},
                                                                   {"NOTICE", level::info},
                                                                   {"INFO", level::info},
                                                                   {"DEBUG", level::debug}}};

std::mutex last_mu;
std::string last_set;  // the SPDK name last set, guarded by last_mu

result<json> set_level(const json& params) {
  param_reader p(params);
  auto name = p.required_string("level");
  if (auto r = p.finish(); !r) return r.take_err();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  auto it = std::find_if(spdk_levels.begin(), spdk_levels.end(), [&](auto& l) { return name == l.first; });
  if (it == spdk_levels.end())
    return error{errc::invalid_argument, "level: expected one of ERROR, WARNING, NOTICE, INFO, DEBUG, got " + name};
  spdlog::set_level(it->second);
  std::lock_guard lk(last_mu);
  last_set = it->first;
  return json(true);
}

result<json> get_level(const json& params) {
  param_reader p(params);
  if (auto r = p.finish(); !r) return r.take_err();
  level now = spdlog::get_level();
  std::lock_guard lk(last_mu);
  for (auto& [n, l] : spdk_levels)
    if (last_set == n && l == now) return json(last_set);
  switch (now) {
    case level::trace:
    case level::debug: return json("DEBUG");
    case level::info: return json("INFO");
    case level::warn: return json("WARNING");
    default: return json("ERROR");
  }
}

}  // namespace

void add_log_methods(rpc_method_table& m) {
  m.add("log_set_level", set_level);
  m.add("log_get_level", get_level);
  m.add("log_set_print_level", set_level);
  m.add("log_get_print_level", get_level);
}

}  // namespace nvmfd
