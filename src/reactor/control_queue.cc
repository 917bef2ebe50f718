#include "reactor/control_queue.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

#include "reactor/reactor.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {

// Everything but `queued` is touched on home only.
struct control_queue::state : std::enable_shared_from_this<state> {
  explicit state(reactor& r) : home(r) {}

  struct request {
    ticket id;
    std::function<void(token)> fn;
  };

  reactor& home;
  bool held = false;
  bool grant_posted = false;
  std::deque<request> waiting;
  ticket next_ticket = 1;
  std::atomic<size_t> queued{0};

  ticket enqueue(std::function<void(token)> fn) {
    ticket id = next_ticket++;
    waiting.push_back({id, std::move(fn)});
    queued.store(waiting.size(), std::memory_order_relaxed);
    grant_soon();
    return id;
  }

  bool remove(ticket id) {
    for (auto it = waiting.begin(); it != waiting.end(); ++it) {
      if (it->id != id) continue;
      auto gone = std::move(it->fn);  // destroyed after the queue is consistent again
      waiting.erase(it);
      queued.store(waiting.size(), std::memory_order_relaxed);
      return true;
    }
    return false;
  }

  // The next request gets the turn from a task of its own, never inside the caller.
  void grant_soon() {
    if (held || waiting.empty() || grant_posted) return;
    grant_posted = true;
    home.post([self = shared_from_this()] {
      self->grant_posted = false;
      if (self->held || self->waiting.empty()) return;  // cancelled meanwhile
      request r = std::move(self->waiting.front());
      self->waiting.pop_front();
      self->queued.store(self->waiting.size(), std::memory_order_relaxed);
      self->held = true;
      r.fn(token(self));
    });
  }

  void release() {
    held = false;
    grant_soon();
  }
};

control_queue::token& control_queue::token::operator=(token&& o) noexcept {
  if (this != &o) {
    unlock();
    st_ = std::move(o.st_);
  }
  return *this;
}

void control_queue::token::unlock() {
  auto st = std::move(st_);
  if (!st) return;
  if (reactor::current() == &st->home)
    st->release();
  else
    st->home.post([st] { st->release(); });
}

control_queue::control_queue(reactor& home) : st_(std::make_shared<state>(home)) {}

reactor& control_queue::home() const { return st_->home; }

control_queue::ticket control_queue::acquire(std::function<void(token)> fn) {
  assert_on(st_->home, "control_queue::acquire");
  return st_->enqueue(std::move(fn));
}

bool control_queue::cancel(ticket t) {
  assert_on(st_->home, "control_queue::cancel");
  return st_->remove(t);
}

size_t control_queue::queued() const { return st_->queued.load(std::memory_order_relaxed); }

namespace {

// One lock_blocking() call: the waiting thread and home meet here.
struct blocking_waiter {
  std::mutex mu;
  std::condition_variable_any cv;
  std::optional<control_queue::token> granted;
  bool abandoned = false;           // the waiter gave up: a late grant is given back
  control_queue::ticket ticket = 0;  // home only
};

}  // namespace

control_queue::token control_queue::lock_blocking(std::stop_token stop, std::source_location where) {
  assert_not_on(st_->home, "control_queue::lock_blocking", where);
  if (stop.stop_requested()) return token();
  auto w = std::make_shared<blocking_waiter>();
  std::shared_ptr<state> st = st_;
  st->home.post([st, w] {
    w->ticket = st->enqueue([w](token t) {
      std::lock_guard lk(w->mu);
      if (w->abandoned) return;  // t goes back as it leaves this scope
      w->granted.emplace(std::move(t));
      w->cv.notify_all();
    });
  });
  std::unique_lock lk(w->mu);
  if (w->cv.wait(lk, stop, [&] { return w->granted.has_value(); })) return std::move(*w->granted);
  w->abandoned = true;
  lk.unlock();
  // Posted after the enqueue above, so it finds the request queued, granted or never made.
  st->home.post([st, w] { st->remove(w->ticket); });
  return token();
}

}  // namespace nvmfd
