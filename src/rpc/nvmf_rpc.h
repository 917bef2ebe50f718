#pragma once
// JSON-RPC methods for the NVMe-oF target, with SPDK's names and parameters
// (nvmf_create_transport ... nvmf_subsystem_get_controllers, nvmf_set_config, the
// nvmf_discovery_*_referral methods), and the "nvmf" config section: nvmf_set_config when
// the discovery filter is not match_any, the transport, subsystems with their hosts,
// namespaces, listeners and ANA states, then the referrals.
// Handlers run on the RPC thread.
#include "bdev/bdev_registry.h"
#include "keys/keyring.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd {

// keyring: where nvmf_subsystem_add_host's "psk" key names are looked up (none: refused).
void add_nvmf_methods(rpc_method_table& methods, nvmf_target& target, bdev_registry& bdevs,
                      const keys::keyring* keyring = nullptr);

}  // namespace nvmfd
