#pragma once
// cluster_allocator: the physical clusters of an lvol store: which are free, which wait for
// the commit that records their release before they are used again, and the clusters being
// filled for a write (zeroes, or a copy of an ancestor's cluster: copy-on-write).
//
// Threads: it belongs to the store's home reactor, where every call runs (asserted), except
// free_count() (any thread) and mark_used() (while the store loads, before it is shared).
// Other threads reach it through lvol_store, which posts to home: allocating and releasing
// take no lock. Fills run on home too; their I/O is asynchronous.
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "bdev/bdev.h"
#include "bdev/lvol/metadata_committer.h"
#include "bdev/lvol/volume.h"
#include "reactor/reactor.h"

namespace nvmfd::lvol {

// Resumed (posted to waiter_owner) once the cluster it asked for is ready.
class cluster_waiter {
 public:
  virtual void on_cluster_ready(int status, uint32_t physical) = 0;
  reactor* waiter_owner = nullptr;
  cluster_waiter* next_waiter = nullptr;

 protected:
  ~cluster_waiter() = default;
};

class cluster_allocator {
 public:
  // Clusters below first_data_cluster hold metadata and are never free. A mapped cluster
  // marks the metadata dirty in committer.
  cluster_allocator(reactor& home, bdev& base, metadata_committer& committer, uint64_t cluster_size,
                    uint64_t first_data_cluster, uint64_t total_clusters);
  cluster_allocator(const cluster_allocator&) = delete;
  cluster_allocator& operator=(const cluster_allocator&) = delete;

  // --- while the store loads ---
  void mark_used(uint32_t c);

  // --- home reactor ---
  // Resumes w with status 0 and v's cluster for lc: as soon as possible when v has it, else
  // once a free cluster has been filled (zeroes, or the nearest ancestor's contents) and
  // mapped into v. Or -ENOSPC (no cluster free), -EINVAL (lc is past v's end: it shrank
  // meanwhile), or the fill's I/O error. Waiters that come during a fill of (v, lc) share it.
  void fill_for_write(volume& v, uint64_t lc, cluster_waiter& w);
  // count free clusters, marked used (not mapped anywhere yet); nothing when fewer are free.
  std::optional<std::vector<uint32_t>> take(uint64_t count);
  // Clusters taken and never mapped.
  void give_back(std::span<const uint32_t> clusters);
  // c was unmapped by the change of the given generation: free once that is durable.
  void release_after(uint64_t generation, uint32_t c);
  // Every change up to generation is durable.
  void on_durable(uint64_t generation);
  // The base grew: clusters up to total_clusters exist.
  void grow(uint64_t total_clusters);

  // --- any thread ---
  uint64_t free_count() const { return free_count_.load(std::memory_order_acquire); }

 private:
  struct fill;

  uint32_t take_one();
  void set_free_count(uint64_t n) { free_count_.store(n, std::memory_order_release); }
  void finish_fill(fill* f, int status);

  reactor& home_;
  bdev& base_;
  metadata_committer& committer_;
  const uint64_t cluster_size_;
  const uint64_t first_data_cluster_;
  std::vector<bool> in_use_;                                 // owned, being filled, or waiting for release
  std::vector<std::pair<uint64_t, uint32_t>> pending_free_;  // (generation of the release, cluster)
  uint64_t next_free_hint_;
  std::atomic<uint64_t> free_count_{0};                      // written on home
  std::map<std::pair<uint32_t, uint64_t>, fill*> filling_;   // (volume id, logical cluster)
};

}  // namespace nvmfd::lvol
