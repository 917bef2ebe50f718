#pragma once
// rpc_method_table: JSON-RPC method name -> handler, plus the config sections that
// framework_get_subsystems / framework_get_config (and so save_config) are built on.
// Handlers run on the RPC (control) thread, one at a time. A handler returns the JSON
// result, or an error: errc::invalid_argument becomes JSON-RPC -32602 (invalid params),
// not_found/already_exists/busy/others become -32603 with the error's message
// (see rpc_error_code()).
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace nvmfd {

using json = nlohmann::json;
using rpc_handler = std::function<result<json>(const json& params)>;

// One section of a saved config, in SPDK's form: {"subsystem": name, "config": [calls]}.
struct config_section {
  std::string name;                     // "bdev", "nvmf"
  std::vector<std::string> depends_on;  // sections that must be loaded first
  std::function<json()> get_config;     // array of {"method": ..., "params": {...}}
};

class rpc_method_table {
 public:
  void add(const std::string& name, rpc_handler h);
  const rpc_handler* find(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted

  void add_config_section(config_section s);
  const std::vector<config_section>& config_sections() const { return sections_; }

 private:
  std::map<std::string, rpc_handler> methods_;
  std::vector<config_section> sections_;
};

// JSON-RPC error code for a local error (-32602 for invalid_argument, else -32603).
int rpc_error_code(const error& e);

}  // namespace nvmfd
