#pragma once
// metadata_committer: makes an lvol store's metadata durable. A change to what the metadata
// holds (a cluster mapped or released by the data path, a control operation) marks it dirty
// with a new generation; a waiter asks for a generation to be durable and is resumed once a
// commit covering it has completed: flush the base (the contents of new clusters), write the
// image to the other metadata slot, flush the base again. Commits run one at a time; one
// commit serves every waiter whose generation it covers; a waiter that comes during a commit
// gets the next one.
//
// Threads: it belongs to the store's home reactor. mark_dirty and wait_durable run there
// (asserted); request_durable, dirty_generation() and idle() run anywhere. The image is taken on home, from
// state that only home writes, so a commit takes no lock.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bdev/bdev.h"
#include "bdev/lvol/lvol_format.h"
#include "reactor/member_task.h"
#include "reactor/reactor.h"

namespace nvmfd::lvol {

class metadata_committer;

// Resumed once metadata up to need_generation is durable (status 0), or a commit failed
// (-EIO, -ENOSPC): posted to waiter_owner, or called inline on home when it is null. One wait
// at a time per waiter; it stays alive until resumed.
class commit_waiter {
 public:
  virtual void on_committed(int status) = 0;
  reactor* waiter_owner = nullptr;
  uint64_t need_generation = 0;

 protected:
  commit_waiter() = default;
  ~commit_waiter() = default;

 private:
  friend class metadata_committer;
  void wait_on_home();
  void answer_on_owner() { on_committed(status_); }

  // The request (to home) and the answer (to waiter_owner), carried without allocating.
  metadata_committer* committer_ = nullptr;
  int status_ = 0;
  member_task<commit_waiter, &commit_waiter::wait_on_home> to_home_{*this};
  member_task<commit_waiter, &commit_waiter::answer_on_owner> to_owner_{*this};
};

class metadata_committer {
 public:
  // image: the store's metadata now (its generation is set here). on_durable(g): every change
  // up to generation g is durable (the store then frees the clusters released up to g).
  // md_generation: the generation of the newest slot on disk.
  metadata_committer(reactor& home, bdev& base, const superblock& sb, uint64_t md_generation,
                     std::function<metadata()> image, std::function<void(uint64_t)> on_durable);
  metadata_committer(const metadata_committer&) = delete;
  metadata_committer& operator=(const metadata_committer&) = delete;

  // --- any thread ---
  // The generation a flush must wait for (every change made so far).
  uint64_t dirty_generation() const { return dirty_gen_.load(std::memory_order_acquire); }
  // Every change is durable (a commit runs only while one is not).
  bool idle() const { return dirty_generation() <= durable_gen_.load(std::memory_order_acquire); }

  // wait_durable on home: at once when called there, else sent there by message (the data
  // path: allocates nothing).
  void request_durable(commit_waiter& w);

  // --- home reactor ---
  // A change to the metadata's contents was made: returns its generation.
  uint64_t mark_dirty();
  void wait_durable(commit_waiter& w);

 private:
  struct commit_job;

  void start_commit();
  void finish_commit(commit_job* job, int status);
  // Resumes w with status: on its owner reactor (never inline), or at once when it has none.
  static void wake(commit_waiter& w, int status);

  reactor& home_;
  bdev& base_;
  const superblock sb_;
  std::function<metadata()> image_;
  std::function<void(uint64_t)> on_durable_;
  std::atomic<uint64_t> dirty_gen_{0};
  std::atomic<uint64_t> durable_gen_{0};  // written on home
  uint64_t md_generation_;  // of the newest slot written
  bool commit_running_ = false;
  std::string store_name_;  // in the last image, for the log
  std::vector<commit_waiter*> waiters_;
};

}  // namespace nvmfd::lvol
