#pragma once
// registry_worker: where the registry's asynchronous attach and detach (attach_async,
// detach_path_async, detach_owned_async) run the steps that still block: nvme_path::connect
// and nvme_path::stop wait for the control reactor, so they cannot run on it. An interim,
// as docs/plans/issue14-threads.md "Order and fallbacks" allows: ONE thread per registry
// ("nvme-control"), started by the first job, shared by every discovery service (a service
// has no thread of its own). It goes once nvme_path connects and stops asynchronously (S5);
// the cores then run on the control reactor and the worker is deleted.
//
// Jobs run one at a time in the order given; each job's result is handed to its completion
// on `home` (posted). Threads: run() from any thread; stop() from a thread that may block,
// before home's reactor stops: it runs the jobs still queued (their completions are posted
// to home) and joins; a job given after stop() is dropped unrun.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "reactor/completion.h"
#include "reactor/reactor.h"

namespace nvmfd {

class registry_worker {
 public:
  explicit registry_worker(reactor& home) : home_(home) {}
  ~registry_worker() { stop(); }
  registry_worker(const registry_worker&) = delete;
  registry_worker& operator=(const registry_worker&) = delete;

  // Runs body on the worker, then done(its result) on home.
  template <class T>
  void run(std::function<result<T>()> body, completion<T> done) {
    enqueue([this, body = std::move(body), done = std::move(done)]() mutable {
      auto r = std::make_shared<result<T>>(body());
      home_.post([r, done = std::move(done)]() mutable { done(std::move(*r)); });
    });
  }

  void stop();

 private:
  void enqueue(std::function<void()> job);
  void loop();

  reactor& home_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nvmfd
