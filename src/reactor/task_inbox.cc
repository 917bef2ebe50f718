#include "reactor/task_inbox.h"

#include "base/tick_clock.h"

namespace nvmfd {

task_inbox::push_result task_inbox::push(deferred_task& t) {
  deferred_task* old = head_.load(std::memory_order_relaxed);
  do {
    if (old == closed_mark()) return push_result::closed;
    t.next_deferred_ = old;
  } while (!head_.compare_exchange_weak(old, &t, std::memory_order_release, std::memory_order_relaxed));
  return old == nullptr ? push_result::queued_first : push_result::queued;
}

bool task_inbox::run_all() {
  // Only this thread closes and reopens, so a closed inbox stays closed across these lines.
  deferred_task* newest = head_.load(std::memory_order_relaxed);
  if (newest == nullptr || newest == closed_mark()) return false;
  newest = head_.exchange(nullptr, std::memory_order_acquire);
  tick_clock::start_batch();
  deferred_task* oldest = nullptr;  // reverse into push order
  while (newest) {
    deferred_task* next = newest->next_deferred_;
    newest->next_deferred_ = oldest;
    oldest = newest;
    newest = next;
  }
  while (oldest) {
    deferred_task* t = oldest;
    oldest = t->next_deferred_;
    t->next_deferred_ = nullptr;  // it may be pushed again from here on
    t->run_deferred();
  }
  return true;
}

void task_inbox::close() {
  deferred_task* empty = nullptr;
  while (!head_.compare_exchange_strong(empty, closed_mark(), std::memory_order_acq_rel)) {
    run_all();
    empty = nullptr;
  }
}

void task_inbox::reopen() {
  deferred_task* closed = closed_mark();
  head_.compare_exchange_strong(closed, nullptr, std::memory_order_acq_rel);
}

}  // namespace nvmfd
