#include "reactor/reactor.h"

#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>

#include "base/log.h"
#include "reactor/uring_engine.h"

namespace nvmfd {

namespace {
thread_local reactor* tls_current = nullptr;
constexpr int max_events = 64;
}  // namespace

reactor::reactor(unsigned index, std::optional<int> cpu)
    : index_(index), cpu_(cpu), poller_(make_epoll_backend()) {
  wakefd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd_ < 0) {
    NVMFD_LOG_ERROR("reactor {}: eventfd: {}", index, errno);
    std::abort();  // invariant: the process cannot run without its event loops
  }
  (void)poller_->add(wakefd_, EPOLLIN, nullptr);  // a null tag marks the wake eventfd
}

reactor::~reactor() {
  uring_.reset();
  if (wakefd_ >= 0) close(wakefd_);
}

reactor* reactor::current() { return tls_current; }

void reactor::post(std::function<void()> fn) {
  {
    std::lock_guard lk(post_mu_);
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = write(wakefd_, &one, sizeof(one));
}

void reactor::stop() {
  stop_.store(true);
  uint64_t one = 1;
  [[maybe_unused]] auto n = write(wakefd_, &one, sizeof(one));
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
  auto when = clock_type::now() + delay;
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
  if (!uring_ && !uring_failed_) {
    auto e = uring_engine::create(*this);
    if (e.ok()) {
      uring_ = std::move(e.value());
    } else {
      uring_failed_ = true;
      NVMFD_LOG_WARN("reactor {}: io_uring unavailable: {}", index_, e.err().message);
    }
  }
  return uring_.get();
}

void reactor::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lk(post_mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void reactor::run_deferred_tasks() {
  // Tasks deferred while running are picked up in the same pass: bounded by the work queued.
  while (deferred_head_) {
    deferred_task* t = deferred_head_;
    deferred_head_ = t->next_deferred_;
    if (!deferred_head_) deferred_tail_ = nullptr;
    t->next_deferred_ = nullptr;
    t->run_deferred();
  }
}

void reactor::run_timers() {
  auto now = clock_type::now();
  while (!timer_order_.empty() && timer_order_.begin()->first <= now) {
    timer_id id = timer_order_.begin()->second;
    timer_order_.erase(timer_order_.begin());
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;
    auto fn = std::move(it->second.second);
    timers_.erase(it);
    fn();
  }
}

int reactor::next_timeout_ms() const {
  if (deferred_head_) return 0;
  if (timer_order_.empty()) return -1;
  auto delta = timer_order_.begin()->first - clock_type::now();
  if (delta <= clock_type::duration::zero()) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(delta).count());
}

void reactor::run() {
  tls_current = this;
  if (cpu_) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(*cpu_, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
      NVMFD_LOG_WARN("reactor {}: cannot pin to cpu {}", index_, *cpu_);
  }
  poll_event events[max_events];
  while (!stop_.load(std::memory_order_relaxed)) {
    if (uring_) uring_->flush();
    int n = poller_->wait(events, next_timeout_ms());
    batch_ = events;
    batch_n_ = n;
    for (int i = 0; i < n; ++i) {
      batch_next_ = i + 1;
      if (events[i].tag == this) continue;  // its handler was unwatched earlier in this batch
      auto* h = static_cast<event_handler*>(events[i].tag);
      if (h == nullptr) {
        uint64_t v;
        [[maybe_unused]] auto r = read(wakefd_, &v, sizeof(v));
        run_posted();
      } else {
        h->on_events(events[i].events);
      }
      run_deferred_tasks();
    }
    batch_n_ = batch_next_ = 0;
    run_timers();
    run_deferred_tasks();
  }
  // Drain what was posted before stop so that waiters (run_on) are released.
  run_posted();
  run_deferred_tasks();
  tls_current = nullptr;
}

reactor_pool::reactor_pool(unsigned n, std::vector<int> cpus) {
  for (unsigned i = 0; i < n; ++i) {
    std::optional<int> cpu;
    if (i < cpus.size()) cpu = cpus[i];
    reactors_.push_back(std::make_unique<reactor>(i, cpu));
  }
  for (auto& r : reactors_) threads_.emplace_back([rp = r.get()] { rp->run(); });
}

reactor_pool::~reactor_pool() { stop(); }

void reactor_pool::run_on(unsigned i, const std::function<void()>& fn) {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  reactors_[i]->post([&] {
    fn();
    std::lock_guard lk(mu);
    done = true;
    cv.notify_one();
  });
  std::unique_lock lk(mu);
  cv.wait(lk, [&] { return done; });
}

void reactor_pool::stop() {
  for (auto& r : reactors_) r->stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace nvmfd
