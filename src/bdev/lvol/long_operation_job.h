#pragma once
// long_operation_job: an inflate or decouple_parent of one volume, run as a state machine on
// its store's home reactor: no thread of its own. It copies into the volume every cluster
// the volume reads from an ancestor (inflate: from any; decouple: from its parent), through
// the allocation a write makes (cluster_allocator::fill_for_write), so I/O to the volume
// goes on meanwhile; a few clusters at a time. Then it changes the volume's parent
// (inflate: none, and the volume becomes thick; decouple: its grandparent) and commits.
// Progress and outcome are the volume's operation (lvol_store::operation_of): "done", or
// "failed: " and why ("cancelled" when cancel() stopped it).
//
// Threads: made anywhere; start, cancel and when_ended on home only (asserted); ended()
// anywhere. A running job keeps itself alive; the store must outlive it (lvol_store refuses
// to delete volumes while an operation runs, and lvol_manager cancels and waits for its jobs
// before the stores go).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/result.h"
#include "bdev/lvol/lvol_store.h"
#include "reactor/completion.h"

namespace nvmfd::lvol {

class long_operation_job : public std::enable_shared_from_this<long_operation_job> {
 public:
  // v's operation must have been begun (lvol_store::begin_operation).
  static std::shared_ptr<long_operation_job> make(lvol_store& s, volume& v, long_operation op);

  // Runs the operation; done gets its result once it has ended (the volume's operation says
  // so by then). Once.
  void start(completion<void> done);
  // Stops issuing copies: the job ends as "failed: cancelled" once those under way are in.
  void cancel();
  // Calls fn once the job has ended: at once if it has.
  void when_ended(std::function<void()> fn);
  bool ended() const { return ended_.load(std::memory_order_acquire); }
  reactor& home() const { return store_.home(); }

 private:
  // One cluster being copied; a fixed number of them is in flight at a time.
  struct cluster_copy final : cluster_waiter {
    long_operation_job* job = nullptr;
    uint64_t lc = 0;
    bool busy = false;
    void on_cluster_ready(int status, uint32_t physical) override;
  };
  static constexpr std::size_t max_in_flight = 4;

  long_operation_job(lvol_store& s, volume& v, long_operation op);
  void copy_more();
  void copied(cluster_copy& c, int status);
  void all_copied();
  void finish(result<void> r);

  lvol_store& store_;
  volume& vol_;
  const long_operation op_;
  volume* parent_ = nullptr;  // at the start
  std::vector<uint64_t> todo_;
  std::size_t next_ = 0;
  std::size_t in_flight_ = 0;
  std::vector<cluster_copy> copies_;
  std::optional<error> failed_;
  bool cancelled_ = false;
  completion<void> done_;
  std::vector<std::function<void()>> on_end_;
  std::shared_ptr<long_operation_job> keep_;  // itself, while it runs
  std::atomic<bool> ended_{false};
};

}  // namespace nvmfd::lvol
