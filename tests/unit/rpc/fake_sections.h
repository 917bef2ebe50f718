#pragma once
// A method table with fake "bdev" and "nvmf" sections for the rpc tests: bdev_create and
// nvmf_create record their calls in `log`; get_config returns what was created.
#include <string>
#include <vector>

#include "rpc/rpc_method_table.h"

namespace nvmfd::test {

struct fake_target {
  std::vector<std::string> log;  // "method:name"
  json bdevs = json::array();
  json subsystems = json::array();

  // nvmf depends on bdev but is registered first, to exercise the ordering.
  void register_in(rpc_method_table& t) {
    t.add("bdev_create", [this](const json& p) -> result<json> {
      if (!p.is_object() || !p.contains("name")) return error{errc::invalid_argument, "name: required parameter missing"};
      log.push_back("bdev_create:" + p["name"].get<std::string>());
      bdevs.push_back({{"method", "bdev_create"}, {"params", p}});
      return p["name"];
    });
    t.add("nvmf_create", [this](const json& p) -> result<json> {
      std::string nqn = p.value("nqn", "");
      if (nqn == "fail") return error{errc::busy, "target is busy"};
      log.push_back("nvmf_create:" + nqn);
      subsystems.push_back({{"method", "nvmf_create"}, {"params", p}});
      return json(true);
    });
    t.add_config_section({"nvmf", {"bdev"}, [this] { return subsystems; }});
    t.add_config_section({"bdev", {}, [this] { return bdevs; }});
  }
};

}  // namespace nvmfd::test
