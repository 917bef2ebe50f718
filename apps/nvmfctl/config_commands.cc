#include "config_commands.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sys/stat.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/spdk_only_methods.h"

namespace nvmfd::ctl {

namespace {

int fail(const std::string& msg) {
  std::cerr << "nvmfctl: " << msg << "\n";
  return 1;
}

// Calls `method`, printing any failure; nullopt on failure.
std::optional<json> must_call(rpc_client& client, const std::string& method, const json& params) {
  auto r = client.call(method, params);
  if (!r) {
    fail(r.err().message);
    return std::nullopt;
  }
  if (!r->ok()) {
    print_rpc_error(method, r->error);
    return std::nullopt;
  }
  return r->result;
}

bool contains(const json& list, const std::string& name) {
  return list.is_array() && std::find(list.begin(), list.end(), json(name)) != list.end();
}

// The text of the config: "-" or "" is stdin, an existing path is read, else JSON text itself.
std::optional<std::string> read_input(const std::string& src) {
  if (src.empty() || src == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), {});
  }
  struct stat st {};
  if (::stat(src.c_str(), &st) != 0 && src.starts_with('{')) return src;
  std::ifstream in(src, std::ios::binary);
  if (!in) {
    fail(fmt::format("cannot read {}: {}", src, std::strerror(errno)));
    return std::nullopt;
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string describe(const json& elem) {
  if (elem.is_array()) {
    std::string s = "batch [";
    for (size_t i = 0; i < elem.size(); ++i) s += (i ? ", " : "") + describe(elem[i]);
    return s + "]";
  }
  return elem.is_object() && elem.contains("method") && elem["method"].is_string()
             ? elem["method"].get<std::string>()
             : elem.dump();
}

}  // namespace

void print_rpc_error(const std::string& what, const json& error) {
  std::cerr << "nvmfctl: " << what << " failed:\n" << error.dump(2) << "\n";
}

int save_config_command(rpc_client& client, const std::vector<std::string>& args) {
  std::string out_file, only;
  int indent = 2;
  bool with_batches = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool has_next = i + 1 < args.size();
    if ((a == "-o" || a == "--output") && has_next) {
      out_file = args[++i];
    } else if ((a == "-i" || a == "--indent") && has_next) {
      try {
        indent = std::stoi(args[++i]);
      } catch (const std::exception&) {
        return fail(fmt::format("save_config: bad indent '{}'", args[i]));
      }
    } else if ((a == "-s" || a == "--subsystems") && has_next) {
      only = args[++i];
    } else if (a == "--with-batches" || a == "--no-with-batches") {
      with_batches = a == "--with-batches";
    } else {
      return fail(fmt::format("save_config: unexpected argument '{}'", a));
    }
  }

  auto subs = must_call(client, "framework_get_subsystems", json());
  if (!subs) return 1;
  // Each subsystem with its dependencies, transitively (listed in dependency order).
  std::map<std::string, std::set<std::string>> deps;
  for (const auto& s : *subs) {
    std::string name = s.value("subsystem", "");
    deps[name].insert(name);
    for (const auto& d : s.value("depends_on", json::array())) {
      const auto& dd = deps[d.get<std::string>()];
      deps[name].insert(dd.begin(), dd.end());
    }
  }
  std::set<std::string> wanted;
  for (size_t pos = 0; !only.empty() && pos != std::string::npos;) {
    size_t comma = only.find(',', pos);
    std::string name = only.substr(pos, comma == std::string::npos ? comma : comma - pos);
    if (!deps.count(name)) return fail(fmt::format("save_config: no subsystem '{}'", name));
    wanted.insert(deps[name].begin(), deps[name].end());
    pos = comma == std::string::npos ? comma : comma + 1;
  }

  json config = {{"subsystems", json::array()}};
  for (const auto& s : *subs) {
    std::string name = s.value("subsystem", "");
    if (!only.empty() && !wanted.count(name)) continue;
    auto cfg = must_call(client, "framework_get_config",
                         {{"name", name}, {"with_batches", with_batches}});
    if (!cfg) return 1;
    config["subsystems"].push_back({{"subsystem", name}, {"config", *cfg}});
  }
  std::string text = config.dump(indent < 0 ? -1 : indent) + "\n";
  if (out_file.empty() || out_file == "-") {
    std::cout << text;
    return std::cout.good() ? 0 : 1;
  }
  std::ofstream out(out_file, std::ios::binary | std::ios::trunc);
  if (!(out << text) || !out.flush()) {
    return fail(fmt::format("cannot write {}: {}", out_file, std::strerror(errno)));
  }
  return 0;
}

int load_config_command(rpc_client& client, const std::vector<std::string>& args) {
  std::string src;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool next_is_value = i + 1 < args.size() && !args[i + 1].starts_with("-");
    if ((a == "-j" || a == "--json-conf") && i + 1 < args.size()) {
      src = args[++i];
    } else if (a == "-i" || a == "--include-aliases") {
      if (next_is_value) src = args[++i];
    } else if (a == "-" || !a.starts_with("-")) {
      src = a;
    } else {
      return fail(fmt::format("load_config: unexpected argument '{}'", a));
    }
  }
  auto text = read_input(src);
  if (!text) return 1;
  json config;
  try {
    config = json::parse(*text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    return fail(fmt::format("load_config: {}: {}", src.empty() ? "stdin" : src, e.what()));
  }
  if (!config.is_object() || !config.contains("subsystems") || !config["subsystems"].is_array()) {
    return fail("load_config: no \"subsystems\" array in the configuration");
  }

  // (subsystem, element) in file order, sections with an empty config dropped.
  std::vector<std::pair<std::string, json>> todo;
  for (const auto& s : config["subsystems"]) {
    if (!s.is_object() || !s.contains("config") || !s["config"].is_array()) continue;
    for (const auto& elem : s["config"]) todo.emplace_back(s.value("subsystem", "?"), elem);
  }

  auto allowed = must_call(client, "rpc_get_methods", {{"include_aliases", false}});
  if (!allowed) return 1;
  if (todo.empty()) {
    if (contains(*allowed, "framework_start_init") &&
        !must_call(client, "framework_start_init", json())) {
      return 1;
    }
    return 0;
  }
  // SPDK's tuning methods are dropped (one warning each); every other method nvmfd lacks is
  // named, all of them, before anything is called.
  std::map<std::string, size_t> ignored;
  std::vector<std::string> unknown;
  for (auto& [sub, elem] : todo) {
    json items = elem.is_array() ? elem : json::array({elem});
    json kept = json::array();
    for (const auto& item : items) {
      bool has_method = item.is_object() && item.contains("method") && item["method"].is_string();
      std::string method = has_method ? item["method"].get<std::string>() : "";
      if (has_method && contains(*allowed, method)) {
        kept.push_back(item);
      } else if (has_method && find_spdk_only_method(method)) {
        ++ignored[method];
      } else {
        unknown.push_back(fmt::format("{} in subsystem '{}'", describe(item), sub));
      }
    }
    elem = elem.is_array() ? kept : (kept.empty() ? json() : kept[0]);
  }
  if (!unknown.empty()) {
    return fail(fmt::format("load_config: unknown method{} {} of the configuration; nothing was applied",
                            unknown.size() == 1 ? "" : "s", fmt::join(unknown, ", ")));
  }
  std::erase_if(todo, [](const auto& t) { return t.second.is_null() || (t.second.is_array() && t.second.empty()); });
  for (const auto& [method, n] : ignored) {
    std::cerr << fmt::format("nvmfctl: load_config: ignoring SPDK's {} ({} call{}): {}\n", method, n,
                             n == 1 ? "" : "s", find_spdk_only_method(method)->reason);
  }

  auto current =
      must_call(client, "rpc_get_methods", {{"current", true}, {"include_aliases", false}});
  if (!current) return 1;
  std::vector<std::string> skipped;
  for (size_t i = 0; i < todo.size(); ++i) {
    const json& elem = todo[i].second;
    json items = elem.is_array() ? elem : json::array({elem});
    if (std::any_of(items.begin(), items.end(), [&](const json& it) {
          return !contains(*current, it["method"].get<std::string>());
        })) {
      skipped.push_back(describe(elem));
      continue;
    }
    std::vector<std::pair<std::string, json>> calls;
    for (const auto& it : items) calls.emplace_back(it["method"], it.value("params", json()));
    std::optional<size_t> failed;
    json failed_error;
    if (calls.size() == 1) {
      auto r = client.call(calls[0].first, calls[0].second);
      if (!r) return fail(r.err().message);
      if (!r->ok()) failed = 0, failed_error = r->error;
    } else if (!calls.empty()) {
      auto r = client.call_batch(calls);
      if (!r) return fail(r.err().message);
      for (size_t j = 0; j < r->size() && !failed; ++j) {
        if (!(*r)[j].ok()) failed = j, failed_error = (*r)[j].error;
      }
    }
    if (failed) {
      const auto& [m, p] = calls[*failed];
      print_rpc_error(fmt::format("{} {}", m, p.is_null() ? "{}" : p.dump()), failed_error);
      std::string left;
      for (size_t j = i + 1; j < todo.size(); ++j) left += "\n  " + describe(todo[j].second);
      std::cerr << "nvmfctl: load_config stopped; "
                << (left.empty() ? std::string("no calls were left") : "not applied:" + left)
                << "\n";
      return 1;
    }
  }
  if (contains(*current, "framework_start_init") &&
      !must_call(client, "framework_start_init", json())) {
    return 1;
  }
  if (!skipped.empty()) {
    std::cerr << "nvmfctl: some configs were skipped because nvmfd cannot call them now:";
    for (const auto& s : skipped) std::cerr << "\n  " << s;
    std::cerr << "\n";
  }
  return 0;
}

}  // namespace nvmfd::ctl
