#pragma once
// JSON-RPC methods for block devices, with SPDK's names and parameters: bdev_malloc_*,
// bdev_null_*, bdev_aio_* (file bdev), bdev_get_bdevs, bdev_set_qos_limit; and the "bdev"
// config section (limits saved as bdev_set_qos_limit calls after the creations).
// Handlers run on the RPC thread; the registry is used on that thread only.
#include "bdev/bdev_registry.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

void add_bdev_methods(rpc_method_table& methods, bdev_registry& bdevs);

// The bdev_set_qos_limit call that save_config writes for b (the limits that are set), or
// null when b has none.
json qos_limit_call(const bdev& b);

}  // namespace nvmfd
