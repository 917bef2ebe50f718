#pragma once
// JSON-RPC methods for block devices, with SPDK's names and parameters: bdev_malloc_*,
// bdev_null_*, bdev_aio_* (file bdev), bdev_get_bdevs; and the "bdev" config section.
// Handlers run on the RPC thread; the registry is used on that thread only.
#include "bdev/bdev_registry.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

void add_bdev_methods(rpc_method_table& methods, bdev_registry& bdevs);

}  // namespace nvmfd
