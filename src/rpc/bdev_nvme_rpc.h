#pragma once
// JSON-RPC methods for remote NVMe-oF controllers used as block devices, with SPDK's names,
// params and result shapes (module/bdev/nvme/bdev_nvme_rpc.c):
//   bdev_nvme_attach_controller {name*, trtype*, traddr*, adrfam, trsvcid, subnqn, hostnqn,
//       hdgst, ddgst, num_io_queues, fabrics_connect_timeout_us, ctrlr_loss_timeout_sec,
//       reconnect_delay_sec, fast_io_fail_timeout_sec, multipath, priority, prchk_reftag,
//       prchk_guard, max_bdevs, allow_unrecognized_csi, disable_sq_flow_control, ...}
//                                                                  -> ["<name>n<nsid>", ...]
//       TCP only; subnqn is required (SPDK's default, the discovery subsystem, has no
//       namespaces). psk, dhchap_key, dhchap_ctrlr_key, hostaddr and hostsvcid are refused
//       (-32602, not supported yet); the reconnect params are checked as SPDK does and saved,
//       not acted on yet. Blocks the RPC thread while connecting.
//   bdev_nvme_detach_controller {name*, trtype, traddr, adrfam, trsvcid, subnqn, hostaddr,
//       hostsvcid}                                                 -> true
//       -19 for an unknown name or a path that does not match; -16 (EBUSY) while one of its
//       bdevs is claimed (e.g. a namespace of a subsystem), naming it.
//   bdev_nvme_get_controllers {name}                               -> [{"name", "ctrlrs": [...]}]
// and the config section "bdev_nvme" (one bdev_nvme_attach_controller call per controller).
// Register these before add_nvmf_methods(): the config loader and save_config order sections
// by registration among those ready (config_loader.h), and "nvmf" (depends on "bdev") must
// come after the attach calls that create the bdevs its namespaces use.
// Handlers run on the RPC thread; the registry must outlive the table's use.
#include "host/nvme_bdev.h"
#include "host/nvme_controller_registry.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

void add_bdev_nvme_methods(rpc_method_table& methods, nvme_controller_registry& controllers);

// bdev_get_bdevs' "driver_specific" of an nvme_bdev, in SPDK's shape: {"nvme": [{"trid",
// "ctrlr_data", "vs", "ns_data"}], "mp_policy": "active_passive"}. Control thread. When the
// remote reports ANA, reads its ANA log page for "ns_data.ana_state" (one admin command;
// omitted if the controller failed or the read fails).
json nvme_bdev_driver_specific(const nvme_bdev& b);

}  // namespace nvmfd
