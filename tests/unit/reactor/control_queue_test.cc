// control_queue: requests get the turn one at a time in FIFO order, never inside acquire()
// or a release; a queued request can be cancelled; a blocking thread takes the turn with
// lock_blocking(), which a stop request ends at once; blocking and asynchronous holders
// interleave in request order.
#include "reactor/control_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include "reactor/reactor.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using token = control_queue::token;

// Waits (without sleeping) until pred holds, for at most a generous limit.
template <class Pred>
bool wait_until(Pred pred) {
  auto limit = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    std::this_thread::yield();
  }
  return true;
}

struct control_queue_test : ::testing::Test {
  reactor_pool pool{1};
  control_queue q{pool.at(0)};

  // Queues a request on home whose grant stores the token in *slot and fulfils the promise.
  control_queue::ticket hold_when_granted(token* slot, std::promise<void>* granted, std::vector<int>* order, int id) {
    control_queue::ticket t = 0;
    pool.run_on(0, [&] {
      t = q.acquire([=](token tok) {
        order->push_back(id);
        *slot = std::move(tok);
        granted->set_value();
      });
    });
    return t;
  }
};

TEST_F(control_queue_test, grants_one_at_a_time_in_request_order_never_inside_the_caller) {
  std::vector<int> order;  // home only
  token held[3];
  std::promise<void> granted[3];
  pool.run_on(0, [&] {
    for (int i = 0; i < 3; ++i)
      q.acquire([&, i](token t) {
        order.push_back(i);
        held[i] = std::move(t);
        granted[i].set_value();
      });
    EXPECT_TRUE(order.empty()) << "granted inside acquire()";
  });
  granted[0].get_future().wait();
  EXPECT_EQ(q.queued(), 2u);
  pool.run_on(0, [&] {
    EXPECT_EQ(order, std::vector<int>({0}));
    held[0].unlock();
    EXPECT_EQ(order, std::vector<int>({0})) << "granted inside the release";
  });
  granted[1].get_future().wait();
  pool.run_on(0, [&] { held[1] = token(); });  // destroying the holder's token releases too
  granted[2].get_future().wait();
  pool.run_on(0, [&] {
    EXPECT_EQ(order, std::vector<int>({0, 1, 2}));
    EXPECT_TRUE(held[2]);
    held[2].unlock();
    EXPECT_FALSE(held[2]);
  });
  EXPECT_EQ(q.queued(), 0u);
}

TEST_F(control_queue_test, a_queued_request_can_be_cancelled_a_granted_one_cannot) {
  std::vector<int> order;
  token a, c;
  std::promise<void> a_granted, c_granted;
  hold_when_granted(&a, &a_granted, &order, 0);
  a_granted.get_future().wait();
  auto sentinel = std::make_shared<int>(0);
  std::weak_ptr<int> b_state = sentinel;
  control_queue::ticket b = 0;
  pool.run_on(0, [&] { b = q.acquire([&, s = std::move(sentinel)](token) { order.push_back(1); }); });
  control_queue::ticket ct = hold_when_granted(&c, &c_granted, &order, 2);
  EXPECT_EQ(q.queued(), 2u);
  pool.run_on(0, [&] {
    EXPECT_TRUE(q.cancel(b));
    EXPECT_FALSE(q.cancel(b)) << "cancelled twice";
    EXPECT_TRUE(b_state.expired()) << "the cancelled request's function was kept";
    a.unlock();
  });
  c_granted.get_future().wait();
  pool.run_on(0, [&] {
    EXPECT_EQ(order, std::vector<int>({0, 2}));
    EXPECT_FALSE(q.cancel(ct)) << "a granted request cannot be cancelled";
    EXPECT_FALSE(q.cancel(12345));
    c.unlock();
  });
}

TEST_F(control_queue_test, lock_blocking_from_a_thread_excludes_the_others_until_released) {
  token t = q.lock_blocking();
  ASSERT_TRUE(t);
  // An asynchronous request on home waits behind the blocking holder.
  std::vector<int> order;
  token async_held;
  std::promise<void> async_granted;
  hold_when_granted(&async_held, &async_granted, &order, 0);
  EXPECT_EQ(q.queued(), 1u);
  // So does another thread.
  std::atomic<bool> other_has_it{false};
  std::thread other([&] {
    token mine = q.lock_blocking();
    other_has_it = true;
  });
  ASSERT_TRUE(wait_until([&] { return q.queued() == 2; }));
  EXPECT_FALSE(other_has_it);
  t.unlock();  // from this thread: released by a post to home
  async_granted.get_future().wait();
  EXPECT_FALSE(other_has_it);
  pool.run_on(0, [&] { async_held.unlock(); });
  other.join();
  EXPECT_TRUE(other_has_it);
  EXPECT_TRUE(q.lock_blocking()) << "the other thread's token was not given back";
}

TEST_F(control_queue_test, a_stop_request_ends_a_blocking_wait_at_once_and_leaves_no_request) {
  token t = q.lock_blocking();
  std::stop_source stop;
  std::promise<bool> got;
  std::thread waiter([&] { got.set_value(static_cast<bool>(q.lock_blocking(stop.get_token()))); });
  ASSERT_TRUE(wait_until([&] { return q.queued() == 1; }));
  stop.request_stop();  // while this thread still holds the turn
  EXPECT_FALSE(got.get_future().get());
  waiter.join();
  pool.run_on(0, [] {});  // after the waiter's cancel, posted before it returned
  EXPECT_EQ(q.queued(), 0u);
  t.unlock();
  EXPECT_TRUE(q.lock_blocking()) << "the abandoned request kept the turn";
  // A stop requested before the call: no wait at all.
  std::stop_source already;
  already.request_stop();
  EXPECT_FALSE(q.lock_blocking(already.get_token()));
}

// The grant reaches the waiter after it gave up (its cancel comes too late): the token goes
// back at once.
TEST_F(control_queue_test, a_grant_that_arrives_after_the_waiter_gave_up_is_given_back) {
  token first;
  std::promise<void> first_granted;
  std::vector<int> order;
  hold_when_granted(&first, &first_granted, &order, 0);
  first_granted.get_future().wait();
  std::stop_source stop;
  std::promise<bool> got;
  std::thread waiter([&] { got.set_value(static_cast<bool>(q.lock_blocking(stop.get_token()))); });
  ASSERT_TRUE(wait_until([&] { return q.queued() == 1; }));
  // Home releases the first holder (which posts the grant) and then stays busy until the
  // waiter has given up, so its cancel is posted after the grant.
  std::latch released(1), gave_up(1);
  pool.at(0).post([&] {
    first.unlock();
    released.count_down();
    gave_up.wait();
  });
  released.wait();
  stop.request_stop();
  EXPECT_FALSE(got.get_future().get());
  waiter.join();
  gave_up.count_down();
  EXPECT_TRUE(q.lock_blocking()) << "the late grant was not given back";
  EXPECT_EQ(q.queued(), 0u);
}

// An RPC-style blocking caller and asynchronous holders on home share one FIFO.
TEST_F(control_queue_test, blocking_and_asynchronous_holders_interleave_in_request_order) {
  std::atomic<int> seq{0};
  int async_first = -1, blocking = -1, async_last = -1;
  token a;
  std::promise<void> a_granted;
  pool.run_on(0, [&] {
    q.acquire([&](token t) {
      async_first = seq++;
      a = std::move(t);
      a_granted.set_value();
    });
  });
  a_granted.get_future().wait();
  std::thread rpc([&] {
    token t = q.lock_blocking();
    blocking = seq++;
  });
  ASSERT_TRUE(wait_until([&] { return q.queued() == 1; }));
  std::promise<void> last_granted;
  pool.run_on(0, [&] {
    q.acquire([&](token) {
      async_last = seq++;
      last_granted.set_value();
    });
    a.unlock();
  });
  last_granted.get_future().wait();
  rpc.join();
  EXPECT_EQ(async_first, 0);
  EXPECT_EQ(blocking, 1);
  EXPECT_EQ(async_last, 2);
}

TEST(control_queue_death, lock_blocking_on_its_home_reactor_aborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        reactor_pool pool(1);
        control_queue q(pool.at(0));
        pool.run_on(0, [&] { q.lock_blocking(); });
      },
      "control_queue::lock_blocking");
}

}  // namespace
}  // namespace nvmfd
