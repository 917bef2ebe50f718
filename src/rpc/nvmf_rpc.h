#pragma once
// JSON-RPC methods for the NVMe-oF target, with SPDK's names and parameters
// (nvmf_create_transport ... nvmf_subsystem_get_controllers), and the "nvmf" config section.
// Handlers run on the RPC thread.
#include "bdev/bdev_registry.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd {

void add_nvmf_methods(rpc_method_table& methods, nvmf_target& target, bdev_registry& bdevs);

}  // namespace nvmfd
