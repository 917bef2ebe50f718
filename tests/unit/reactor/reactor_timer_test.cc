// reactor_timer on a manual clock: it fires once when due and not before, arming it again
// replaces the pending shot, destroying it cancels, and its callback may re-arm or destroy it.
#include "reactor/reactor_timer.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>

#include "reactor/manual_time.h"
#include "reactor/reactor.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

struct reactor_timer_test : ::testing::Test {
  manual_time time;
  reactor_pool pool{1, {}, {}, {}, &time};
  reactor& r = pool.at(0);

  // A timer at `at` whose shot the test waits for: every timer due before it has run then.
  std::future<void> sentinel(clock_type::duration at) {
    auto p = std::make_shared<std::promise<void>>();
    pool.run_on(0, [&, p] { r.schedule(at, [p] { p->set_value(); }); });
    return p->get_future();
  }
};

TEST_F(reactor_timer_test, fires_once_when_due_and_is_disarmed_in_its_callback) {
  reactor_timer t(r);
  int fired = 0;
  bool armed_in_callback = true;
  pool.run_on(0, [&] {
    t.arm(5s, [&] {
      ++fired;
      armed_in_callback = t.armed();
    });
    EXPECT_TRUE(t.armed());
  });
  auto early = sentinel(4s);
  time.advance(4s);
  early.get();
  pool.run_on(0, [&] { EXPECT_EQ(fired, 0); });
  auto late = sentinel(2s);  // from now: 6 s after the arm
  time.advance(10s);
  late.get();
  pool.run_on(0, [&] {
    EXPECT_EQ(fired, 1);
    EXPECT_FALSE(armed_in_callback);
    EXPECT_FALSE(t.armed());
  });
}

TEST_F(reactor_timer_test, arming_again_replaces_the_pending_shot) {
  reactor_timer t(r);
  std::vector<int> fired;
  pool.run_on(0, [&] {
    t.arm(5s, [&] { fired.push_back(5); });
    t.arm(10s, [&] { fired.push_back(10); });
  });
  auto done = sentinel(11s);
  time.advance(1min);
  done.get();
  pool.run_on(0, [&] { EXPECT_EQ(fired, std::vector<int>{10}); });
}

TEST_F(reactor_timer_test, destroying_or_cancelling_an_armed_timer_cancels_its_shot) {
  auto t = std::make_unique<reactor_timer>(r);
  reactor_timer u(r);
  int fired = 0;
  pool.run_on(0, [&] {
    t->arm(5s, [&] { ++fired; });
    u.arm(5s, [&] { ++fired; });
    t.reset();
    u.cancel();
    EXPECT_FALSE(u.armed());
  });
  auto done = sentinel(6s);
  time.advance(1min);
  done.get();
  pool.run_on(0, [&] { EXPECT_EQ(fired, 0); });
}

TEST_F(reactor_timer_test, its_callback_may_arm_it_again_or_destroy_it) {
  auto t = std::make_unique<reactor_timer>(r);
  int shots = 0;
  bool destroyed = false;
  std::function<void()> shot = [&] {
    if (++shots < 3) return t->arm(1s, shot);
    t.reset();  // the closure being run is the reactor's own copy: it outlives the timer
    destroyed = true;
  };
  pool.run_on(0, [&] { t->arm(1s, shot); });
  for (int i = 0; i < 3; ++i) {
    auto next = sentinel(1s);  // due with the shot armed last, and run after it
    time.advance(1s);
    next.get();
  }
  pool.run_on(0, [&] {
    EXPECT_EQ(shots, 3);
    EXPECT_TRUE(destroyed);
  });
}

TEST(reactor_timer_death, arming_it_off_its_reactor_aborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        reactor_pool pool(1);
        reactor_timer t(pool.at(0));
        t.arm(1s, [] {});
      },
      "reactor_timer::arm is called off its owner reactor");
}

}  // namespace
}  // namespace nvmfd
