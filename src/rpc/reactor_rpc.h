#pragma once
// JSON-RPC methods for the reactors (SPDK's framework_* family):
//
//   framework_get_reactors {} -> SPDK's shape: {"tick_rate": 1000000000, "pid": N,
//       "reactors": [{"lcore", "busy", "idle", "in_interrupt", ...}]} with busy/idle in
//       ticks of tick_rate (nanoseconds) since start, in_interrupt true in event mode, "tid",
//       "usr" and "sys" (the thread's CPU time in clock ticks, proc(5)), "irq" (0: not kept),
//       "numa_id" (-1), "lw_threads" (one: the reactor's poll group, "elapsed" = busy + idle).
//       nvmfd adds per reactor: "poll_mode", "poll_window_us" (the adaptive window now), "passes"
//       (loop passes) and "sleeps" (blocking waits).
//   framework_set_poll_mode {mode?, max_poll_us?} -> true (nvmfd's own: SPDK polls always)
//       mode: "adaptive" (poll for a window that follows the load, then sleep; the default),
//       "event" (never poll: sleep after every pass, SPDK's interrupt mode) or "always"
//       (never sleep: a core per reactor at 100%, as SPDK). max_poll_us: the adaptive
//       window's ceiling, 0..1000000 (default 50). Omitted params keep their value.
//       Bad values: -32602 naming the param.
//   framework_get_poll_mode {} -> {"mode", "max_poll_us"}
//
// Config section "scheduler" (SPDK's name for how reactors run): one framework_set_poll_mode
// call when the settings differ from the defaults, else empty (a default config stays
// loadable by SPDK). Handlers run on the RPC (control) thread.
#include "reactor/reactor.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

void add_reactor_methods(rpc_method_table& methods, reactor_pool& reactors);

}  // namespace nvmfd
