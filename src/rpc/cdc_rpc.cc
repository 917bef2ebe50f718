#include "rpc/cdc_rpc.h"

#include <memory>

#include "discovery/centralized_discovery.h"
#include "rpc/param_reader.h"

namespace nvmfd {

void add_cdc_methods(rpc_method_table& m, nvmf_target& t, nvme_controller_registry& controllers) {
  auto cdc = std::make_shared<centralized_discovery>(t, controllers);
  m.add("nvmf_discovery_enable_cdc", [cdc](const json& params) -> result<json> {
    param_reader p(params);
    auto mode = p.required_enum("mode", {"direct", "referral"});
    if (auto f = p.finish(); !f) return f.take_err();
    cdc->enable(*parse_cdc_mode(mode));
    return json(true);
  });
  m.add("nvmf_discovery_disable_cdc", [cdc](const json& params) -> result<json> {
    param_reader p(params);
    if (auto f = p.finish(); !f) return f.take_err();
    cdc->disable();
    return json(true);
  });
  m.add_config_section({"nvmf_cdc", {"nvmf"}, [cdc] {
                          json calls = json::array();
                          if (auto mode = cdc->mode())
                            calls.push_back({{"method", "nvmf_discovery_enable_cdc"},
                                             {"params", {{"mode", std::string(cdc_mode_name(*mode))}}}});
                          return calls;
                        }});
}

}  // namespace nvmfd
