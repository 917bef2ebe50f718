#pragma once
// JSON-RPC methods for remote NVMe-oF subsystems used as block devices, with SPDK's names,
// params and result shapes (module/bdev/nvme/bdev_nvme_rpc.c):
//   bdev_nvme_set_options {keep_alive_timeout_ms, timeout_us, ctrlr_loss_timeout_sec,
//       reconnect_delay_sec, fast_io_fail_timeout_sec, multipath_opts, dhchap_digests,
//       dhchap_dhgroups (what attaches offer in AUTH_Negotiate; SPDK's names, default all),
//       ... SPDK's others accepted and type-checked, no effect}   -> true; -EPERM once attached
//   bdev_nvme_attach_controller {name*, trtype*, traddr*, adrfam, trsvcid, subnqn, hostnqn,
//       hdgst, ddgst, num_io_queues, fabrics_connect_timeout_us, ctrlr_loss_timeout_sec,
//       reconnect_delay_sec, fast_io_fail_timeout_sec, multipath, priority, prchk_reftag,
//       prchk_guard, max_bdevs, allow_unrecognized_csi, disable_sq_flow_control, dhchap_key,
//       dhchap_ctrlr_key, ...}
//                                                                  -> ["<name>n<nsid>", ...]
//       TCP only; subnqn is required. multipath "multipath" adds a path to an existing name
//       (same subsystem, another controller, the same namespaces), "failover" a passive
//       transport ID of its first path. Reconnect params: SPDK's rules, nvmfd's defaults
//       (-1 / 2 / 30: keep reconnecting). dhchap_key / dhchap_ctrlr_key name keyring keys
//       (DHHC-1 secrets) for DH-HMAC-CHAP on every queue, at attach and at each reconnect
//       (the ctrlr key: bidirectional; it needs dhchap_key); the key is read from the keyring
//       at attach. psk, hostaddr and hostsvcid are refused (-32602, not supported yet).
//       Blocks the RPC thread while connecting.
//   bdev_nvme_detach_controller {name*, trtype, traddr, adrfam, trsvcid, subnqn, hostaddr,
//       hostsvcid}                                                 -> true
//       Without path fields: the whole name; with them: that path (or failover transport ID).
//       -19 for an unknown name or a path that does not match; -16 (EBUSY) while one of its
//       bdevs is claimed (e.g. a namespace of a subsystem), naming it.
//   bdev_nvme_get_controllers {name}                   -> [{"name", "ctrlrs": [one per path]}]
//   bdev_nvme_set_multipath_policy {name* (bdev), policy*, selector, rr_min_io}  -> true
//   bdev_nvme_set_preferred_path {name* (bdev), cntlid*, traddr, trsvcid}         -> true
//       traddr+trsvcid (nvmfd's extension, written by save_config) win over cntlid, which
//       changes with every connection.
//   bdev_nvme_get_io_paths {name}   -> {"poll_groups": [{"thread", "io_paths": [{bdev_name,
//       cntlid, current, connected, accessible, transport{...}, ana_state}]}]}
//   bdev_nvme_get_path_iostat {name*} -> {"name", "stats": [{"trid", "stat"}]} (ticks in ns)
// and the config section "bdev_nvme" (set_options, then per name its attach calls, then each
// bdev's policy and preferred path).
// Register these before add_nvmf_methods(): the config loader and save_config order sections
// by registration among those ready (config_loader.h), and "nvmf" (depends on "bdev") must
// come after the attach calls that create the bdevs its namespaces use.
// Handlers run on the RPC thread; the registry must outlive the table's use.
#include "host/nvme_bdev.h"
#include "host/nvme_controller_registry.h"
#include "keys/keyring.h"
#include "rpc/param_reader.h"
#include "reactor/reactor.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

// Shared by the bdev_nvme method files: checks trtype (TCP or RDMA), adrfam, traddr (numeric) and
// trsvcid of an address read from params into t, recording failures in p.
void check_tcp_address(param_reader& p, const std::string& trtype, const std::string& adrfam, transport_id& t);
// A transport ID in SPDK's JSON ({trtype, adrfam, traddr, trsvcid, subnqn}).
json nvme_trid_json(const transport_id& t);

// Also adds the discovery methods (bdev_nvme_discovery_rpc.h); the services are saved in
// this config section and stopped when the method table goes (declare it after the registry).
// mdns_loop: where mDNS discovery runs (bdev_nvme_mdns_rpc.h); without one its start answers
// "mDNS unavailable".
// keyring: where dhchap_key names are looked up (none: such params are refused).
void add_bdev_nvme_methods(rpc_method_table& methods, nvme_controller_registry& controllers,
                           reactor* mdns_loop = nullptr, const keys::keyring* keyring = nullptr);

// bdev_get_bdevs' "driver_specific" of an nvme_bdev, in SPDK's shape: {"nvme": [one {"trid",
// "ctrlr_data", "vs", "ns_data"} per path], "mp_policy", ("selector", "rr_min_io")}. Control
// thread; no admin command (ANA states are the path's last ANA log read).
json nvme_bdev_driver_specific(const nvme_bdev& b);

}  // namespace nvmfd
