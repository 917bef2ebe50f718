// reactor_avahi_poll without a daemon: the AvahiPoll vtable driven directly, on a reactor of
// a manual clock (Avahi's absolute times become delays on it). Watches on pipes and a socket
// pair; timeouts created, updated and freed from inside callbacks.
#include "mdns/reactor_avahi_poll.h"

#include <avahi-common/timeval.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <memory>
#include <vector>

#include "reactor/manual_time.h"
#include "reactor/reactor.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

struct fd_pair {
  int rd = -1, wr = -1;
  fd_pair() {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
    rd = p[0];
    wr = p[1];
  }
  ~fd_pair() {
    ::close(rd);
    ::close(wr);
  }
  void put() { EXPECT_EQ(::write(wr, "x", 1), 1); }
};

// One callback's record: how often it ran, what it saw, and a promise for the first run.
struct probe {
  int calls = 0;
  AvahiWatchEvent seen{};
  std::promise<void> first;
  std::function<void(AvahiWatch*)> then;  // extra work inside the callback
};

void on_watch(AvahiWatch* w, int, AvahiWatchEvent ev, void* ud) {
  auto* p = static_cast<probe*>(ud);
  p->seen = ev;
  if (p->then) p->then(w);
  if (++p->calls == 1) p->first.set_value();
}

struct reactor_avahi_poll_test : ::testing::Test {
  manual_time time;
  reactor_pool pool{1, {}, {}, {}, &time};
  reactor& r = pool.at(0);
  std::unique_ptr<reactor_avahi_poll> poll;
  const AvahiPoll* api = nullptr;

  reactor_avahi_poll_test() {
    pool.run_on(0, [&] {
      poll = std::make_unique<reactor_avahi_poll>(r);
      api = poll->api();
    });
  }
  ~reactor_avahi_poll_test() override {
    pool.run_on(0, [&] { poll.reset(); });
  }
  void on_loop(const std::function<void()>& fn) { pool.run_on(0, fn); }
  static void wait(std::promise<void>& p) {
    ASSERT_EQ(p.get_future().wait_for(10s), std::future_status::ready);
  }
  // Avahi's absolute time `d` from now.
  static timeval in(std::chrono::milliseconds d) {
    timeval tv;
    avahi_elapse_time(&tv, static_cast<unsigned>(d.count()), 0);
    return tv;
  }
};

TEST_F(reactor_avahi_poll_test, a_watch_on_a_pipe_fires_in_and_get_events_reports_it) {
  fd_pair p;
  probe pr;
  AvahiWatchEvent inside{};
  pr.then = [&](AvahiWatch* w) { inside = api->watch_get_events(w); api->watch_update(w, AvahiWatchEvent(0)); };
  AvahiWatch* w = nullptr;
  on_loop([&] { w = api->watch_new(api, p.rd, AVAHI_WATCH_IN, on_watch, &pr); });
  p.put();
  wait(pr.first);
  EXPECT_EQ(pr.seen, AVAHI_WATCH_IN);
  EXPECT_EQ(inside, AVAHI_WATCH_IN);
  on_loop([&] {
    EXPECT_EQ(api->watch_get_events(w), AVAHI_WATCH_IN);
    api->watch_free(w);
  });
}

// Updated to 0, a watch on a readable pipe is not called again; a second pipe written at
// the same time proves the loop has looked (level-triggered: a watched pipe would fire with it).
TEST_F(reactor_avahi_poll_test, a_watch_updated_to_no_events_stays_quiet) {
  fd_pair quiet, marker;
  probe q, m;
  AvahiWatch *wq = nullptr, *wm = nullptr;
  on_loop([&] {
    wq = api->watch_new(api, quiet.rd, AVAHI_WATCH_IN, on_watch, &q);
    api->watch_update(wq, AvahiWatchEvent(0));
    wm = api->watch_new(api, marker.rd, AVAHI_WATCH_IN, on_watch, &m);
  });
  quiet.put();
  marker.put();
  wait(m.first);
  on_loop([] {});  // the rest of that pass
  EXPECT_EQ(q.calls, 0);
  // And back on: it fires.
  on_loop([&] { api->watch_update(wq, AVAHI_WATCH_IN); });
  wait(q.first);
  on_loop([&] {
    api->watch_free(wq);
    api->watch_free(wm);
  });
}

// libdbus watches one fd twice (read and write); a callback frees itself, and the other
// watch of its fd, and the loop goes on without touching either.
TEST_F(reactor_avahi_poll_test, watches_sharing_an_fd_and_freed_inside_callbacks) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  probe in, out;
  AvahiWatch *w_in = nullptr, *w_out = nullptr;
  out.then = [&](AvahiWatch* self) { api->watch_free(self); };  // its own watch, inside its callback
  in.then = [&](AvahiWatch* self) { api->watch_free(self); };
  on_loop([&] {
    w_in = api->watch_new(api, sv[0], AVAHI_WATCH_IN, on_watch, &in);
    w_out = api->watch_new(api, sv[0], AVAHI_WATCH_OUT, on_watch, &out);
  });
  wait(out.first);  // writable at once
  EXPECT_EQ(out.seen, AVAHI_WATCH_OUT);
  ASSERT_EQ(::write(sv[1], "x", 1), 1);
  wait(in.first);
  EXPECT_EQ(in.seen, AVAHI_WATCH_IN);
  on_loop([] {});
  EXPECT_EQ(out.calls, 1);
  EXPECT_EQ(in.calls, 1);
  // A callback that frees another watch of its fd: that one is not called in the same pass.
  probe a, b;
  AvahiWatch* wb = nullptr;
  a.then = [&](AvahiWatch* self) {
    api->watch_free(wb);
    api->watch_free(self);
  };
  on_loop([&] {
    api->watch_new(api, sv[0], AVAHI_WATCH_IN, on_watch, &a);
    wb = api->watch_new(api, sv[0], AVAHI_WATCH_IN, on_watch, &b);
  });
  wait(a.first);
  on_loop([] {});
  EXPECT_EQ(b.calls, 0);
  ::close(sv[0]);
  ::close(sv[1]);
}

struct timeout_log {
  std::vector<int> order;
  std::promise<void> done;
  size_t expect = 0;
};

struct timeout_probe {
  timeout_log* log;
  int id;
  const AvahiPoll* api;
  std::function<void(AvahiTimeout*)> then;
};

void on_timeout(AvahiTimeout* t, void* ud) {
  auto* p = static_cast<timeout_probe*>(ud);
  p->log->order.push_back(p->id);
  if (p->then) p->then(t);
  if (p->log->order.size() == p->log->expect) p->log->done.set_value();
}

TEST_F(reactor_avahi_poll_test, timeouts_fire_in_deadline_order_and_may_rearm_or_free_themselves) {
  timeout_log log;
  log.expect = 3;
  timeout_probe t3{&log, 3, api}, t1{&log, 1, api}, t2{&log, 2, api};
  bool rearmed = false;
  t1.then = [&](AvahiTimeout* t) {  // once more, later
    if (rearmed) return api->timeout_free(t);
    rearmed = true;
    timeval tv = in(5000ms);
    api->timeout_update(t, &tv);
  };
  t2.then = [&](AvahiTimeout* t) { api->timeout_free(t); };
  AvahiTimeout* a3 = nullptr;
  on_loop([&] {
    timeval tv3 = in(3000ms), tv1 = in(1000ms), tv2 = in(2000ms);
    a3 = api->timeout_new(api, &tv3, on_timeout, &t3);
    api->timeout_new(api, &tv1, on_timeout, &t1);
    api->timeout_new(api, &tv2, on_timeout, &t2);
  });
  time.advance(10s);
  wait(log.done);
  EXPECT_EQ(log.order, (std::vector<int>{1, 2, 3}));
  log.done = {};
  log.expect = 4;
  time.advance(10s);
  wait(log.done);
  EXPECT_EQ(log.order, (std::vector<int>{1, 2, 3, 1}));
  on_loop([&] { api->timeout_free(a3); });  // fired, not freed by Avahi: still ours to free
}

// A null time disables a timeout; a later deadline (the sentinel) proves it did not fire.
TEST_F(reactor_avahi_poll_test, a_disabled_timeout_fires_only_once_enabled) {
  timeout_log log;
  log.expect = 1;
  timeout_probe off{&log, 0, api}, on{&log, 1, api}, sentinel{&log, 2, api};
  AvahiTimeout* disabled = nullptr;
  on_loop([&] {
    disabled = api->timeout_new(api, nullptr, on_timeout, &off);
    timeval tv = in(1000ms);
    api->timeout_new(api, &tv, on_timeout, &on);
  });
  time.advance(1h);
  wait(log.done);
  EXPECT_EQ(log.order, (std::vector<int>{1}));
  log.done = {};
  log.expect = 2;
  on_loop([&] {
    timeval tv = in(1000ms);
    api->timeout_update(disabled, &tv);
    api->timeout_update(disabled, nullptr);  // disabled again before it was due
    timeval later = in(2000ms);
    api->timeout_new(api, &later, on_timeout, &sentinel);
  });
  time.advance(1h);
  wait(log.done);
  EXPECT_EQ(log.order, (std::vector<int>{1, 2}));
  log.done = {};
  log.expect = 3;
  on_loop([&] {
    timeval tv = in(0ms);
    api->timeout_update(disabled, &tv);
  });
  time.advance(1ms);
  wait(log.done);
  EXPECT_EQ(log.order, (std::vector<int>{1, 2, 0}));
}

}  // namespace
}  // namespace nvmfd
