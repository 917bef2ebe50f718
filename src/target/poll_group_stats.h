#pragma once
// poll_group_stats: what one reactor's share of the target did (SPDK's poll group stats,
// nvmf_get_stats), and the per-reactor views the RPC reads.
//
// Threading: a reactor's counters are written only by that reactor (queues bound there, bdev
// I/Os completed there): relaxed loads and stores, no read-modify-write across cores, on a
// cache line of their own. Any thread reads them relaxed.
#include <atomic>
#include <cstdint>
#include <string>

#include "target/queue_endpoint.h"

namespace nvmfd {

struct alignas(64) poll_group_stats {
  std::atomic<uint64_t> admin_qpairs{0};       // admin queues bound (Connect) since start
  std::atomic<uint64_t> io_qpairs{0};          // I/O queues bound since start
  std::atomic<uint64_t> completed_nvme_io{0};  // I/O-queue commands whose bdev I/O completed

  static void bump(std::atomic<uint64_t>& c) { c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
};

// One reactor's poll group as nvmf_get_stats shows it: the counters and the queues it owns now.
struct poll_group_info {
  unsigned reactor = 0;
  uint64_t admin_qpairs = 0, io_qpairs = 0, completed_nvme_io = 0;
  uint64_t current_admin_qpairs = 0, current_io_qpairs = 0, current_unassociated_qpairs = 0;
  uint64_t pending_bdev_io = 0;  // bdev I/Os submitted and not completed, over its queues
};

// One connected queue pair of a subsystem (nvmf_subsystem_get_qpairs).
struct qpair_info {
  uint16_t cntlid = 0;
  uint16_t qid = 0;
  unsigned reactor = 0;
  std::string hostnqn;
  queue_endpoint local;
  std::string peer;  // "addr:port" or "[v6addr]:port" (target_queue::peer)
};

}  // namespace nvmfd
