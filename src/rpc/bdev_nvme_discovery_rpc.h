#pragma once
// JSON-RPC methods of the host's discovery services, with SPDK's names and params:
//   bdev_nvme_start_discovery {name*, trtype*, traddr*, adrfam, trsvcid, hostnqn,
//       wait_for_attach, attach_timeout_ms, ctrlr_loss_timeout_sec, reconnect_delay_sec,
//       fast_io_fail_timeout_sec}                                   -> true
//       -EEXIST for a name or a discovery address already in use.
//   bdev_nvme_stop_discovery {name*}                               -> true  (-ENODEV unknown)
//       detaches exactly what that service attached.
//   bdev_nvme_get_discovery_info                                   -> [{name, trid, referrals}]
//       every running service, those started by mDNS discovery too (as SPDK lists them)
// and nvmfd's connection-ownership method:
//   bdev_nvme_disconnect {subnqn, traddr, trsvcid, owner, force}   -> {"detached": [paths]}
//       removes the paths to subnqn (at traddr/trsvcid if given) that `owner` made (default
//       "rpc", what bdev_nvme_attach_controller makes); other owners' paths are left alone
//       unless force. Without subnqn, force is required (everything of that owner, or of all).
// The services are saved as bdev_nvme_start_discovery calls in the "bdev_nvme" section; the
// controllers they attached are not saved (they come back with the service).
#include <functional>
#include <memory>
#include <string>

#include "discovery/discovery_services.h"
#include "host/nvme_controller_registry.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

// more_info, if set, appends the entries of services started elsewhere (mDNS discovery) to
// bdev_nvme_get_discovery_info's result; it runs holding the registry's control token.
void add_bdev_nvme_discovery_methods(rpc_method_table& methods, nvme_controller_registry& controllers,
                                     std::shared_ptr<discovery_services> services,
                                     std::function<void(json&)> more_info = {});

// One bdev_nvme_get_discovery_info entry.
json discovery_info_json(const std::string& name, const discovery_service& s);

// The saved calls of the running services (for bdev_nvme's config section).
json discovery_calls(const discovery_services& services);

}  // namespace nvmfd
