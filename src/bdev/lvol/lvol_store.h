#pragma once
// lvol_store: logical volumes carved out of one base bdev (SPDK's lvolstore, bdev_lvol_*).
// The base is cut into clusters; each volume maps its logical clusters to physical ones.
// Thick volumes own all their clusters from creation; thin ones get a cluster at the first
// write to it (zero-filled, or copied from the snapshot they are a clone of).
//
// Durability (the FLUSH contract of bdev.h, end to end):
//  - Every control operation (create, delete, resize, rename, read-only, ...) writes the
//    whole metadata to the other slot and flushes the base before it returns.
//  - Cluster allocations made by writes are in memory first ("dirty"); a flush of any
//    volume commits them: flush base (the new clusters' contents), write the metadata slot,
//    flush base again; only then does the flush complete. A FUA write that allocated does
//    the same before it completes. Commits are serialized; one commit serves every waiter
//    whose allocations it includes.
//  - A cluster a volume gives back (unmap, shrink, delete) is reused only after the commit
//    that records its release is durable, so a crash never shows one volume another's data.
//  - Loading picks the newest metadata slot whose checksums hold (lvol_format.h).
//
// Threads: control operations on the control thread (RPC handlers, examine), one at a time;
// the data-path calls below from reactor threads. Internal state is under one mutex, taken
// on slow paths only (allocation, commit); cluster-map reads are lock-free atomics.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/uuid.h"
#include "bdev/bdev.h"
#include "bdev/lvol/lvol_format.h"
#include "reactor/reactor.h"

namespace nvmfd::lvol {

class lvol_bdev;

// A volume's cluster map: capacity fixed at construction; entries are physical cluster
// numbers or `unallocated`. Read lock-free; written under the store's mutex.
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

struct volume {
  uint32_t id = 0;
  uuid vid;
  std::string name;                      // under the store's mutex
  std::atomic<bool> thin{false};
  bool snapshot = false;
  std::atomic<bool> read_only{false};
  std::atomic<volume*> parent{nullptr};  // the snapshot it is a clone of
  std::atomic<cluster_map*> map{nullptr};
  std::atomic<uint64_t> size_clusters{0};
  std::vector<std::unique_ptr<cluster_map>> maps;  // current one last; older ones stay until the volume goes
  std::shared_ptr<lvol_bdev> bdev;

  // Write freeze (snapshot, merge): writes in flight are counted; while frozen, new ones
  // are parked and resubmitted on their reactors when thawed.
  std::atomic<int64_t> inflight_writes{0};
  std::atomic<bool> frozen{false};
  std::mutex parked_mu;
  std::vector<bdev_io*> parked;
  // A long operation (inflate, decouple) in the background: progress for get_lvols.
  struct operation {
    std::string name;      // "inflate" / "decouple_parent"
    uint64_t done = 0, total = 0;
    std::string state;     // "running", "done", or "failed: ..."
  };
  operation op;            // under the store's mutex
  bool op_running = false;

  uint32_t entry(uint64_t lc) const {
    cluster_map* m = map.load(std::memory_order_acquire);
    return lc < m->capacity ? m->entries[lc].load(std::memory_order_acquire) : unallocated;
  }
};

// Resumed on its owner reactor (posted) once the cluster it asked for is ready.
class cluster_waiter {
 public:
  virtual void on_cluster_ready(int status, uint32_t physical) = 0;
  reactor* waiter_owner = nullptr;
  cluster_waiter* next_waiter = nullptr;

 protected:
  ~cluster_waiter() = default;
};

// Resumed on its owner reactor (posted) once metadata up to need_generation is durable, or
// a commit failed. A null owner is woken on the committing thread (control-path waiters).
class commit_waiter {
 public:
  virtual void on_committed(int status) = 0;
  reactor* waiter_owner = nullptr;
  uint64_t need_generation = 0;

 protected:
  ~commit_waiter() = default;
};

struct store_info {
  uuid id;
  std::string name;
  std::string base_bdev;
  uint64_t cluster_size = 0;
  uint64_t total_data_clusters = 0;
  uint64_t free_clusters = 0;
  uint32_t block_size = 0;
};

class lvol_store {
 public:
  // Formats base as a new, empty store and claims base. invalid_argument: bad name, a
  // cluster size that is not a power-of-two multiple of the block size (at least 64 KiB...
  // see the .cc), or a base too small for metadata plus one data cluster.
  static result<std::unique_ptr<lvol_store>> create(reactor_pool& pool, std::shared_ptr<bdev> base,
                                                    std::string name, uint64_t cluster_size);
  // Loads the store on base and its volumes, and claims base. not_found: base holds no
  // store; invalid_argument: a store whose metadata is corrupt in both slots (what is wrong
  // in the message), never a store built from garbage.
  static result<std::unique_ptr<lvol_store>> load(reactor_pool& pool, std::shared_ptr<bdev> base);
  ~lvol_store();  // releases base; the volumes' bdevs must be gone from every registry

  store_info info() const;
  const std::shared_ptr<bdev>& base() const { return base_; }
  // The volumes, in creation order.
  std::vector<volume*> volumes() const;
  volume* find_volume(const std::string& name) const;
  std::string volume_name(const volume& v) const;
  std::string name() const;
  // "<store>/<volume>": the volume bdev's alias.
  std::string alias_of(const volume& v) const;
  uint64_t allocated_clusters(const volume& v) const;

  // --- control operations (control thread; durable when they return) ---
  result<volume*> create_volume(const std::string& name, uint64_t size_bytes, bool thin, std::optional<uuid> id);
  // busy when v's bdev is claimed (a namespace uses it), it is a snapshot with more than one
  // clone, or an inflate / decouple runs in the store; a snapshot with one clone merges into it.
  result<void> can_delete(const volume& v) const;
  result<void> delete_volume(volume& v);
  result<void> resize_volume(volume& v, uint64_t size_bytes);
  result<void> rename_volume(volume& v, const std::string& name);
  result<void> set_read_only(volume& v);
  // Makes snapshot `name` of v: the snapshot takes v's clusters and becomes read-only; v
  // becomes its thin clone (writes copy on write). Writes to v are frozen meanwhile.
  result<volume*> snapshot(volume& v, const std::string& name);
  // A new thin volume whose parent is snapshot s.
  result<volume*> clone(volume& s, const std::string& name);
  // Copies into v every cluster it reads from an ancestor (inflate: all of them, and it has
  // no parent afterwards; decouple: those its parent owns, and its parent becomes the
  // grandparent; without a parent nothing changes). Runs on the calling thread, I/O going on
  // meanwhile; progress in v.op (begin_operation first).
  result<void> inflate(volume& v);
  result<void> decouple_parent(volume& v);
  // Marks a long operation as started (false if one runs on v already).
  bool begin_operation(volume& v, long_operation op);
  volume::operation operation_of(const volume& v) const;
  result<void> rename(const std::string& name);
  // Takes the whole base bdev again (it grew): more data clusters, up to what the
  // metadata was sized for. Returns the new number of data clusters.
  result<uint64_t> grow();
  // Erases the superblock (the store is gone for good); every volume must be deleted first.
  result<void> destroy();

  // --- data path (reactor threads) ---
  uint64_t cluster_size() const { return sb_.cluster_size; }
  uint64_t blocks_per_cluster() const { return sb_.cluster_size / base_->block_size(); }
  // Where a read of logical cluster lc of v finds its data: the physical cluster in v or
  // the nearest ancestor that has it, or unallocated (zeroes).
  uint32_t resolve_read(const volume& v, uint64_t lc) const;
  // Gets v a cluster for logical cluster lc (zero-filled, or a copy of the ancestor's):
  // returns the physical cluster when it is there already, else unallocated and w is
  // resumed later (status 0 and the cluster, or -ENOSPC / -EIO).
  uint32_t cluster_for_write(volume& v, uint64_t lc, cluster_waiter& w);
  // Gives logical cluster lc of thin volume v back (unmap/write zeroes of all of it, no
  // parent): it reads as zeroes at once; the cluster is reused after the next commit.
  void release_cluster(volume& v, uint64_t lc);
  // The generation a flush must wait for (allocations made so far).
  uint64_t dirty_generation() const { return dirty_gen_.load(std::memory_order_acquire); }
  // Makes metadata up to w.need_generation durable (committing if needed); resumes w.
  void wait_durable(commit_waiter& w);

 private:
  struct allocation;  // one cluster being filled
  struct commit_job;  // one metadata commit in flight

  lvol_store(reactor_pool& pool, std::shared_ptr<bdev> base, superblock sb, metadata md);
  result<void> build_volumes(const metadata& md);
  volume* add_volume_locked(const volume_record& r);
  metadata snapshot_locked() const;
  // Control path: commits everything dirty and waits. Caller holds no lock.
  result<void> commit_sync();
  void start_commit_locked(reactor& r);
  void finish_commit(commit_job* job, int status);
  void finish_allocation(allocation* a, int status);
  uint32_t take_free_cluster_locked();
  // count free clusters taken and zeroed (not in any map yet); given back on failure.
  result<std::vector<uint32_t>> take_zeroed_clusters(uint64_t count);
  result<void> zero_clusters(uint64_t first, uint64_t count);
  void publish_map_locked(volume& v, uint64_t capacity);
  result<void> check_name(const std::string& name, const volume* except) const;
  result<void> copy_from_ancestors(volume& v, bool whole_chain);
  // Control thread: v's cluster lc allocated (filled from its ancestors) through the data path.
  result<void> allocate_sync(volume& v, uint64_t lc);
  void freeze(volume& v);
  void thaw(volume& v);

  reactor_pool& pool_;
  std::shared_ptr<bdev> base_;
  superblock sb_;

  mutable std::mutex mu_;
  std::string name_;
  uint64_t total_clusters_ = 0;
  uint32_t next_volume_id_ = 1;
  std::vector<std::unique_ptr<volume>> volumes_;
  std::vector<std::unique_ptr<volume>> retired_;   // deleted volumes (a bdev reference may outlive them)
  std::vector<bool> in_use_;                       // physical cluster owned or pending
  std::vector<std::pair<uint64_t, uint32_t>> pending_free_;  // (generation of release, cluster)
  uint64_t free_count_ = 0;
  uint64_t next_free_hint_ = 0;
  std::map<std::pair<uint32_t, uint64_t>, allocation*> filling_;  // (volume id, logical cluster)
  std::atomic<uint64_t> dirty_gen_{0};
  uint64_t durable_gen_ = 0;
  uint64_t md_generation_ = 0;  // of the newest slot written
  bool commit_running_ = false;
  std::vector<commit_waiter*> commit_waiters_;
};

}  // namespace nvmfd::lvol
