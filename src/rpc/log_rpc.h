#pragma once
// JSON-RPC methods for the log, with SPDK's names (one logger: spdlog's default):
//
//   log_set_level {level} -> true. level: SPDK's ERROR, WARNING, NOTICE, INFO or DEBUG (any
//       case); ERROR -> error, WARNING -> warn, NOTICE and INFO -> info, DEBUG -> debug.
//       Another name: -32602. Takes effect at once on every thread.
//   log_get_level {} -> the level's SPDK name: the name last set when the logger is still at
//       that level, else derived from the logger's level (nvmfd -L trace reads "DEBUG").
//   log_set_print_level / log_get_print_level: the same (nvmfd has one level, not SPDK's two).
// Handlers run on the RPC thread.
#include "rpc/rpc_method_table.h"

namespace nvmfd {

void add_log_methods(rpc_method_table& methods);

}  // namespace nvmfd
