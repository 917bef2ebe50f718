#pragma once
// JSON-RPC methods for NVMe reservations on an nvme bdev (nvmfd's own; SPDK has none): the
// command goes to the bdev's namespace through one of its paths (nvme_bdev_passthru.h), all
// of which present this process's one Host ID. Fields and values as nvme-cli's resv-*:
//   bdev_nvme_resv_register {name* (bdev), rrega (0 register, 1 unregister, 2 replace;
//       default 0), crkey, nrkey, iekey, cptpl (0 no change, 2 clear, 3 set)}     -> true
//   bdev_nvme_resv_acquire {name*, racqa (0 acquire, 1 preempt, 2 preempt and abort),
//       rtype* (1..6), crkey, prkey, iekey}                                       -> true
//   bdev_nvme_resv_release {name*, rrela (0 release, 1 clear), rtype (1..6; default 1),
//       crkey, iekey}                                                             -> true
//   bdev_nvme_resv_report {name*, eds (default true)}
//       -> {"gen", "rtype", "regctl", "ptpls", "regctlext": [{"cntlid", "rcsts", "hostid"
//          (32 hex digits), "rkey"}]} (without eds: "regctls", hostid a 64-bit number)
// Each also takes nsid, which must then be the bdev's (nvme-cli's -n).
// Keys are JSON integers (0 .. 2^64-1). Errors: -19 for an unknown nvme bdev; -32602 for bad
// params; a failed command's NVMe status named in the message (Reservation Conflict: -13).
#include <functional>

#include "host/nvme_controller_registry.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

using rpc_adder = std::function<void(const char*, std::function<result<json>(const json&)>)>;

// Adds the methods through `add` (bdev_nvme's, which holds the registry's control token).
void add_bdev_nvme_resv_methods(const rpc_adder& add, nvme_controller_registry& controllers);

}  // namespace nvmfd
