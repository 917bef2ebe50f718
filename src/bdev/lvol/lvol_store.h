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
//    whose allocations it includes (metadata_committer.h).
//  - A cluster a volume gives back (unmap, shrink, delete) is reused only after the commit
//    that records its release is durable, so a crash never shows one volume another's data.
//  - Loading picks the newest metadata slot whose checksums hold (lvol_format.h).
//
// Threads. The store has a home reactor (the pool's control reactor). Everything the
// metadata holds is written there only: cluster maps, the volumes and their names, the
// allocator (cluster_allocator.h) and the committer; so a commit reads it all without a lock,
// and the data path reaches home by message (reactor::post of a task its waiter carries: no
// allocation), never by a lock:
//  - data path (any reactor): cluster_for_write, release_cluster, wait_durable; reads of
//    cluster maps are lock-free atomics;
//  - control operations (the control thread: RPC handlers, config load, examine; never a
//    reactor, asserted): they check on the calling thread, then run their change on home
//    (blocking_call) and wait until it is durable. One at a time.
//  - The store's mutex guards the control state (volumes, names, long operations) for readers
//    off home; home takes it only to change that state, never to allocate, release or flush.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/uuid.h"
#include "bdev/bdev.h"
#include "bdev/lvol/cluster_allocator.h"
#include "bdev/lvol/lvol_format.h"
#include "bdev/lvol/metadata_committer.h"
#include "bdev/lvol/volume.h"
#include "reactor/completion.h"
#include "reactor/reactor.h"

namespace nvmfd::lvol {

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
  // Control thread. Commits what is dirty, then releases base; the volumes' bdevs must be
  // gone from every registry and no long operation may run.
  ~lvol_store();

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
  result<void> rename(const std::string& name);
  // Takes the whole base bdev again (it grew): more data clusters, up to what the
  // metadata was sized for. Returns the new number of data clusters.
  result<uint64_t> grow();
  // Erases the superblock (the store is gone for good); every volume must be deleted first.
  result<void> destroy();

  // --- long operations (inflate, decouple_parent: long_operation_job.h) ---
  // Marks one as started on v (false if one runs on v already). Control thread.
  bool begin_operation(volume& v, long_operation op);
  volume::operation operation_of(const volume& v) const;
  // Home: v's operation ended with r ("done", or "failed: " and why).
  void end_operation(volume& v, const result<void>& r);

  // --- data path (any reactor) ---
  uint64_t cluster_size() const { return sb_.cluster_size; }
  uint64_t blocks_per_cluster() const { return sb_.cluster_size / base_->block_size(); }
  uint32_t resolve_read(const volume& v, uint64_t lc) const { return lvol::resolve_read(v, lc); }
  // Gets v a cluster for logical cluster lc (zero-filled, or a copy of the ancestor's):
  // returns the physical cluster when it is there already, else unallocated and w is
  // resumed later (status 0 and the cluster, or -ENOSPC / -EIO).
  uint32_t cluster_for_write(volume& v, uint64_t lc, cluster_waiter& w);
  // Gives logical cluster lc of thin volume v back (unmap/write zeroes of all of it, no
  // parent), then resumes w (status 0): from then on it reads as zeroes; the cluster is
  // reused after the next commit.
  void release_cluster(volume& v, uint64_t lc, cluster_waiter& w);
  // The generation a flush must wait for (allocations made so far).
  uint64_t dirty_generation() const { return committer_.dirty_generation(); }
  // Makes metadata up to w.need_generation durable (committing if needed); resumes w.
  void wait_durable(commit_waiter& w);

  // --- home reactor ---
  reactor& home() const { return home_; }
  cluster_allocator& allocator() { return allocator_; }
  // Runs change(g) with the store's mutex held, g being the generation of the change (the one
  // to release clusters with), then makes the metadata durable and calls done: success, the
  // change's own error (nothing committed for it), or io_error when the commit failed.
  void change_on_home(std::function<result<void>(uint64_t generation)> change, completion<void> done);

 private:
  lvol_store(reactor_pool& pool, std::shared_ptr<bdev> base, superblock sb, metadata md);
  static result<void> valid_name(const std::string& name, const char* what);
  result<void> build_volumes(const metadata& md);
  volume* add_volume_locked(const volume_record& r);
  // Home: the metadata as it is now (its generation left for the committer).
  metadata image() const;
  // Control thread: change_on_home, waited for.
  result<void> change(std::function<result<void>(uint64_t generation)> change);
  // Control thread: count free clusters taken and zeroed (not in any map yet).
  result<std::vector<uint32_t>> take_zeroed_clusters(uint64_t count);
  result<void> zero_clusters(uint64_t first, uint64_t count);
  void publish_map_locked(volume& v, uint64_t capacity);
  result<void> check_name(const std::string& name, const volume* except) const;
  // Control thread: freezes v's writes and waits until none is in flight.
  void freeze(volume& v);

  reactor_pool& pool_;
  reactor& home_;
  std::shared_ptr<bdev> base_;
  const superblock sb_;

  mutable std::mutex mu_;  // the control state below, for readers off home
  std::string name_;
  uint64_t total_clusters_ = 0;
  uint32_t next_volume_id_ = 1;
  std::vector<std::unique_ptr<volume>> volumes_;
  std::vector<std::unique_ptr<volume>> retired_;  // deleted volumes (a bdev reference may outlive them)

  metadata_committer committer_;
  cluster_allocator allocator_;
};

}  // namespace nvmfd::lvol
