#pragma once
// cluster_allocator: the physical clusters of an lvol store: which are free, which wait for
// the commit that records their release before they are used again, and the clusters being
// filled for a write (zeroes, or a copy of an ancestor's cluster: copy-on-write).
//
// Threads: it belongs to the store's home reactor, where every call runs (asserted), except
// free_count() (any thread) and mark_used() (while the store loads, before it is shared).
// Other threads reach it by message (request_fill, request_release: the waiter carries the
// request to home and the answer back as its own deferred tasks), so allocating and releasing
// take no lock and allocate nothing. Fills run on home too; their I/O is asynchronous.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "bdev/bdev.h"
#include "bdev/lvol/metadata_committer.h"
#include "bdev/lvol/volume.h"
#include "reactor/member_task.h"
#include "reactor/reactor.h"

namespace nvmfd::lvol {

class cluster_allocator;

// Resumed on waiter_owner (posted, never inline) once the cluster it asked for is ready. One
// request at a time per waiter; it stays alive until resumed.
class cluster_waiter {
 public:
  virtual void on_cluster_ready(int status, uint32_t physical) = 0;
  reactor* waiter_owner = nullptr;
  cluster_waiter* next_waiter = nullptr;

 protected:
  cluster_waiter() = default;
  ~cluster_waiter() = default;

 private:
  friend class cluster_allocator;
  void serve_on_home();
  void answer_on_owner() { on_cluster_ready(status_, physical_); }

  // The request (to home) and the answer (to waiter_owner), carried without allocating.
  cluster_allocator* allocator_ = nullptr;
  volume* vol_ = nullptr;
  uint64_t lc_ = 0;
  bool release_ = false;
  int status_ = 0;
  uint32_t physical_ = unallocated;
  member_task<cluster_waiter, &cluster_waiter::serve_on_home> to_home_{*this};
  member_task<cluster_waiter, &cluster_waiter::answer_on_owner> to_owner_{*this};
};

class cluster_allocator {
 public:
  // Clusters below first_data_cluster hold metadata and are never free. A mapped cluster
  // marks the metadata dirty in committer.
  cluster_allocator(reactor& home, bdev& base, metadata_committer& committer, uint64_t cluster_size,
                    uint64_t first_data_cluster, uint64_t total_clusters);
  ~cluster_allocator();
  cluster_allocator(const cluster_allocator&) = delete;
  cluster_allocator& operator=(const cluster_allocator&) = delete;

  // --- while the store loads ---
  void mark_used(uint32_t c);

  // --- any thread (the data path) ---
  // fill_for_write and release, on home: run there at once when called on home, else sent
  // there by message.
  void request_fill(volume& v, uint64_t lc, cluster_waiter& w);
  void request_release(volume& v, uint64_t lc, cluster_waiter& w);

  // --- home reactor ---
  // Resumes w with status 0 and v's cluster for lc: as soon as possible when v has it, else
  // once a free cluster has been filled (zeroes, or the nearest ancestor's contents) and
  // mapped into v. Or -ENOSPC (no cluster free), -EINVAL (lc is past v's end: it shrank
  // meanwhile), or the fill's I/O error. Waiters that come during a fill of (v, lc) share it.
  void fill_for_write(volume& v, uint64_t lc, cluster_waiter& w);
  // Unmaps logical cluster lc of v (free once the change is durable), then resumes w with
  // status 0.
  void release(volume& v, uint64_t lc, cluster_waiter& w);
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
  void request(volume& v, uint64_t lc, cluster_waiter& w, bool release);
  // Answers w on its owner reactor.
  static void resume(cluster_waiter& w, int status, uint32_t physical);

  reactor& home_;
  bdev& base_;
  metadata_committer& committer_;
  const uint64_t cluster_size_;
  const uint64_t first_data_cluster_;
  std::vector<bool> in_use_;                                 // owned, being filled, or waiting for release
  std::vector<std::pair<uint64_t, uint32_t>> pending_free_;  // (generation of the release, cluster)
  uint64_t next_free_hint_;
  std::atomic<uint64_t> free_count_{0};                      // written on home
  // The fills under way: few (at most one per write in flight), so searched linearly. A fill
  // that ends goes back to idle_fills_ (with its copy buffer) for the next, so that a first
  // write allocates nothing once the pool has grown to the peak of concurrent fills.
  std::vector<fill*> filling_;
  std::vector<std::unique_ptr<fill>> fills_;  // every fill made
  fill* idle_fills_ = nullptr;
};

}  // namespace nvmfd::lvol
