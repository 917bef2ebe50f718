#pragma once
// The framework methods every nvmfd serves, with SPDK's names, params and result shapes
// (lib/rpc/rpc.c, lib/init/subsystem_rpc.c):
//   rpc_get_methods {current?, include_aliases?}  -> ["method", ...] sorted. nvmfd has no
//       aliases and is always in SPDK's RUNTIME state: current=true lists all methods but
//       framework_start_init, which SPDK allows only at STARTUP.
//   framework_get_subsystems                      -> [{"subsystem": name, "depends_on": [...]}]
//       in ordered_config_sections() order.
//   framework_get_config {name*, with_batches?}   -> the section's config array (batches
//       flattened unless with_batches); unknown name: -32602 "Subsystem 'NAME' not found".
//   framework_start_init, framework_wait_init     -> true (nvmfd initializes before serving
//       RPC; rpc.py load_config calls framework_start_init when rpc_get_methods lists it).
//   spdk_get_version                              -> {"version": "nvmfd v0.1.0", "fields":
//       {"major", "minor", "patch", "suffix"}}.
// Handlers capture `methods` by reference: it must outlive them (it owns them).
#include "rpc/rpc_method_table.h"

namespace nvmfd {

inline constexpr const char* nvmfd_version = "0.1.0";

void add_framework_methods(rpc_method_table& methods);

}  // namespace nvmfd
