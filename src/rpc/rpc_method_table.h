#pragma once
// rpc_method_table: JSON-RPC method name -> handler, plus the config sections that
// framework_get_subsystems / framework_get_config (and so save_config) are built on.
// Handlers run on the RPC (control) thread, one at a time. A handler returns the JSON
// result, or an error whose message becomes the JSON-RPC error message and whose code is
// mapped by rpc_error_code(). A handler that throws is answered with -32603.
// Populate the table before rpc_server::start(); it is read, never locked, by the server thread.
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
  void add(const std::string& name, rpc_handler h);  // registers, or replaces a handler
  const rpc_handler* find(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted

  // Sections keep registration order; names are unique (a duplicate is a programming error).
  // framework_get_subsystems and save_config list them in dependency order (config_loader.h).
  void add_config_section(config_section s);
  const std::vector<config_section>& config_sections() const { return sections_; }
  const config_section* find_config_section(const std::string& name) const;
  // Puts calls() before the existing calls of section `name` (which must exist): a module
  // that extends another's section, such as RBD cluster registrations ahead of the bdevs.
  void prepend_config(const std::string& name, std::function<json()> calls);

 private:
  std::map<std::string, rpc_handler> methods_;
  std::vector<config_section> sections_;
};

// JSON-RPC 2.0 error codes (SPDK's SPDK_JSONRPC_ERROR_*).
inline constexpr int rpc_error_parse = -32700;
inline constexpr int rpc_error_invalid_request = -32600;
inline constexpr int rpc_error_method_not_found = -32601;
inline constexpr int rpc_error_invalid_params = -32602;
inline constexpr int rpc_error_internal = -32603;

// JSON-RPC error code for a local error, following SPDK's handlers:
//   invalid_argument           -> -32602 (SPDK: bad or missing params, "Subsystem ... not found")
//   not_found                  -> -19 (-ENODEV "No such device": SPDK's bdev_*_delete,
//                                 bdev_get_bdevs, nvmf_get_transports for a missing object)
//   any other with sys_errno   -> -sys_errno (SPDK answers errno failures with -errno)
//   anything else              -> -32603
int rpc_error_code(const error& e);

}  // namespace nvmfd
