#pragma once
// JSON-RPC statistics methods with SPDK's names, params and result shapes (SPDK v26.05's
// results, captured in tests/fixtures/spdk_stats/). Times are in ticks of tick_rate per second
// (tick_clock: the CPU's time-stamp counter where it is invariant, as in SPDK).
//
//   bdev_get_iostat {names?, per_channel?, reset_mode?} ->
//       {"tick_rate", "ticks", "bdevs": [{"name", "bytes_read", "num_read_ops", "bytes_written",
//        "num_write_ops", "bytes_unmapped", "num_unmap_ops", "bytes_copied", "num_copy_ops",
//        "read_latency_ticks", "max_read_latency_ticks", "min_read_latency_ticks", (write_,
//        unmap_, copy_ likewise), "io_error": {}}]}; nvmfd adds "num_flush_ops",
//       "flush_latency_ticks", "num_write_zeroes_ops", "bytes_zeroed",
//       "write_zeroes_latency_ticks" and "num_io_errors" (I/Os completed with an error; they
//       count nowhere else). Copy is never counted (nvmfd has no copy). names: every bdev when
//       absent; an unknown name: -32602... not found (errc::not_found). per_channel: one
//       entry per reactor that has done I/O to the bdev, {"tick_rate", "ticks", "name",
//       "channels": [{"thread_id": reactor index, ...the counters}]}, for exactly one bdev
//       (names with one name). reset_mode (after reading): "all" (every counter), "maxmin"
//       (max and min latencies), "error" (num_io_errors), "none" (default). A reset runs on
//       each reactor, the only writer of its counters, so it loses no concurrent I/O's count.
//   nvmf_get_stats {tgt_name?} -> {"tick_rate", "poll_groups": [{"name":
//       "nvmf_tgt_poll_group_NNN" (NNN: the reactor), "admin_qpairs", "io_qpairs" (bound since
//       start), "current_admin_qpairs", "current_io_qpairs", "current_unassociated_qpairs"
//       (connected, no Connect yet), "pending_bdev_io", "completed_nvme_io" (I/O-queue
//       commands whose bdev I/O completed), "transports": [{"trtype": "TCP"}]}]}.
//   nvmf_subsystem_get_qpairs {nqn, tgt_name?} -> [{"cntlid", "qid", "state": "enabled",
//       "thread": the poll group's name, "hostnqn", "listen_address", "peer_address"}].
//       Unknown nqn: not found.
// tgt_name: accepted and ignored (nvmfd has one target). Handlers run on the RPC thread and
// visit each reactor in turn (reactor_pool::run_on); nothing on the I/O path waits for them.
#include "bdev/bdev_registry.h"
#include "reactor/reactor.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd {

void add_stats_methods(rpc_method_table& methods, reactor_pool& reactors, bdev_registry& bdevs, nvmf_target& target);

}  // namespace nvmfd
