#include "reactor/reactor.h"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <vector>

namespace nvmfd {
namespace {

struct counting_task final : deferred_task {
  std::vector<int>* log;
  int id;
  reactor* r = nullptr;
  counting_task* chain = nullptr;
  void run_deferred() override {
    log->push_back(id);
    if (chain) r->defer(*chain);
  }
};

TEST(reactor, deferred_tasks_run_in_order_and_can_defer_more) {
  reactor_pool pool(1);
  std::vector<int> log;
  counting_task a, b, c;
  a.log = b.log = c.log = &log;
  a.id = 1;
  b.id = 2;
  c.id = 3;
  pool.run_on(0, [&] {
    a.r = &pool.at(0);
    a.chain = &c;  // c is deferred while a runs
    pool.at(0).defer(a);
    pool.at(0).defer(b);
  });
  pool.run_on(0, [] {});  // one more loop pass
  EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
}

TEST(reactor, timers_fire_in_order_and_cancel_works) {
  reactor_pool pool(1);
  std::promise<std::vector<int>> done;
  auto fut = done.get_future();
  auto order = std::make_shared<std::vector<int>>();
  pool.run_on(0, [&] {
    auto& r = pool.at(0);
    r.schedule(std::chrono::milliseconds(30), [order] { order->push_back(30); });
    timer_id gone = r.schedule(std::chrono::milliseconds(20), [order] { order->push_back(20); });
    r.schedule(std::chrono::milliseconds(10), [order] { order->push_back(10); });
    r.schedule(std::chrono::milliseconds(50), [order, &done] { done.set_value(*order); });
    r.cancel(gone);
  });
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(fut.get(), (std::vector<int>{10, 30}));
}

TEST(reactor, post_from_many_threads_runs_every_function_on_the_reactor_thread) {
  reactor_pool pool(2);
  std::atomic<int> ran{0};
  std::atomic<bool> wrong_thread{false};
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t)
    posters.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        pool.at(1).post([&] {
          if (reactor::current() != &pool.at(1)) wrong_thread = true;
          ++ran;
        });
    });
  for (auto& t : posters) t.join();
  pool.run_on(1, [] {});
  EXPECT_EQ(ran.load(), 4000);
  EXPECT_FALSE(wrong_thread.load());
}

struct fd_counter final : event_handler {
  int fd;
  std::atomic<int> events{0};
  void on_events(uint32_t) override {
    uint64_t v;
    [[maybe_unused]] auto n = read(fd, &v, sizeof(v));
    ++events;
  }
};

TEST(reactor, watched_fd_delivers_events_until_unwatched) {
  reactor_pool pool(1);
  fd_counter h;
  h.fd = eventfd(0, EFD_NONBLOCK);
  pool.run_on(0, [&] { ASSERT_TRUE(pool.at(0).watch(h.fd, EPOLLIN, &h).ok()); });
  uint64_t one = 1;
  ASSERT_EQ(write(h.fd, &one, sizeof(one)), 8);
  for (int i = 0; i < 200 && h.events == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(h.events.load(), 1);
  pool.run_on(0, [&] { pool.at(0).unwatch(h.fd); });
  ASSERT_EQ(write(h.fd, &one, sizeof(one)), 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(h.events.load(), 1);
  close(h.fd);
}

TEST(reactor, watch_of_a_bad_fd_is_an_error_not_a_crash) {
  reactor_pool pool(1);
  fd_counter h;
  pool.run_on(0, [&] {
    auto r = pool.at(0).watch(-1, EPOLLIN, &h);
    EXPECT_FALSE(r.ok());
  });
}

TEST(reactor, current_is_null_off_reactor_threads) { EXPECT_EQ(reactor::current(), nullptr); }

}  // namespace
}  // namespace nvmfd
