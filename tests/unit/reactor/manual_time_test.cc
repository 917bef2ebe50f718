// Reactors on a manual time_source: timers fire when the test moves the time, never on
// their own, and a wait that the time could never end does not hang a test.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <vector>

#include "reactor/manual_time.h"
#include "reactor/reactor.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

struct counting_listener final : time_listener {
  int moved = 0;
  void on_time_moved() override { ++moved; }
};

TEST(manual_time, stands_still_until_advanced_and_tells_its_listeners) {
  manual_time t;
  counting_listener l;
  t.subscribe(l);
  auto t0 = t.now();
  EXPECT_EQ(t.now(), t0);
  EXPECT_FALSE(t.moves_by_itself());
  t.advance(1500ms);
  EXPECT_EQ(t.now() - t0, std::chrono::duration_cast<time_source::duration>(1500ms));
  EXPECT_EQ(l.moved, 1);
  t.unsubscribe(l);
  t.advance(1s);
  EXPECT_EQ(l.moved, 1);
  EXPECT_GT(t0.time_since_epoch(), std::chrono::hours(1)) << "far from the clock's zero";
}

TEST(manual_time, the_steady_source_moves_by_itself) {
  EXPECT_TRUE(steady_time().moves_by_itself());
  auto a = steady_time().now();
  EXPECT_LE(a, steady_time().now());
}

class manual_reactor_test : public ::testing::TestWithParam<io_backend> {
 protected:
  void SetUp() override {
    if (GetParam() == io_backend::uring && !uring_sockets_supported()) GTEST_SKIP() << "no io_uring sockets here";
  }
  manual_time time;
};

TEST_P(manual_reactor_test, timers_fire_when_the_time_reaches_them_and_not_before) {
  reactor_pool pool(1, {}, {}, io_settings{GetParam()}, &time);
  std::vector<int> fired;  // touched on the reactor only
  std::promise<void> ten;
  pool.run_on(0, [&] {
    EXPECT_EQ(pool.at(0).now(), time.now());
    pool.at(0).schedule(10s, [&] {
      fired.push_back(10);
      ten.set_value();
    });
    pool.at(0).schedule(20s, [&] { fired.push_back(20); });
  });
  time.advance(9999ms);
  pool.run_on(0, [] {});  // a pass after the move: nothing is due yet
  pool.run_on(0, [&] { EXPECT_TRUE(fired.empty()); });
  time.advance(1ms);  // wakes the reactor, which runs the 10 s timer
  ASSERT_EQ(ten.get_future().wait_for(5s), std::future_status::ready);
  pool.run_on(0, [&] { EXPECT_EQ(fired, (std::vector<int>{10})); });
  time.advance(10s);
  pool.run_on(0, [] {});
  pool.run_on(0, [&] { EXPECT_EQ(fired, (std::vector<int>{10, 20})); });
}

TEST_P(manual_reactor_test, a_reactor_asleep_with_a_timer_waits_for_the_time_not_for_the_wall_clock) {
  reactor_pool pool(1, {}, {}, io_settings{GetParam()}, &time);
  std::atomic<bool> fired{false};
  pool.run_on(0, [&] { pool.at(0).schedule(1ns, [&] { fired = true; }); });
  // However many passes run and however long they take, the time has not moved.
  for (int i = 0; i < 20; ++i) pool.run_on(0, [] {});
  EXPECT_FALSE(fired.load());
  time.advance(1ns);
  pool.run_on(0, [] {});
  pool.run_on(0, [] {});
  EXPECT_TRUE(fired.load());
}

TEST_P(manual_reactor_test, cancelled_timers_stay_cancelled_when_the_time_passes_them) {
  reactor_pool pool(1, {}, {}, io_settings{GetParam()}, &time);
  std::atomic<int> fired{0};
  pool.run_on(0, [&] {
    timer_id a = pool.at(0).schedule(5s, [&] { fired += 1; });
    pool.at(0).schedule(5s, [&] { fired += 10; });
    pool.at(0).cancel(a);
  });
  time.advance(1min);
  pool.run_on(0, [] {});
  pool.run_on(0, [] {});
  EXPECT_EQ(fired.load(), 10);
}

INSTANTIATE_TEST_SUITE_P(backends, manual_reactor_test, ::testing::Values(io_backend::epoll, io_backend::uring),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace nvmfd
