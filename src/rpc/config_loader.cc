#include "rpc/config_loader.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/log.h"
#include "config/spdk_only_methods.h"

namespace nvmfd {

namespace {

struct call {
  std::string method;
  json params;  // null when absent
};

struct section_calls {
  std::string name;
  const config_section* known;  // nullptr: not in the table
  std::vector<call> calls;
};

std::string compact(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

result<void> parse_call(const json& elem, const std::string& where, std::vector<call>& out) {
  if (elem.is_array()) {  // an SPDK batch
    for (size_t i = 0; i < elem.size(); ++i) {
      auto r = parse_call(elem[i], fmt::format("{}[{}]", where, i), out);
      if (!r) return r;
    }
    return success();
  }
  if (!elem.is_object()) {
    return error{errc::invalid_argument, fmt::format("{}: expected an object", where)};
  }
  auto m = elem.find("method");
  if (m == elem.end() || !m->is_string()) {
    return error{errc::invalid_argument, fmt::format("{}: no \"method\" string", where)};
  }
  auto p = elem.find("params");
  json params;
  if (p != elem.end() && !p->is_null()) {
    if (!p->is_object()) {
      return error{errc::invalid_argument,
                   fmt::format("{} ({}): \"params\" must be an object", where, m->get<std::string>())};
    }
    params = *p;
  }
  out.push_back({m->get<std::string>(), std::move(params)});
  return success();
}

result<std::vector<section_calls>> parse_sections(const json& config,
                                                  const rpc_method_table& methods) {
  if (!config.is_object()) {
    return error{errc::invalid_argument, "config: expected an object with a \"subsystems\" array"};
  }
  auto subs = config.find("subsystems");
  if (subs == config.end() || !subs->is_array()) {
    return error{errc::invalid_argument, "config: no \"subsystems\" array"};
  }
  std::vector<section_calls> out;
  for (size_t i = 0; i < subs->size(); ++i) {
    const json& s = (*subs)[i];
    std::string where = fmt::format("subsystems[{}]", i);
    auto name = s.is_object() ? s.find("subsystem") : s.end();
    if (!s.is_object() || name == s.end() || !name->is_string()) {
      return error{errc::invalid_argument, where + ": no \"subsystem\" name"};
    }
    section_calls sc{name->get<std::string>(), nullptr, {}};
    sc.known = methods.find_config_section(sc.name);
    auto cfg = s.find("config");
    if (cfg != s.end() && !cfg->is_null()) {
      if (!cfg->is_array()) {
        return error{errc::invalid_argument,
                     fmt::format("{} ({}): \"config\" must be an array", where, sc.name)};
      }
      for (size_t j = 0; j < cfg->size(); ++j) {
        auto r = parse_call((*cfg)[j], fmt::format("{} ({}).config[{}]", where, sc.name, j),
                            sc.calls);
        if (!r) return r.take_err();
      }
    }
    if (!sc.calls.empty()) out.push_back(std::move(sc));
  }
  return out;
}

}  // namespace

std::vector<const config_section*> ordered_config_sections(const rpc_method_table& methods) {
  const auto& all = methods.config_sections();
  std::vector<const config_section*> out;
  std::vector<bool> placed(all.size(), false);
  auto is_placed = [&](const std::string& name) {
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].name == name) return bool(placed[i]);
    }
    return true;  // not in the table: nothing to wait for
  };
  while (out.size() < all.size()) {
    bool progress = false;
    for (size_t i = 0; i < all.size(); ++i) {
      if (placed[i]) continue;
      if (std::all_of(all[i].depends_on.begin(), all[i].depends_on.end(), is_placed)) {
        placed[i] = true;
        out.push_back(&all[i]);
        progress = true;
        break;  // restart: keep registration order among the ready ones
      }
    }
    if (!progress) {  // a cycle: take the first remaining one
      auto i = static_cast<size_t>(std::find(placed.begin(), placed.end(), false) - placed.begin());
      NVMFD_LOG_ERROR("config: dependency cycle through section '{}'", all[i].name);
      placed[i] = true;
      out.push_back(&all[i]);
    }
  }
  return out;
}

result<void> load_config(const json& config, const rpc_method_table& methods,
                         const load_config_options& options) {
  auto parsed = parse_sections(config, methods);
  if (!parsed) return parsed.take_err();
  std::vector<section_calls>& sections = *parsed;

  // Every method is checked before anything runs: SPDK's tuning methods are dropped with one
  // warning each, and all the others nvmfd lacks are named together.
  std::map<std::string, size_t> ignored;  // SPDK-only method -> calls dropped
  std::vector<std::string> refused;       // "'method' (section 'name')", file order, once each
  for (auto& s : sections) {
    std::erase_if(s.calls, [&](const call& c) {
      if (methods.find(c.method)) return false;
      if (options.accept_spdk_only_methods && find_spdk_only_method(c.method)) {
        ++ignored[c.method];
        return true;
      }
      std::string what = fmt::format("'{}' (section '{}')", c.method, s.name);
      if (std::find(refused.begin(), refused.end(), what) == refused.end()) refused.push_back(what);
      return true;
    });
  }
  if (!refused.empty()) {
    return error{errc::not_supported,
                 fmt::format("config: nvmfd does not support {} {}; nothing was applied "
                             "(docs/spdk-migration.md)",
                             refused.size() == 1 ? "method" : "methods", fmt::join(refused, ", "))};
  }
  for (const auto& [name, count] : ignored) {
    NVMFD_LOG_WARN("config: ignoring SPDK's {} ({} call{}): {}", name, count, count == 1 ? "" : "s",
                   find_spdk_only_method(name)->reason);
  }

  auto order = ordered_config_sections(methods);
  auto rank = [&](const section_calls& s) -> size_t {
    if (!s.known) return 0;
    return 1 + static_cast<size_t>(std::find(order.begin(), order.end(), s.known) - order.begin());
  };
  std::stable_sort(sections.begin(), sections.end(),
                   [&](const auto& a, const auto& b) { return rank(a) < rank(b); });

  for (const auto& s : sections) {
    for (const auto& c : s.calls) {
      auto run = [&]() -> result<json> {
        try {
          return (*methods.find(c.method))(c.params);
        } catch (const std::exception& e) {
          return error{errc::io_error, fmt::format("internal error: {}", e.what())};
        }
      };
      result<json> r = run();
      if (!r) {
        error e = r.take_err();
        e.message = fmt::format("config: {} {} failed: {}", c.method,
                                c.params.is_null() ? "{}" : compact(c.params), e.message);
        if (options.warn_only_methods.count(c.method)) {
          NVMFD_LOG_WARN("{} (going on without it)", e.message);
          continue;
        }
        return e;
      }
    }
  }
  return success();
}

result<json> read_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int e = errno;
    error err = error::from_errno(e, fmt::format("cannot read config file {}", path));
    if (e == ENOENT) err.code = errc::not_found;
    return err;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return error::from_errno(errno, fmt::format("cannot read config file {}", path));
  try {
    return json::parse(text.str(), nullptr, true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    std::string_view w = e.what();
    if (auto p = w.find("] "); p != std::string_view::npos) w.remove_prefix(p + 2);
    return error{errc::invalid_argument, fmt::format("{}: {}", path, w)};
  }
}

json save_config(const rpc_method_table& methods) {
  json subsystems = json::array();
  for (const config_section* s : ordered_config_sections(methods)) {
    json cfg = s->get_config ? s->get_config() : json::array();
    if (!cfg.is_array()) cfg = json::array();
    subsystems.push_back({{"subsystem", s->name}, {"config", std::move(cfg)}});
  }
  return {{"subsystems", std::move(subsystems)}};
}

}  // namespace nvmfd
