#pragma once
// Logical volume RPCs with SPDK's names, params and result shapes:
//   bdev_lvol_create_lvstore {bdev_name*, lvs_name*, cluster_sz (4 MiB), clear_method,
//       num_md_pages_per_cluster_ratio, md_page_size}                -> the store's UUID
//   bdev_lvol_delete_lvstore {uuid | lvs_name}                        -> true
//   bdev_lvol_rename_lvstore {old_name*, new_name*}                   -> true
//   bdev_lvol_grow_lvstore {uuid | lvs_name}                          -> true
//   bdev_lvol_get_lvstores {uuid | lvs_name}  -> [{uuid, name, base_bdev, total_data_clusters,
//       free_clusters, block_size, cluster_size}]
//   bdev_lvol_create {lvol_name*, size_in_mib*, thin_provision, uuid, lvs_name, clear_method}
//       (uuid here is the store's, as in SPDK)                        -> the volume's bdev name
//   bdev_lvol_delete {name*} / bdev_lvol_resize {name*, size_in_mib*} /
//   bdev_lvol_rename {old_name*, new_name*} / bdev_lvol_set_read_only {name*}  -> true
//   bdev_lvol_get_lvols {lvs_uuid | lvs_name}  -> [{alias, uuid, name, is_thin_provisioned,
//       is_snapshot, is_clone, is_esnap_clone, is_degraded, lvs: {name, uuid}}]
// A volume is named by its bdev name (UUID) or its alias "lvs/lvol". Stores and volumes are
// not in save_config: they live on their base bdevs and load when those appear.
#include "bdev/lvol/lvol_manager.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

void add_lvol_methods(rpc_method_table& methods, lvol::lvol_manager& lvols);

}  // namespace nvmfd
