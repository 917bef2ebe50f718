// blocking_call and run_on (built on it): the result of an operation completed later on
// another reactor comes back as is, a timeout leaves the late completion harmless, and
// waiting for the reactor one is called on aborts instead of hanging.
#include "reactor/blocking_call.h"

#include <gtest/gtest.h>

#include <memory>

#include "reactor/reactor.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

TEST(blocking_call, returns_what_the_operation_completes_with_later_elsewhere) {
  reactor_pool pool(2);
  auto r = blocking_call<int>(pool.at(0), [&](completion<int> done) {
    EXPECT_EQ(reactor::current(), &pool.at(0));
    // Completed on another reactor, after start has returned.
    pool.at(1).post([done = std::move(done)]() mutable { done(42); });
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);

  auto e = blocking_call<void>(pool.at(1), [](completion<void> done) { done(error{errc::busy, "in use"}); });
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.err().code, errc::busy);
  EXPECT_EQ(e.err().message, "in use");
}

TEST(blocking_call, a_timeout_returns_timed_out_and_the_late_completion_is_dropped) {
  reactor_pool pool(1);
  auto parked = std::make_shared<completion<int>>();  // the operation never completes by itself
  auto r = blocking_call<int>(
      pool.at(0), [parked](completion<int> done) { *parked = std::move(done); }, 10ms, "parked operation");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::timed_out);
  EXPECT_EQ(r.err().message, "parked operation timed out");
  pool.run_on(0, [parked] { (*parked)(7); });  // the waiter's state is still alive (ASan)
  EXPECT_FALSE(*parked);
}

TEST(blocking_call, run_on_from_another_reactor_runs_there) {
  reactor_pool pool(2);
  reactor* ran_on = nullptr;
  pool.run_on(0, [&] { pool.run_on(1, [&] { ran_on = reactor::current(); }); });
  EXPECT_EQ(ran_on, &pool.at(1));
}

TEST(blocking_call_death, run_on_from_the_reactor_it_waits_for_aborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        reactor_pool pool(1);
        pool.run_on(0, [&] { pool.run_on(0, [] {}); });
      },
      "reactor_pool::run_on waits for the reactor it was called on .called at .*blocking_call_test.cc");
}

TEST(completion_death, a_completion_called_twice_aborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int calls = 0;
  completion<void> c([&](result<void>) { ++calls; });
  c(success());
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(c);
  EXPECT_DEATH(c(success()), "");
}

}  // namespace
}  // namespace nvmfd
