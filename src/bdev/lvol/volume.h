#pragma once
// volume: one logical volume of an lvol store: its cluster map, its place in a chain of
// snapshots, the freeze of its writes, and the progress of a long operation on it.
//
// Threads:
//  - Cluster maps, parent, thin, read_only and size_clusters are read lock-free anywhere. They
//    are written on the store's home reactor only (lvol_store.h), which makes a metadata
//    image there without a lock; size_clusters is also lowered by a shrink first, on the
//    control thread, so that new I/O past the end fails.
//  - name, maps, op and op_running change under the store's mutex (on the home reactor,
//    but for a long operation's start), and are read elsewhere under it.
//  - The write freeze (below) is thread-safe.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/uuid.h"
#include "bdev/bdev.h"
#include "bdev/lvol/lvol_format.h"

namespace nvmfd::lvol {

class lvol_bdev;

// A volume's cluster map: capacity fixed at construction; entries are physical cluster
// numbers or `unallocated`.
struct cluster_map {
  explicit cluster_map(uint64_t n);
  const uint64_t capacity;
  std::unique_ptr<std::atomic<uint32_t>[]> entries;
};

// The long operations a volume can run in the background.
enum class long_operation { inflate, decouple_parent };
inline const char* to_string(long_operation op) {
  return op == long_operation::inflate ? "inflate" : "decouple_parent";
}

class volume {
 public:
  uint32_t id = 0;
  uuid vid;
  std::string name;
  std::atomic<bool> thin{false};
  bool snapshot = false;
  std::atomic<bool> read_only{false};
  std::atomic<volume*> parent{nullptr};  // the snapshot it is a clone of
  std::atomic<cluster_map*> map{nullptr};
  std::atomic<uint64_t> size_clusters{0};
  std::vector<std::unique_ptr<cluster_map>> maps;  // current one last; older ones stay until the volume goes
  std::shared_ptr<lvol_bdev> bdev;

  // A long operation (inflate, decouple) in the background: progress for get_lvols.
  struct operation {
    std::string name;  // "inflate" / "decouple_parent"
    uint64_t done = 0, total = 0;
    std::string state;  // "running", "done", or "failed: ..."
  };
  operation op;  // name and state; done and total are in op_done and op_total
  std::atomic<uint64_t> op_done{0}, op_total{0};  // written by the operation, on home
  bool op_running = false;

  uint32_t entry(uint64_t lc) const {
    cluster_map* m = map.load(std::memory_order_acquire);
    return lc < m->capacity ? m->entries[lc].load(std::memory_order_acquire) : unallocated;
  }

  // --- write freeze (snapshot, shrink, the merge of a snapshot into its clone) ---
  // Writes in flight are counted; while the volume is frozen new ones are parked, and
  // resubmitted on their reactors at the thaw.
  //
  // Freezes writes; drained() runs once no write is in flight: at once on the calling thread
  // when none is, else inline on the reactor where the last one ends, so it must be short
  // (a notify, a post). One freeze at a time.
  void freeze(std::function<void()> drained);
  // Ends the freeze: parked writes go back to their reactors (posted) and are submitted again.
  void thaw();
  // Data path, on the write's reactor. False: the volume is frozen and io is parked until the
  // thaw (it is submitted again then). True: the write is counted until write_done().
  bool start_write(bdev_io& io);
  void write_done();

 private:
  std::atomic<int64_t> inflight_writes_{0};
  std::atomic<bool> frozen_{false};
  std::mutex freeze_mu_;
  std::vector<bdev_io*> parked_;          // under freeze_mu_
  std::function<void()> drained_;         // under freeze_mu_: the freeze waiting for the drain
};

// Where a read of logical cluster lc of v finds its data: the physical cluster in v or the
// nearest ancestor that has it, or unallocated (zeroes).
uint32_t resolve_read(const volume& v, uint64_t lc);

}  // namespace nvmfd::lvol
