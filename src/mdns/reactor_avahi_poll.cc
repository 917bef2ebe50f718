#include "mdns/reactor_avahi_poll.h"

#include <avahi-common/timeval.h>
#include <sys/epoll.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "base/log.h"
#include "reactor/reactor_assert.h"
#include "reactor/reactor_timer.h"

// Avahi declares these types opaque; their layout is the provider's (ours).
struct AvahiWatch {
  nvmfd::reactor_avahi_poll::fd_entry* entry;
  AvahiWatchEvent events;   // wanted
  AvahiWatchEvent revents;  // reported by the last dispatch
  AvahiWatchCallback callback;
  void* userdata;
  bool dead = false;  // freed while its fd dispatched: deleted after the dispatch
};

struct AvahiTimeout {
  AvahiTimeout(nvmfd::reactor_avahi_poll& p, AvahiTimeoutCallback cb, void* ud)
      : poll(&p), timer(p.owner()), callback(cb), userdata(ud) {}
  nvmfd::reactor_avahi_poll* poll;
  nvmfd::reactor_timer timer;
  AvahiTimeoutCallback callback;
  void* userdata;
  bool firing = false;  // its callback runs now
  bool dead = false;    // freed by its own callback: deleted when that returns
};

namespace nvmfd {

static_assert(uint32_t(AVAHI_WATCH_IN) == EPOLLIN && uint32_t(AVAHI_WATCH_OUT) == EPOLLOUT &&
              uint32_t(AVAHI_WATCH_ERR) == EPOLLERR && uint32_t(AVAHI_WATCH_HUP) == EPOLLHUP);

struct reactor_avahi_poll::fd_entry final : event_handler {
  reactor_avahi_poll* poll = nullptr;
  int fd = -1;
  uint32_t watched = 0;  // the events the reactor watches fd for, 0 when not watched
  bool dispatching = false;
  std::vector<std::unique_ptr<AvahiWatch>> watches;

  void on_events(uint32_t events) override {
    dispatching = true;
    // Watches added by a callback wait for the next event.
    for (size_t i = 0, n = watches.size(); i < n; ++i) {
      AvahiWatch* w = watches[i].get();
      if (w->dead || w->events == 0) continue;
      uint32_t mine = events & (uint32_t(w->events) | EPOLLERR | EPOLLHUP);
      if (!mine) continue;
      w->revents = AvahiWatchEvent(mine);
      w->callback(w, fd, w->revents, w->userdata);
    }
    dispatching = false;
    std::erase_if(watches, [](const auto& w) { return w->dead; });
    poll->sync(*this);  // may destroy this
  }
};

namespace {

reactor_avahi_poll& self_of(const AvahiPoll* api) { return *static_cast<reactor_avahi_poll*>(api->userdata); }

// Avahi's absolute time as a delay from now (0 when it is past).
clock_type::duration delay_until(const struct timeval* tv) {
  AvahiUsec age = avahi_age(tv);  // how long ago tv was: negative for the future
  return std::chrono::microseconds(std::max<AvahiUsec>(0, -age));
}

void arm(AvahiTimeout* t, const struct timeval* tv) {
  if (!tv) {
    t->timer.cancel();
    return;
  }
  t->timer.arm(delay_until(tv), [t] {
    t->firing = true;
    t->callback(t, t->userdata);
    t->firing = false;
    if (t->dead) delete t;
  });
}

}  // namespace

reactor_avahi_poll::reactor_avahi_poll(reactor& r) : r_(r) {
  api_.userdata = this;
  api_.watch_new = watch_new;
  api_.watch_update = watch_update;
  api_.watch_get_events = watch_get_events;
  api_.watch_free = watch_free;
  api_.timeout_new = timeout_new;
  api_.timeout_update = timeout_update;
  api_.timeout_free = timeout_free;
}

reactor_avahi_poll::~reactor_avahi_poll() {
  assert_on(r_, "reactor_avahi_poll::~reactor_avahi_poll");
  for (auto& [fd, e] : fds_)
    if (e->watched) r_.unwatch(fd);
  fds_.clear();
  timeouts_.clear();  // cancels their timers
}

void reactor_avahi_poll::sync(fd_entry& e) {
  uint32_t want = 0;
  for (auto& w : e.watches) want |= uint32_t(w->events);
  if (want == e.watched && !e.watches.empty()) return;
  if (e.watched && !want) {
    r_.unwatch(e.fd);
  } else if (want) {
    auto r = e.watched ? r_.rewatch(e.fd, want, &e) : r_.watch(e.fd, want, &e);
    if (!r) NVMFD_LOG_WARN("mDNS: cannot watch fd {}: {}", e.fd, r.err().message);
  }
  e.watched = want;
  if (e.watches.empty()) fds_.erase(e.fd);
}

AvahiWatch* reactor_avahi_poll::watch_new(const AvahiPoll* api, int fd, AvahiWatchEvent events,
                                          AvahiWatchCallback cb, void* userdata) {
  reactor_avahi_poll& self = self_of(api);
  assert_on(self.r_, "AvahiPoll::watch_new");
  auto& slot = self.fds_[fd];
  if (!slot) {
    slot = std::make_unique<fd_entry>();
    slot->poll = &self;
    slot->fd = fd;
  }
  auto w = std::make_unique<AvahiWatch>(AvahiWatch{slot.get(), events, AvahiWatchEvent(0), cb, userdata});
  AvahiWatch* out = w.get();
  slot->watches.push_back(std::move(w));
  if (!slot->dispatching) self.sync(*slot);
  return out;
}

void reactor_avahi_poll::watch_update(AvahiWatch* w, AvahiWatchEvent events) {
  fd_entry& e = *w->entry;
  assert_on(e.poll->r_, "AvahiPoll::watch_update");
  w->events = events;
  if (!e.dispatching) e.poll->sync(e);
}

AvahiWatchEvent reactor_avahi_poll::watch_get_events(AvahiWatch* w) { return w->revents; }

void reactor_avahi_poll::watch_free(AvahiWatch* w) {
  fd_entry& e = *w->entry;
  assert_on(e.poll->r_, "AvahiPoll::watch_free");
  if (e.dispatching) {
    w->dead = true;
    w->events = AvahiWatchEvent(0);
    return;
  }
  std::erase_if(e.watches, [w](const auto& p) { return p.get() == w; });
  e.poll->sync(e);  // may destroy e
}

AvahiTimeout* reactor_avahi_poll::timeout_new(const AvahiPoll* api, const struct timeval* tv, AvahiTimeoutCallback cb,
                                              void* userdata) {
  reactor_avahi_poll& self = self_of(api);
  assert_on(self.r_, "AvahiPoll::timeout_new");
  auto t = std::make_unique<AvahiTimeout>(self, cb, userdata);
  AvahiTimeout* out = t.get();
  self.timeouts_.emplace(out, std::move(t));
  arm(out, tv);
  return out;
}

void reactor_avahi_poll::timeout_update(AvahiTimeout* t, const struct timeval* tv) {
  assert_on(t->timer.owner(), "AvahiPoll::timeout_update");
  arm(t, tv);
}

void reactor_avahi_poll::timeout_free(AvahiTimeout* t) {
  assert_on(t->timer.owner(), "AvahiPoll::timeout_free");
  t->timer.cancel();
  auto it = t->poll->timeouts_.find(t);
  if (t->firing) {
    t->dead = true;  // its callback runs: the timer callback deletes it when that returns
    (void)it->second.release();
  }
  t->poll->timeouts_.erase(it);
}

}  // namespace nvmfd
