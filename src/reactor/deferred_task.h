#pragma once
// deferred_task: work queued to run later on a reactor's thread, intrusive so that queueing
// it allocates nothing:
//  - reactor::defer(t), on the reactor's own thread: t runs after the current event;
//  - reactor::post(t), from any thread: t runs on the reactor's thread (task_inbox.h).
// A task is queued at most once at a time (deferred or posted, not both); it may be queued
// again from its own run_deferred(). Its owner keeps it alive until it has run.
namespace nvmfd {

class deferred_task {
 public:
  virtual void run_deferred() = 0;

 protected:
  ~deferred_task() = default;

 private:
  friend class reactor;
  friend class task_inbox;
  deferred_task* next_deferred_ = nullptr;
};

}  // namespace nvmfd
