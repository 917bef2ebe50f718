#pragma once
// Gateway group RPCs (nvmfd's own; SPDK has none; docs/gateway.md):
//   nvmf_gateway_group_create {name*, gateway_id*, cluster_name*, pool_name ("rbd"),
//       ana_groups* [anagrpid | {anagrpid*, home}], failback (false), lease_ms (10000,
//       4000..600000)}                                        -> true
//       Joins (or starts) group `name` as gateway `gateway_id`, coordinating through the pool
//       of the registered RBD cluster `cluster_name` (bdev_rbd_register_cluster), and returns
//       after its first round (each ANA group then shows optimized here if this gateway took
//       it, non-optimized if another gateway holds it).
//   nvmf_gateway_group_delete {name*}                        -> true (hands its groups over)
//   nvmf_gateway_group_get {name}                            -> [{name, gateway_id,
//       cluster_name, pool_name, lease_ms, failback, fenced, last_error,
//       members: [{gateway_id, address}], ana_groups: [{anagrpid, owner, home, requested,
//       ana_state}]}]  (owners and members as of the last round)
//   nvmf_gateway_group_move {name*, anagrpid*, gateway_id*}  -> true: the owner hands the group
//       to gateway_id (a live member) at its next round; no failback applies to a move.
// save_config: section "nvmf_gateway" (after "bdev", before "nvmf": its ANA groups are
// managed before any listener exists); register before add_nvmf_methods.
#include "bdev/rbd/rbd_cluster.h"
#include "gateway/gateway_registry.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

void add_gateway_methods(rpc_method_table& m, gateway::gateway_registry& gateways, rbd_cluster_registry& clusters,
                         nvmf_target& target);

}  // namespace nvmfd
