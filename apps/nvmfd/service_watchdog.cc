#include "apps/nvmfd/service_watchdog.h"

#include "reactor/blocking_call.h"
#include "reactor/post_all.h"
#include "reactor/reactor_timer.h"

namespace nvmfd {

// Lives on home: every member is touched on home's thread only. Shared with the rounds in
// flight, which find it stopped when they complete late.
struct service_watchdog::state {
  state(reactor_pool& p, reactor& h, std::chrono::microseconds i, std::function<void()> f)
      : pool(p), home(h), interval(i), ping(std::move(f)), timer(h) {}
  reactor_pool& pool;
  reactor& home;
  std::chrono::microseconds interval;
  std::function<void()> ping;
  reactor_timer timer;
  bool round_out = false;
  bool stopped = false;
};

void service_watchdog::arm(const std::shared_ptr<state>& s) {
  std::weak_ptr<state> w = s;
  s->timer.arm(s->interval, [w] {
    if (auto s = w.lock()) tick(s);
  });
}

void service_watchdog::tick(const std::shared_ptr<state>& s) {
  if (s->stopped) return;
  arm(s);
  if (s->round_out) return;
  s->round_out = true;
  post_all(s->pool, [](reactor&) {}, s->home, [s] {
    s->round_out = false;
    if (!s->stopped) s->ping();
  });
}

service_watchdog::service_watchdog(reactor_pool& pool, reactor& home, std::chrono::microseconds interval,
                                   std::function<void()> ping) {
  (void)blocking_call<void>(home, [&](completion<void> done) {
    state_ = std::make_shared<state>(pool, home, interval, std::move(ping));
    tick(state_);
    done(success());
  }, std::nullopt, "service_watchdog start");
}

service_watchdog::~service_watchdog() { stop(); }

void service_watchdog::stop() {
  if (!state_) return;
  (void)blocking_call<void>(state_->home, [s = state_](completion<void> done) {
    s->stopped = true;
    s->timer.cancel();
    done(success());
  }, std::nullopt, "service_watchdog stop");
  state_.reset();
}

}  // namespace nvmfd
