#pragma once
// The host's mDNS discovery (SPDK's names, params and result shape):
//   bdev_nvme_start_mdns_discovery {name*, svcname* ("_nvme-disc._tcp"), hostnqn}  -> true
//   bdev_nvme_stop_mdns_discovery {name*}                                        -> true
//   bdev_nvme_get_mdns_discovery_info                  -> [{name, svcname, referrals: [{name, trid}]}]
// Each discovery controller announced over mDNS gets a discovery service "<name><n>_nvme"
// (bdev_nvme_discovery_rpc.h) owned by "mdns:<name>/<name><n>_nvme"; it stops, detaching what it attached,
// when the announcement goes. Without an avahi-daemon, start answers "mDNS unavailable: ...".
// Saved as bdev_nvme_start_mdns_discovery calls (bdev_nvme's section, as SPDK); the discovery
// services and controllers they made are not saved (they come back with the browser).
#include <memory>

#include "host/nvme_controller_registry.h"
#include "reactor/reactor.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

struct mdns_discoveries;  // the running mDNS discoveries

// loop: where Avahi and the discoveries' events run (the RPC thread's loop_thread); without
// one, start answers "mDNS unavailable: no event loop for Avahi".
std::shared_ptr<mdns_discoveries> add_bdev_nvme_mdns_methods(rpc_method_table& methods,
                                                             nvme_controller_registry& controllers, reactor* loop);

// Under the registry's control lock: the saved calls, and bdev_nvme_get_discovery_info entries
// of the discovery services they started.
json mdns_discovery_calls(const mdns_discoveries& all);
void append_mdns_discovery_info(const mdns_discoveries& all, json& out);

}  // namespace nvmfd
