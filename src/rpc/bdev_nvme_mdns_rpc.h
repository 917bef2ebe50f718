#pragma once
// The host's mDNS discovery (SPDK's names, params and result shape):
//   bdev_nvme_start_mdns_discovery {name*, svcname* ("_nvme-disc._tcp"), hostnqn}  -> true
//   bdev_nvme_stop_mdns_discovery {name*}                                        -> true
//   bdev_nvme_get_mdns_discovery_info                  -> [{name, svcname, referrals: [{name, trid}]}]
// Each discovery controller announced over mDNS gets a discovery service "<name><n>_nvme"
// (bdev_nvme_discovery_rpc.h) owned by "mdns:<name>"; it stops, detaching what it attached,
// when the announcement goes. Without an avahi-daemon, start answers "mDNS unavailable: ...".
// Not saved in the config yet.
#include "host/nvme_controller_registry.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

void add_bdev_nvme_mdns_methods(rpc_method_table& methods, nvme_controller_registry& controllers);

}  // namespace nvmfd
