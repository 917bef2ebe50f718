// post_all and countdown: work fanned out to every reactor, then one continuation on the
// home reactor, never inline.
#include "reactor/post_all.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "reactor/countdown.h"
#include "reactor/reactor.h"
#include "reactor/thread_name.h"

namespace nvmfd {
namespace {

TEST(post_all, runs_on_every_reactor_then_done_once_on_home) {
  reactor_pool pool(3);
  std::vector<std::atomic<int>> ran(3);
  std::promise<reactor*> done;
  post_all(
      pool,
      [&](reactor& r) {
        EXPECT_EQ(reactor::current(), &r);
        ++ran[r.index()];
      },
      pool.at(1),
      [&] {
        for (auto& n : ran) EXPECT_EQ(n.load(), 1);
        done.set_value(reactor::current());
      });
  EXPECT_EQ(done.get_future().get(), &pool.at(1));
}

TEST(post_all, nothing_runs_inline_when_called_on_a_reactor) {
  reactor_pool pool(1);
  std::promise<void> done;
  bool each_ran = false, done_ran = false;  // on reactor 0 only
  pool.run_on(0, [&] {
    post_all(pool, [&](reactor&) { each_ran = true; }, pool.at(0), [&] {
      done_ran = true;
      done.set_value();
    });
    EXPECT_FALSE(each_ran);
    EXPECT_FALSE(done_ran);
  });
  done.get_future().get();
  EXPECT_TRUE(each_ran);
}

TEST(countdown, runs_done_on_home_after_the_last_arrival_or_at_once_for_none) {
  reactor_pool pool(2);
  std::promise<reactor*> none;
  countdown zero(0, pool.at(1), [&] { none.set_value(reactor::current()); });
  EXPECT_EQ(none.get_future().get(), &pool.at(1));

  std::promise<reactor*> two;
  auto c = std::make_shared<countdown>(2, pool.at(0), [&] { two.set_value(reactor::current()); });
  auto f = two.get_future();
  c->arrive();
  EXPECT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  pool.run_on(1, [c] { c->arrive(); });
  EXPECT_EQ(f.get(), &pool.at(0));
}

TEST(thread_name, pool_threads_are_named_reactor_and_their_index) {
  reactor_pool pool(2);
  for (unsigned i = 0; i < 2; ++i) {
    std::string name;
    pool.run_on(i, [&] { name = thread_name(); });
    EXPECT_EQ(name, "reactor-" + std::to_string(i));
  }
  std::string cut;
  std::thread([&] {
    set_thread_name("a-name-longer-than-fifteen");
    cut = thread_name();
  }).join();
  EXPECT_EQ(cut, "a-name-longer-t");
}

}  // namespace
}  // namespace nvmfd
