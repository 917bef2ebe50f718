#pragma once
// The Centralized Discovery Controller's methods (discovery/centralized_discovery.h):
//   nvmf_discovery_enable_cdc {mode: "direct" | "referral"}  -> true
//   nvmf_discovery_disable_cdc {}                            -> true  (the entries leave)
// Saved as section "nvmf_cdc" (after "nvmf").
#include "host/nvme_controller_registry.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd {

// The target must outlive the registry's discovery services (the sink runs on their threads).
void add_cdc_methods(rpc_method_table& methods, nvmf_target& target, nvme_controller_registry& controllers);

}  // namespace nvmfd
