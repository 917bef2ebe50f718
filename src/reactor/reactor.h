#pragma once
// reactor: one event loop per core (Seastar's shared-nothing model). Each reactor runs on
// its own thread, optionally pinned to a CPU. Everything registered with a reactor
// (fds, deferred tasks, timers, its io_uring engine) is touched only by that reactor's
// thread; other threads reach it only through post(), which is thread-safe.
//
// I/O backend (io_backend.h), fixed when the reactor is created:
//  - epoll: the loop waits in epoll_wait (poll_backend); block I/O goes through a
//    uring_engine whose completion eventfd is one of the epoll sources.
//  - uring: the loop waits on its uring_engine (driving mode), which also carries block and
//    socket I/O. epoll keeps the other fds (listeners, the wake eventfd): a multishot poll on
//    the ring watches the epoll fd, and the loop runs epoll_wait(0) when it fires, and again
//    on the next pass while the last one found events (fds left ready are level-triggered
//    and wake the epoll fd no more).
//
// Polling: after a pass that did work, the loop polls (a zero timeout) for the window its
// poll_window allows before it blocks, so a request that follows soon is picked up without
// the wake-up of a sleeping CPU, while an idle reactor sleeps (poll_window.h). A uring poll
// pass submits what is queued and reaps completions from user space.
//
// Time: timers, and the code on the reactor through now(), run on the reactor's
// time_source: the steady clock, or in tests a manual_time that only the test moves.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <source_location>
#include <span>
#include <thread>
#include <vector>

#include "base/result.h"
#include "reactor/deferred_task.h"
#include "reactor/io_backend.h"
#include "reactor/poll_backend.h"
#include "reactor/poll_window.h"
#include "reactor/task_inbox.h"
#include "reactor/time_source.h"
#include "reactor/uring_op.h"

namespace nvmfd {

class uring_engine;

// Receives readiness events (EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP bits) for one fd.
class event_handler {
 public:
  virtual void on_events(uint32_t events) = 0;

 protected:
  ~event_handler() = default;
};

using clock_type = std::chrono::steady_clock;
using timer_id = uint64_t;

// What a reactor did since it started; written by its thread only, read relaxed by any.
struct reactor_counters {
  std::atomic<uint64_t> passes{0};     // loop passes (polls and sleeps)
  std::atomic<uint64_t> sleeps{0};     // blocking waits
  std::atomic<uint64_t> idle_ns{0};    // time spent blocked
  std::atomic<int64_t> window_ns{0};   // the current poll window
  std::atomic<int64_t> asleep_since{0}; // clock_type ns of the blocking wait under way, 0 if awake
  std::atomic<int> tid{0};             // the loop thread's Linux thread id, once run() started
  clock_type::time_point started = clock_type::now();

  static int64_t ns_of(clock_type::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }
  // Time blocked since the reactor was created, the wait under way included.
  uint64_t slept_ns() const {
    int64_t since = asleep_since.load(std::memory_order_relaxed);
    uint64_t now_asleep = since ? static_cast<uint64_t>(std::max<int64_t>(0, ns_of(clock_type::now()) - since)) : 0;
    return idle_ns.load(std::memory_order_relaxed) + now_asleep;
  }
  // Time awake (working or polling) since the reactor was created.
  uint64_t busy_ns() const {
    auto total = static_cast<uint64_t>(std::chrono::nanoseconds(clock_type::now() - started).count());
    auto idle = slept_ns();
    return total > idle ? total - idle : 0;
  }
};

class reactor final : private time_listener {
 public:
  // index: this reactor's position in its pool; cpu: the CPU to pin to, if any; io.backend
  // is resolved here (resolve_io_backend). A uring reactor whose ring cannot be created when
  // its loop starts runs on epoll (logged). time: the clock of its timers (steady_time() when
  // null; tests pass a manual_time), which must outlive the reactor.
  reactor(unsigned index, std::optional<int> cpu, poll_settings polling = {}, io_settings io = {},
          time_source* time = nullptr);
  ~reactor();
  reactor(const reactor&) = delete;
  reactor& operator=(const reactor&) = delete;

  unsigned index() const { return index_; }
  // The reactor whose thread is calling, or nullptr on a thread that runs none.
  static reactor* current();

  // --- any thread ---
  // Runs fn on this reactor's thread. Control path only: allocates.
  void post(std::function<void()> fn);
  // Runs t on this reactor's thread, after the current event: the data path's cross-thread
  // message (allocates nothing, takes no lock; task_inbox.h). From this reactor's own thread
  // it is defer(t). Tasks posted from one thread run in the order posted. False: the loop
  // has ended (stopped and drained), t was not queued and will not run; the caller still
  // owns it. Every task posted before that (true) runs, the drain at stop included.
  [[nodiscard]] bool post(deferred_task& t);
  // Asks run() to return after the current iteration.
  void stop();
  // Changes how the loop polls (takes effect on its next pass). Control path.
  void set_poll_settings(poll_settings s);
  poll_settings get_poll_settings() const;
  const reactor_counters& counters() const { return counters_; }
  // The time of this reactor's timers: code on the reactor reads it instead of a clock of
  // its own, so that tests control it.
  time_source::time_point now() const { return time_->now(); }
  time_source& time() const { return *time_; }
  std::optional<int> cpu() const { return cpu_; }
  // epoll or uring (what the loop really runs once it has started).
  io_backend backend() const { return backend_.load(std::memory_order_relaxed); }

  // A reactor outside any pool whose thread may block (loop_thread.h): assert_off_reactor
  // lets blocking calls through on it. Set before run().
  void allow_blocking() { blocking_allowed_ = true; }
  bool blocking_allowed() const { return blocking_allowed_; }

  // --- this reactor's thread only ---
  // Runs the loop on the calling thread until stop(). Pins the thread if a CPU was given.
  void run();
  result<void> watch(int fd, uint32_t events, event_handler* h);
  result<void> rewatch(int fd, uint32_t events, event_handler* h);
  // After unwatch returns, h gets no event for fd, not even one already taken from the
  // poller in the batch being dispatched: its owner may be destroyed then.
  void unwatch(int fd);
  void defer(deferred_task& t);
  // One-shot timer, due `delay` after now(); control path (allocates). Returns an id for
  // cancel().
  timer_id schedule(clock_type::duration delay, std::function<void()> fn);
  void cancel(timer_id id);
  // This reactor's io_uring engine: with the uring backend, the one the loop waits on; with
  // epoll, one created on first use for block I/O. nullptr if io_uring is unavailable.
  uring_engine* uring();
  // Work outstanding outside the loop (commands sent, completions awaited): while any is,
  // the loop polls at least briefly after work. Per-I/O safe: a plain counter.
  void add_pending() { ++pending_; }
  void remove_pending() { --pending_; }

 private:
  bool run_posted();
  bool run_deferred_tasks();
  bool run_timers();
  int next_timeout_ms() const;
  bool dispatch(std::span<poll_event> events);
  bool epoll_pass(int timeout, std::span<poll_event> events);
  bool uring_pass(int timeout, std::span<poll_event> events);
  void start_uring();
  void arm_epoll_poll();
  void wake();
  void on_time_moved() override { wake(); }

  // The multishot poll of the epoll fd on the ring (uring backend).
  struct epoll_poll_op final : uring_op {
    reactor* r = nullptr;
    void on_complete(int res, uint32_t flags) override;
  };

  unsigned index_;
  bool blocking_allowed_ = false;
  std::optional<int> cpu_;
  time_source* time_;
  std::unique_ptr<poll_backend> poller_;
  std::map<int, event_handler*> handlers_;  // fd -> its handler, to drop stale batch events
  poll_event* batch_ = nullptr;             // the events being dispatched, and the next index
  int batch_n_ = 0;
  int batch_next_ = 0;
  int wakefd_ = -1;
  std::atomic<bool> stop_{false};

  std::mutex post_mu_;
  std::vector<std::function<void()>> posted_;
  task_inbox inbox_;

  deferred_task* deferred_head_ = nullptr;
  deferred_task* deferred_tail_ = nullptr;

  std::multimap<clock_type::time_point, timer_id> timer_order_;
  std::map<timer_id, std::pair<clock_type::time_point, std::function<void()>>> timers_;
  timer_id next_timer_id_ = 1;

  std::unique_ptr<uring_engine> uring_;
  bool uring_failed_ = false;
  io_settings io_;
  std::atomic<io_backend> backend_{io_backend::epoll};
  epoll_poll_op epoll_op_;
  bool epoll_armed_ = false;
  bool epoll_ready_ = false;  // look at epoll (its poll fired, or the last look found events)

  poll_window window_;
  mutable std::mutex settings_mu_;
  poll_settings settings_;          // guarded by settings_mu_; copied into window_ on change
  std::atomic<bool> settings_changed_{false};
  uint64_t pending_ = 0;
  reactor_counters counters_;
};

// A fixed set of reactors, each on its own thread, named reactor-<index> (thread_name.h).
class reactor_pool {
 public:
  // Starts n reactors; reactor i is pinned to cpus[i] when cpus has that entry. io.backend
  // is resolved once for all of them. time: their clock (reactor's constructor).
  reactor_pool(unsigned n, std::vector<int> cpus = {}, poll_settings polling = {}, io_settings io = {},
               time_source* time = nullptr);
  ~reactor_pool();  // stops and joins

  unsigned size() const { return static_cast<unsigned>(reactors_.size()); }
  reactor& at(unsigned i) { return *reactors_[i]; }
  // The home of control work that runs as state machines on a reactor (lvol store
  // allocation and commits, long lvol operations): reactor 0, which also holds the target's
  // listener and the host's admin queues.
  reactor& control() { return *reactors_[0]; }
  // Runs fn on reactor i and waits for it to finish (blocking_call). Never from reactor i
  // itself (asserted: it would wait for ever); from another reactor it stalls that one.
  void run_on(unsigned i, const std::function<void()>& fn,
              std::source_location where = std::source_location::current());
  void stop();
  // Every reactor's polling, now and for the rest of its life. Control path.
  void set_poll_settings(poll_settings s);
  poll_settings get_poll_settings() const { return reactors_.empty() ? poll_settings{} : reactors_[0]->get_poll_settings(); }
  // The backend asked for, resolved (a reactor may still have fallen back: reactor::backend()).
  io_backend backend() const { return backend_; }

 private:
  std::vector<std::unique_ptr<reactor>> reactors_;
  std::vector<std::thread> threads_;
  io_backend backend_;
};

}  // namespace nvmfd
