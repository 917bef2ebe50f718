#pragma once
// nvme_bdev: a block device backed by one namespace of a remote NVM subsystem, reached
// through one or more paths (SPDK's bdev_nvme, "<name>n<nsid>").
//
// I/O path (reactor, no allocation, no lock): each I/O picks a path with the bdev's
// multipath_policy from the reactor's cached copy of the path table, and goes to that
// path's controller's I/O queue on the same reactor. Requests larger than the controller's
// MDTS or than 65536 blocks are split and run in sequence; when the queue is full, the I/O
// waits in the queue's FIFO of slot waiters (the entry lives in bdev_io::backend_ctx).
//  - A path-related status (ANA inaccessible / persistent loss / change, a lost connection,
//    a timeout) is never the application's error: the chunk is sent again on another path
//    (an ANA status also makes the path ask for the ANA log again).
//  - When no path is usable, the I/O waits on its reactor until one is (every publish
//    retries the waiting I/O at once, a 50 ms timer in between), and fails with -EIO after
//    io_fail_timeout_ms (fast_io_fail_timeout_sec), or at once when the table has no path
//    at all (every path given up).
//
// Control side: the owner (nvme_controller_registry) builds path tables and publish()es
// them (any thread); refresh_on(r) on every reactor r makes every reactor take the newest
// table, after which no reactor refers to a controller missing from it.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "bdev/bdev.h"
#include "host/host_controller.h"
#include "host/multipath_policy.h"
#include "host/nvme_path.h"
#include "host/path_stats.h"

namespace nvmfd {

// One path of an nvme_bdev as reactors see it.
struct nvme_bdev_path {
  nvme_path* path = nullptr;              // outlives every table naming it
  std::shared_ptr<host_controller> ctrl;  // null while the path is disconnected
  nsid_t nsid;
  uint32_t max_blocks_per_cmd = 1;        // by the controller's MDTS and the 16-bit NLB
  ana_state ana = ana_state::optimized;   // of the namespace's ANA group through this path
  path_stats* stats = nullptr;            // owned by the nvme_bdev
};

// An immutable snapshot: paths in preference order (preferred path first).
struct nvme_bdev_paths {
  std::vector<nvme_bdev_path> paths;
  multipath_policy policy;
  uint32_t io_fail_timeout_ms = 0;  // 0: wait while any path is left
};

class nvme_bdev final : public bdev, public host_callback, public slot_waiter_callback {
 public:
  // ns and id describe the namespace as the first path reported it.
  nvme_bdev(std::string name, const remote_namespace& ns, const identify_controller& id, unsigned reactors);

  std::string_view product_name() const override { return "NVMe disk"; }
  bool has_volatile_cache() const override { return volatile_cache_; }
  bool supports(bdev_op op) const override;
  void do_submit(bdev_io& io) override;
  void on_host_complete(host_request& req, const nvme_completion& c) override;
  void on_slot_free(host_queue& q, slot_waiter& w) override;

  nsid_t nsid() const { return nsid_; }
  uint32_t anagrpid() const { return anagrpid_; }
  // Any thread: how many I/Os found no usable path and waited for one, since creation.
  uint64_t ios_parked() const { return ios_parked_.load(std::memory_order_relaxed); }
  const remote_namespace& first_namespace() const { return ns_; }

  // --- control side ---
  // The remote namespace changed size (its paths read Identify Namespace again): from now on
  // I/O is checked against `blocks`, and resize observers run on the calling thread.
  void resize(uint64_t blocks) { set_num_blocks(blocks); }
  void publish(std::shared_ptr<const nvme_bdev_paths> table);
  // On reactor r (of the pool the bdev serves): r takes the newest table and retries the I/O
  // that waits there for a usable path.
  void refresh_on(reactor& r);
  // Publishes an empty table and fails every waiting I/O (-EIO), on every reactor of pool;
  // before the bdev goes away. done runs on the pool's control reactor after the last
  // reactor has. From any thread.
  void shut_down_async(reactor_pool& pool, std::function<void()> done);
  // shut_down_async, waited for on the calling thread (never a reactor).
  void shut_down(reactor_pool& pool);
  std::shared_ptr<const nvme_bdev_paths> paths() const;
  // The counters of this namespace through path `path_id`, created on first use.
  path_stats* stats_for(uint64_t path_id);

  // Set by the owner, read when it builds tables (owner's lock).
  multipath_policy policy;
  uint64_t preferred_path = 0;  // nvme_path::id() of the preferred path; 0: none

  // Whether path i of table t is one the policy would send I/O to now: connected, ANA
  // usable, in the best ANA class present; for active_passive, the first such path.
  static bool is_current(const nvme_bdev_paths& t, size_t i);
  static bool is_usable(const nvme_bdev_path& p) { return rank(p, nullptr) > 0; }

  struct io_state;  // per-I/O state in bdev_io::backend_ctx

 private:
  struct alignas(64) reactor_view {
    uint64_t generation = UINT64_MAX;
    std::shared_ptr<const nvme_bdev_paths> table;
    size_t rr_index = 0;
    uint32_t rr_count = 0;
    slot_waiter* parked_head = nullptr;  // I/O waiting for a usable path, linked by waiter.next
    slot_waiter* parked_tail = nullptr;
    timer_id park_timer = 0;
  };

  // 2: optimized, 1: non-optimized, 0: not usable (r: also needs a live queue on r).
  static int rank(const nvme_bdev_path& p, reactor* r);
  const nvme_bdev_paths& refresh(reactor_view& v);
  const nvme_bdev_path* select(reactor_view& v, reactor& r);
  void dispatch(bdev_io& io);
  void park(bdev_io& io, reactor_view& v);
  void retry_parked(reactor& r);
  bool start_next_chunk(bdev_io& io, host_queue& q);
  void start_or_wait(bdev_io& io, host_queue& q);
  void finish(bdev_io& io, int status);

  remote_namespace ns_;
  nsid_t nsid_;
  std::atomic<uint64_t> ios_parked_{0};
  uint32_t anagrpid_;
  uint16_t oncs_;
  bool volatile_cache_;
  unsigned reactors_;
  std::unique_ptr<reactor_view[]> views_;

  mutable std::mutex table_mu_;
  std::shared_ptr<const nvme_bdev_paths> table_;
  std::atomic<uint64_t> generation_{0};
  std::map<uint64_t, std::unique_ptr<path_stats>> stats_;  // by path id; under table_mu_
};

}  // namespace nvmfd
