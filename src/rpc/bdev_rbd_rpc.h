#pragma once
// RBD (Ceph) RPCs with SPDK's names, params and result shapes:
//   bdev_rbd_register_cluster {name*, user_id, config_param {key: value}, config_file,
//       key_file}                                                     -> name
//   bdev_rbd_unregister_cluster {name*}        -> true (-EBUSY while a bdev uses it)
//   bdev_rbd_get_clusters_info {name}          -> {cluster_name, user_id, config_param,
//       config_file, key_file} for a name, else an array of them
//   bdev_rbd_create {name, pool_name*, rbd_name*, block_size*, user_id, config {key: value},
//       cluster_name, uuid}                    -> the bdev's name ("Ceph<n>" when none)
//   bdev_rbd_delete {name*}                    -> true
//   bdev_rbd_resize {name*, new_size* (MiB)}   -> true (grows only, as SPDK)
// Handlers run on the RPC thread (they block while librados connects and librbd opens).
// save_config: the register_cluster calls go first in the "bdev" section (before the
// bdev_rbd_create calls that bdev_config writes); add after add_bdev_methods.
#include "bdev/bdev_registry.h"
#include "bdev/rbd/rbd_bdev.h"
#include "bdev/rbd/rbd_cluster.h"
#include "reactor/reactor.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

// Each bdev's completions are watched by one reactor of `reactors`, in turn.
void add_bdev_rbd_methods(rpc_method_table& methods, bdev_registry& bdevs, rbd_cluster_registry& clusters,
                          reactor_pool& reactors);

// bdev_get_bdevs' driver_specific.rbd and the bdev's save_config call (bdev_rpc.cc).
json rbd_driver_specific(const rbd_bdev& b);
json rbd_create_call(const rbd_bdev& b);

}  // namespace nvmfd
