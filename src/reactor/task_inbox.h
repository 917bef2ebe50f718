#pragma once
// task_inbox: the deferred tasks other threads post to one reactor (reactor::post(deferred_task&)).
// An intrusive multi-producer, single-consumer list: a push is one compare-and-swap on the
// head, with no lock and no allocation, so the data path may post per I/O.
//
// Contract:
//  - push (any thread): a task is queued at most once at a time (it may be pushed again from
//    its own run_deferred()); its owner keeps it alive until it has run.
//  - run_all (the consumer's thread): runs every task pushed before it took the list, in push
//    order (so in order per producer); a task pushed while they run waits for the next call.
//  - close (the consumer, when it stops): runs what is queued until nothing is, then refuses
//    pushes: push returns closed and the task stays its caller's. reopen() undoes it.
// Wake-ups: push reports whether the inbox was empty; only then must the consumer be woken,
// since a non-empty inbox has a wake-up under way that has not yet been answered by run_all.
#include <atomic>

#include "reactor/deferred_task.h"

namespace nvmfd {

class task_inbox {
 public:
  enum class push_result { queued, queued_first, closed };

  task_inbox() = default;
  task_inbox(const task_inbox&) = delete;
  task_inbox& operator=(const task_inbox&) = delete;

  push_result push(deferred_task& t);
  bool run_all();
  void close();
  void reopen();

 private:
  // Newest first; closed_mark() while closed.
  std::atomic<deferred_task*> head_{nullptr};
  deferred_task* closed_mark() { return reinterpret_cast<deferred_task*>(this); }
};

}  // namespace nvmfd
