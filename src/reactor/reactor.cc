#include "reactor/reactor.h"

#include <pthread.h>
#include <sched.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <string>

#include "base/log.h"
#include "base/tick_clock.h"
#include "reactor/blocking_call.h"
#include "reactor/thread_name.h"
#include "reactor/uring_engine.h"

namespace nvmfd {

namespace {
thread_local reactor* tls_current = nullptr;
constexpr int max_events = 64;
// How long a stopping reactor waits for its io_uring operations to come in.
constexpr std::chrono::milliseconds uring_stop_bound{5000};
}  // namespace

reactor::reactor(unsigned index, std::optional<int> cpu, poll_settings polling, io_settings io, time_source* time)
    : index_(index),
      cpu_(cpu),
      time_(time ? time : &steady_time()),
      poller_(make_epoll_backend()),
      window_(polling),
      settings_(polling) {
  io_ = io;
  backend_.store(resolve_io_backend(io.backend), std::memory_order_relaxed);
  epoll_op_.r = this;
  wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd_ < 0) {
    NVMFD_LOG_ERROR("reactor {}: eventfd: {}", index, errno);
    std::abort();  // invariant: the process cannot run without its event loops
  }
  (void)poller_->add(wakefd_, EPOLLIN, nullptr);  // a null tag marks the wake eventfd
  time_->subscribe(*this);
}

reactor::~reactor() {
  time_->unsubscribe(*this);
  uring_.reset();
  if (wakefd_ >= 0) close(wakefd_);
}

reactor* reactor::current() { return tls_current; }

void reactor::wake() {
  uint64_t one = 1;
  [[maybe_unused]] auto n = write(wakefd_, &one, sizeof(one));
}

void reactor::post(std::function<void()> fn) {
  {
    std::lock_guard lk(post_mu_);
    posted_.push_back(std::move(fn));
  }
  wake();
}

bool reactor::post(deferred_task& t) {
  if (tls_current == this) {
    defer(t);
    return true;
  }
  auto r = inbox_.push(t);
  if (r == task_inbox::push_result::queued_first) wake();  // else a wake-up is under way
  return r != task_inbox::push_result::closed;
}

void reactor::stop() {
  stop_.store(true);
  wake();
}

void reactor::set_poll_settings(poll_settings s) {
  {
    std::lock_guard lk(settings_mu_);
    settings_ = s;
  }
  settings_changed_.store(true, std::memory_order_release);
  wake();  // a reactor asleep picks the change up now
}

poll_settings reactor::get_poll_settings() const {
  std::lock_guard lk(settings_mu_);
  return settings_;
}

result<void> reactor::watch(int fd, uint32_t events, event_handler* h) {
  auto r = poller_->add(fd, events, h);
  if (r) handlers_[fd] = h;
  return r;
}

result<void> reactor::rewatch(int fd, uint32_t events, event_handler* h) {
  auto r = poller_->modify(fd, events, h);
  if (r) handlers_[fd] = h;
  return r;
}

void reactor::unwatch(int fd) {
  poller_->remove(fd);
  auto it = handlers_.find(fd);
  if (it == handlers_.end()) return;
  event_handler* h = it->second;
  handlers_.erase(it);
  // Events of this handler later in the batch being dispatched are stale: its owner may be
  // destroyed as soon as unwatch returns (a listener removed through run_on, a connection
  // released), so they must not be delivered.
  for (int j = batch_next_; j < batch_n_; ++j)
    if (batch_[j].tag == h) batch_[j].tag = this;
}

void reactor::defer(deferred_task& t) {
  assert(t.next_deferred_ == nullptr && deferred_tail_ != &t);
  t.next_deferred_ = nullptr;
  if (deferred_tail_)
    deferred_tail_->next_deferred_ = &t;
  else
    deferred_head_ = &t;
  deferred_tail_ = &t;
}

timer_id reactor::schedule(clock_type::duration delay, std::function<void()> fn) {
  auto when = time_->now() + delay;
  timer_id id = next_timer_id_++;
  timer_order_.emplace(when, id);
  timers_.emplace(id, std::make_pair(when, std::move(fn)));
  return id;
}

void reactor::cancel(timer_id id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  auto range = timer_order_.equal_range(it->second.first);
  for (auto o = range.first; o != range.second; ++o) {
    if (o->second == id) {
      timer_order_.erase(o);
      break;
    }
  }
  timers_.erase(it);
}

uring_engine* reactor::uring() {
  if (!uring_ && !uring_failed_ && backend() == io_backend::epoll) {
    auto e = uring_engine::create(*this, uring_engine::mode::watched);
    if (e.ok()) {
      uring_ = std::move(e.value());
    } else {
      uring_failed_ = true;
      NVMFD_LOG_WARN("reactor {}: io_uring unavailable: {}", index_, e.err().message);
    }
  }
  return uring_.get();
}

bool reactor::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lk(post_mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
  return !batch.empty();
}

bool reactor::run_deferred_tasks() {
  // Tasks deferred while running are picked up in the same pass: bounded by the work queued.
  // They run in generations: those queued when a generation starts share one batch tick
  // (tick_clock.h), those they defer form the next.
  bool ran = deferred_head_ != nullptr;
  while (deferred_head_) {
    tick_clock::start_batch();
    deferred_task* last = deferred_tail_;
    bool was_last = false;
    while (deferred_head_ && !was_last) {
      deferred_task* t = deferred_head_;
      deferred_head_ = t->next_deferred_;
      if (!deferred_head_) deferred_tail_ = nullptr;
      t->next_deferred_ = nullptr;
      was_last = t == last;  // before it runs: it may be freed and its memory deferred again
      t->run_deferred();
    }
  }
  return ran;
}

bool reactor::run_timers() {
  if (timer_order_.empty()) return false;
  auto now = time_->now();
  bool ran = false;
  tick_clock::start_batch();
  while (!timer_order_.empty() && timer_order_.begin()->first <= now) {
    timer_id id = timer_order_.begin()->second;
    timer_order_.erase(timer_order_.begin());
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;
    auto fn = std::move(it->second.second);
    timers_.erase(it);
    fn();
    ran = true;
  }
  return ran;
}

bool reactor::dispatch(std::span<poll_event> events) {
  batch_ = events.data();
  batch_n_ = static_cast<int>(events.size());
  bool work = false;
  for (int i = 0; i < batch_n_; ++i) {
    batch_next_ = i + 1;
    if (events[i].tag == this) continue;  // its handler was unwatched earlier in this batch
    tick_clock::start_batch();
    auto* h = static_cast<event_handler*>(events[i].tag);
    if (h == nullptr) {
      uint64_t v;
      [[maybe_unused]] auto r = read(wakefd_, &v, sizeof(v));  // before the queues: no wake-up lost
      work |= run_posted();
      work |= inbox_.run_all();
    } else {
      h->on_events(events[i].events);
      work = true;
    }
    run_deferred_tasks();
  }
  batch_n_ = batch_next_ = 0;
  return work;
}

void reactor::start_uring() {
  auto e = uring_engine::create(*this, uring_engine::mode::driving, io_);
  if (!e) {
    NVMFD_LOG_WARN("reactor {}: io_uring ring: {}; running on epoll", index_, e.err().message);
    backend_.store(io_backend::epoll, std::memory_order_relaxed);
    return;
  }
  uring_ = std::move(e.value());
  arm_epoll_poll();
  epoll_ready_ = true;  // whatever was watched before the loop started
}

void reactor::arm_epoll_poll() {
  io_uring_sqe* sqe = uring_->get_sqe(epoll_op_);
  if (!sqe) return;  // full ring: epoll_ready_ keeps the loop looking until a later pass re-arms
  io_uring_prep_poll_multishot(sqe, poller_->fd(), POLLIN);
  epoll_armed_ = true;
}

void reactor::epoll_poll_op::on_complete(int res, uint32_t flags) {
  if (res >= 0) r->epoll_ready_ = true;
  if (!(flags & IORING_CQE_F_MORE)) {
    r->epoll_armed_ = false;
    if (res == -ECANCELED) return;  // stopping
    r->epoll_ready_ = true;         // whatever fired meanwhile: look before re-arming
  }
}

bool reactor::epoll_pass(int timeout, std::span<poll_event> events) {
  if (uring_) uring_->flush();
  int n = poller_->wait(events, timeout);
  return n > 0 && dispatch(events.first(static_cast<size_t>(n)));
}

bool reactor::uring_pass(int timeout, std::span<poll_event> events) {
  if (!epoll_armed_ && !stop_.load(std::memory_order_relaxed)) arm_epoll_poll();
  if (timeout == 0)
    uring_->flush();
  else
    uring_->wait(timeout);
  bool work = uring_->reap();
  if (work) run_deferred_tasks();
  if (epoll_ready_) {
    // Level-triggered fds left ready do not wake the epoll fd again: look once more on the
    // next pass as long as this look found events.
    int n = poller_->wait(events, 0);
    epoll_ready_ = n > 0;
    if (n > 0) work |= dispatch(events.first(static_cast<size_t>(n)));
  }
  return work;
}

int reactor::next_timeout_ms() const {
  if (deferred_head_) return 0;
  if (timer_order_.empty()) return -1;
  auto delta = timer_order_.begin()->first - time_->now();
  if (delta <= clock_type::duration::zero()) return 0;
  if (!time_->moves_by_itself()) return -1;  // advancing the time wakes the loop
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(delta).count());
}

void reactor::run() {
  tls_current = this;
  counters_.tid.store(static_cast<int>(gettid()), std::memory_order_relaxed);
  inbox_.reopen();
  if (cpu_) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*cpu_, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
      NVMFD_LOG_WARN("reactor {}: cannot pin to cpu {}", index_, *cpu_);
  }
  if (backend() == io_backend::uring) start_uring();
  const bool on_uring = backend() == io_backend::uring;
  poll_event events[max_events];
  bool polling = window_.settings().mode == poll_mode::always;
  while (!stop_.load(std::memory_order_relaxed)) {
    if (settings_changed_.load(std::memory_order_acquire)) {
      settings_changed_.store(false, std::memory_order_relaxed);
      window_.set(get_poll_settings());
      // Woken for the change: a switch to always-polling must not block first.
      if (window_.settings().mode == poll_mode::always) polling = true;
    }
    int timeout = polling || (on_uring && epoll_ready_) ? 0 : next_timeout_ms();
    clock_type::time_point slept_at;
    if (timeout != 0) {
      slept_at = clock_type::now();
      counters_.asleep_since.store(reactor_counters::ns_of(slept_at), std::memory_order_relaxed);
    }
    bool work = on_uring ? uring_pass(timeout, events) : epoll_pass(timeout, events);
    work |= run_timers();
    work |= run_deferred_tasks();
    auto now = clock_type::now();
    if (timeout != 0) {
      window_.after_sleep(slept_at, now, work);
      counters_.sleeps.store(counters_.sleeps.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      counters_.idle_ns.store(counters_.idle_ns.load(std::memory_order_relaxed) +
                                  static_cast<uint64_t>(std::chrono::nanoseconds(now - slept_at).count()),
                              std::memory_order_relaxed);
      counters_.asleep_since.store(0, std::memory_order_relaxed);
    }
    polling = window_.keep_polling(now, work, pending_ > 0);
    counters_.passes.store(counters_.passes.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    counters_.window_ns.store(std::chrono::nanoseconds(window_.window()).count(), std::memory_order_relaxed);
  }
  // Drain what was posted before stop so that waiters (run_on) are released; tasks posted
  // from other threads after this are refused (post returns false).
  run_posted();
  inbox_.close();
  run_deferred_tasks();
  // Nothing in flight may outlive the loop: io_uring operations refer to their owners.
  if (uring_) {
    if (epoll_armed_) {
      if (io_uring_sqe* sqe = uring_->get_sqe(nullptr)) io_uring_prep_cancel(sqe, &epoll_op_, 0);
    }
    uring_->stop(uring_stop_bound);
    run_deferred_tasks();
  }
  tick_clock::end_batches();
  tls_current = nullptr;
}

reactor_pool::reactor_pool(unsigned n, std::vector<int> cpus, poll_settings polling, io_settings io,
                           time_source* time)
    : backend_(resolve_io_backend(io.backend)) {
  io.backend = backend_;
  for (unsigned i = 0; i < n; ++i) {
    std::optional<int> cpu;
    if (i < cpus.size()) cpu = cpus[i];
    reactors_.push_back(std::make_unique<reactor>(i, cpu, polling, io, time));
  }
  for (auto& r : reactors_) {
    threads_.emplace_back([rp = r.get()] { rp->run(); });
    set_thread_name(threads_.back(), "reactor-" + std::to_string(r->index()));
  }
}

reactor_pool::~reactor_pool() { stop(); }

void reactor_pool::run_on(unsigned i, const std::function<void()>& fn, std::source_location where) {
  (void)blocking_call<void>(
      at(i),
      [&fn](completion<void> done) {
        fn();
        done(success());
      },
      std::nullopt, "reactor_pool::run_on", where);
}

void reactor_pool::set_poll_settings(poll_settings s) {
  for (auto& r : reactors_) r->set_poll_settings(s);
}

void reactor_pool::stop() {
  for (auto& r : reactors_) r->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace nvmfd
