// loop_thread: a reactor outside the pool on a named thread of its own, where blocking calls
// are allowed (the RPC thread's loop), while a pool reactor still aborts on them, and waiting
// for the loop from the loop itself still aborts.
#include "reactor/loop_thread.h"

#include <gtest/gtest.h>

#include "reactor/blocking_call.h"
#include "reactor/reactor_assert.h"
#include "reactor/thread_name.h"

namespace nvmfd {
namespace {

TEST(loop_thread, runs_posted_work_on_its_named_thread_where_blocking_calls_are_allowed) {
  reactor_pool pool(1);
  loop_thread loop("test-loop");
  auto r = blocking_call<int>(loop.loop(), [&](completion<int> done) {
    EXPECT_EQ(reactor::current(), &loop.loop());
    EXPECT_EQ(thread_name(), "test-loop");
    assert_off_reactor("a blocking helper");  // allowed here
    // Waits for a pool reactor from the loop: what an RPC handler does.
    done(blocking_call<int>(pool.at(0), [](completion<int> d) { d(7); }));
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 7);
  EXPECT_TRUE(loop.loop().blocking_allowed());
  EXPECT_FALSE(pool.at(0).blocking_allowed());
  loop.stop();
  loop.stop();  // idempotent
}

TEST(loop_thread_death, a_blocking_helper_on_a_pool_reactor_still_aborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        reactor_pool pool(1);
        pool.run_on(0, [] { assert_off_reactor("a blocking helper"); });
      },
      "a blocking helper blocks: it must not be called on a reactor");
}

TEST(loop_thread_death, waiting_for_the_loop_on_the_loop_aborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        loop_thread loop("test-loop");
        (void)blocking_call<void>(loop.loop(), [&](completion<void> done) {
          done(blocking_call<void>(loop.loop(), [](completion<void> d) { d(success()); }, std::nullopt, "inner"));
        });
      },
      "inner waits for the reactor it was called on");
}

}  // namespace
}  // namespace nvmfd
