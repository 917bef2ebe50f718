#include "migrate_command.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <map>

#include <fmt/format.h>

#include "config/spdk_only_methods.h"

namespace nvmfd::ctl {

namespace {

struct flat_call {
  std::string section;
  json call;  // {"method": ..., "params": ...}
};

result<std::vector<flat_call>> flatten(const json& in) {
  if (!in.is_object() || !in.contains("subsystems") || !in["subsystems"].is_array()) {
    return error{errc::invalid_argument, "no \"subsystems\" array in the configuration"};
  }
  std::vector<flat_call> out;
  for (const auto& s : in["subsystems"]) {
    std::string section = s.is_object() ? s.value("subsystem", "?") : "?";
    if (!s.is_object() || !s.contains("config") || !s["config"].is_array()) continue;
    for (const auto& elem : s["config"]) {
      json items = elem.is_array() ? elem : json::array({elem});  // an SPDK batch
      for (const auto& c : items) {
        if (!c.is_object() || !c.contains("method") || !c["method"].is_string()) {
          return error{errc::invalid_argument,
                       fmt::format("section '{}': a call without a \"method\" string: {}", section, c.dump())};
        }
        out.push_back({section, c});
      }
    }
  }
  return out;
}

const json& params_of(const json& call) {
  static const json none = json::object();
  auto p = call.find("params");
  return p != call.end() && p->is_object() ? *p : none;
}

// The bdev names a kept call creates: its "name" and "uuid" (SPDK's bdevs answer to their
// UUID as an alias); bdev_nvme_attach_controller's namespaces are NAMEn1, NAMEn2, ...
void note_created(const json& call, std::set<std::string>& names, std::vector<std::string>& nvme_prefixes) {
  const json& p = params_of(call);
  std::string method = call["method"];
  if (!method.ends_with("_create") && method != "bdev_nvme_attach_controller") return;
  if (p.contains("name") && p["name"].is_string()) {
    if (method == "bdev_nvme_attach_controller") {
      nvme_prefixes.push_back(p["name"]);
    } else {
      names.insert(p["name"]);
    }
  }
  if (p.contains("uuid") && p["uuid"].is_string()) names.insert(p["uuid"]);
}

bool is_created(const std::string& bdev, const std::set<std::string>& names,
                const std::vector<std::string>& nvme_prefixes) {
  if (names.count(bdev)) return true;
  for (const auto& prefix : nvme_prefixes) {
    if (bdev.starts_with(prefix + "n") && bdev.size() > prefix.size() + 1 &&
        bdev.find_first_not_of("0123456789", prefix.size() + 1) == std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

result<config_migration> migrate_spdk_config(const json& in, const std::set<std::string>& nvmfd_methods) {
  auto calls = flatten(in);
  if (!calls) return calls.take_err();
  config_migration m;
  std::map<std::string, size_t> ignored;  // method -> calls
  std::vector<std::string> ignored_order;
  std::set<std::string> created;
  std::vector<std::string> nvme_prefixes;
  std::vector<std::pair<std::string, json>> kept;  // section, call
  for (const auto& [section, call] : *calls) {
    std::string method = call["method"];
    if (nvmfd_methods.count(method)) {
      note_created(call, created, nvme_prefixes);
      kept.emplace_back(section, call);
    } else if (find_spdk_only_method(method)) {
      if (ignored[method]++ == 0) ignored_order.push_back(method);
    } else {
      m.refused.push_back(fmt::format("{}: {}: nvmfd has no such method", section, method));
    }
  }
  // Namespaces whose bdev nothing kept creates would fail to load: refused here, by name.
  std::erase_if(kept, [&](const auto& sc) {
    const json& p = params_of(sc.second);
    if (sc.second["method"] != "nvmf_subsystem_add_ns" || !p.contains("namespace")) return false;
    const json& ns = p["namespace"];
    std::string bdev = ns.is_object() ? ns.value("bdev_name", "") : "";
    if (bdev.empty() || is_created(bdev, created, nvme_prefixes)) return false;
    m.refused.push_back(fmt::format(
        "{}: nvmf_subsystem_add_ns {} nsid {}: bdev '{}' is not created by any kept call (in SPDK "
        "an lvol, found by examining SPDK's blobstore, which nvmfd cannot read; or a bdev of a "
        "refused method)",
        sc.first, p.value("nqn", "?"), ns.contains("nsid") ? ns["nsid"].dump() : "(any)", bdev));
    return true;
  });
  json subsystems = json::array();
  for (const auto& [section, call] : kept) {
    m.kept.push_back(fmt::format("{}: {}", section, call["method"].get<std::string>()));
    if (subsystems.empty() || subsystems.back()["subsystem"] != section) {
      subsystems.push_back({{"subsystem", section}, {"config", json::array()}});
    }
    subsystems.back()["config"].push_back(call);
  }
  m.out = {{"subsystems", std::move(subsystems)}};
  for (const auto& method : ignored_order) {
    size_t n = ignored[method];
    m.ignored.push_back(fmt::format("{} ({} call{}): {}", method, n, n == 1 ? "" : "s",
                                    find_spdk_only_method(method)->reason));
  }
  return m;
}

std::string migration_report(const config_migration& m) {
  std::string out;
  auto list = [&](const char* title, const std::vector<std::string>& items) {
    out += fmt::format("{} ({}):\n", title, items.size());
    for (const auto& i : items) out += "  " + i + "\n";
  };
  list("kept", m.kept);
  list("ignored: SPDK tuning, nothing in nvmfd to set", m.ignored);
  list("refused", m.refused);
  return out;
}

int migrate_config_command(rpc_client& client, const std::vector<std::string>& args) {
  auto fail = [](const std::string& msg) {
    std::cerr << "nvmfctl: migrate-config: " << msg << "\n";
    return 1;
  };
  if (args.size() != 2) return fail("usage: migrate-config IN OUT ('-' as IN: stdin)");
  std::string text;
  if (args[0] == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(args[0], std::ios::binary);
    if (!in) return fail(fmt::format("cannot read {}", args[0]));
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  json config;
  try {
    config = json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    return fail(fmt::format("{}: {}", args[0], e.what()));
  }
  auto r = client.call("rpc_get_methods", {{"include_aliases", false}});
  if (!r) return fail(r.err().message);
  if (!r->ok() || !r->result.is_array()) return fail("rpc_get_methods failed: " + r->error.dump());
  std::set<std::string> methods;
  for (const auto& name : r->result) {
    if (name.is_string()) methods.insert(name.get<std::string>());
  }
  auto m = migrate_spdk_config(config, methods);
  if (!m) return fail(fmt::format("{}: {}", args[0], m.err().message));
  std::ofstream out(args[1], std::ios::binary | std::ios::trunc);
  out << m->out.dump(2) << "\n";
  out.close();
  if (!out) return fail(fmt::format("cannot write {}", args[1]));
  std::cout << migration_report(*m) << "wrote " << args[1] << " (" << m->kept.size() << " calls)\n";
  return m->refused.empty() ? 0 : 1;
}

}  // namespace nvmfd::ctl
