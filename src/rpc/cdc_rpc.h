#pragma once
// Centralized Discovery Controller mode (nvmfd's, issue 5): this target's discovery log also
// lists what the host side's discovery services found, kept current as they see changes.
//   nvmf_discovery_enable_cdc {mode: "direct" | "referral"}  -> true
//       direct: an NVM entry per discovered subsystem address, pointing at the real target
//       (nvmf_target::set_registrations, one source per discovery service, merged there);
//       referral: instead, one referral (SUBTYPE 1) per discovery controller that reported
//       something, so hosts ask that controller themselves.
//   nvmf_discovery_disable_cdc {}                            -> true  (the entries leave)
// Saved as section "nvmf_cdc" (after "nvmf"). Each change of the log is one new generation and
// one Discovery Log Change notice to connected hosts (the target's doing).
#include "host/nvme_controller_registry.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd {

// The target must outlive the registry's discovery services (the sink runs on their threads).
void add_cdc_methods(rpc_method_table& methods, nvmf_target& target, nvme_controller_registry& controllers);

}  // namespace nvmfd
