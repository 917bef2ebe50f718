// reactor::post(deferred_task&), the allocation-free cross-thread message (task_inbox.h), on
// both io backends: every task runs once on the reactor's thread, in order per producer; no
// wake-up is lost when the reactor sleeps; a task posted while the reactor stops either runs
// (post returned true) or is refused (false), never lost.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "reactor/member_task.h"
#include "reactor/reactor.h"

namespace nvmfd {
namespace {

class task_post_test : public ::testing::TestWithParam<io_backend> {
 protected:
  void SetUp() override {
    if (GetParam() == io_backend::uring && !uring_sockets_supported()) GTEST_SKIP() << "no io_uring sockets here";
  }
  io_settings io() const { return io_settings{GetParam()}; }
};

// Counts down to zero, then releases wait().
class latch_of_tasks {
 public:
  explicit latch_of_tasks(int n) : left_(n) {}
  void count_down() {
    std::lock_guard lk(mu_);
    if (--left_ == 0) cv_.notify_all();
  }
  bool wait() {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(60), [&] { return left_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int left_;
};

struct recorded_task final : deferred_task {
  int producer = 0;
  int seq = 0;
  reactor* expect_on = nullptr;
  std::vector<std::vector<int>>* log = nullptr;  // per producer; written on the reactor only
  std::atomic<int>* wrong_thread = nullptr;
  latch_of_tasks* done = nullptr;
  void run_deferred() override {
    if (reactor::current() != expect_on) ++*wrong_thread;
    (*log)[producer].push_back(seq);
    done->count_down();
  }
};

TEST_P(task_post_test, many_producers_every_task_runs_once_on_the_reactor_in_order_per_producer) {
  constexpr int producers = 4, per_producer = 5000;
  reactor_pool pool(1, {}, {}, io());
  std::vector<std::vector<recorded_task>> tasks(producers);
  std::vector<std::vector<int>> log(producers);
  std::atomic<int> wrong_thread{0};
  latch_of_tasks done(producers * per_producer);
  for (int p = 0; p < producers; ++p) {
    tasks[p] = std::vector<recorded_task>(per_producer);
    for (int i = 0; i < per_producer; ++i) {
      auto& t = tasks[p][i];
      t.producer = p;
      t.seq = i;
      t.expect_on = &pool.at(0);
      t.log = &log;
      t.wrong_thread = &wrong_thread;
      t.done = &done;
    }
  }
  std::vector<std::thread> threads;
  std::atomic<int> refused{0};
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      for (auto& t : tasks[p])
        if (!pool.at(0).post(t)) ++refused;
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(done.wait());
  pool.run_on(0, [] {});  // the log is the reactor's: read it after a round trip
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(wrong_thread.load(), 0);
  for (int p = 0; p < producers; ++p) {
    ASSERT_EQ(log[p].size(), static_cast<std::size_t>(per_producer)) << "producer " << p;
    for (int i = 0; i < per_producer; ++i) ASSERT_EQ(log[p][i], i) << "producer " << p;
  }
}

// One task at a time from a thread that waits for each to run: the reactor is asleep at most
// posts, so each needs its wake-up; a lost one hangs (caught by the wait's generous bound).
struct ping final : deferred_task {
  std::mutex mu;
  std::condition_variable cv;
  int runs = 0;
  void run_deferred() override {
    std::lock_guard lk(mu);
    ++runs;
    cv.notify_all();
  }
};

TEST_P(task_post_test, a_sleeping_reactor_is_woken_for_every_task) {
  reactor_pool pool(1, {}, poll_settings{poll_mode::event}, io());
  ping t;
  for (int i = 1; i <= 2000; ++i) {
    ASSERT_TRUE(pool.at(0).post(t));
    std::unique_lock lk(t.mu);
    ASSERT_TRUE(t.cv.wait_for(lk, std::chrono::seconds(30), [&] { return t.runs == i; })) << "task " << i << " never ran";
  }
  EXPECT_GT(pool.at(0).counters().sleeps.load(), 0u);
}

// Two reactors bounce one message back and forth, each posting the next hop from the task
// that received the last: cross-reactor posts, re-posting a task from its own run.
struct bounce {
  reactor* a = nullptr;
  reactor* b = nullptr;
  int hops_left = 0;
  std::atomic<int> wrong_thread{0};
  std::promise<void> finished;
  void on_a() { hop(*a, to_b); }
  void on_b() { hop(*b, to_a); }
  void hop(reactor& here, deferred_task& next) {
    if (reactor::current() != &here) ++wrong_thread;
    if (--hops_left == 0) return finished.set_value();
    ASSERT_TRUE((&here == a ? *b : *a).post(next));
  }
  member_task<bounce, &bounce::on_a> to_a{*this};
  member_task<bounce, &bounce::on_b> to_b{*this};
};

TEST_P(task_post_test, two_reactors_bounce_a_task_without_losing_it) {
  reactor_pool pool(2, {}, poll_settings{poll_mode::event}, io());
  bounce m;
  m.a = &pool.at(0);
  m.b = &pool.at(1);
  m.hops_left = 10000;
  auto f = m.finished.get_future();
  ASSERT_TRUE(m.a->post(m.to_a));
  ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(m.wrong_thread.load(), 0);
}

// From the reactor's own thread post is defer: after the current event, never inline.
TEST_P(task_post_test, a_post_from_the_reactor_itself_runs_after_the_current_event) {
  reactor_pool pool(1, {}, {}, io());
  ping t;
  int runs_inside = -1;
  pool.run_on(0, [&] {
    EXPECT_TRUE(pool.at(0).post(t));
    std::lock_guard lk(t.mu);
    runs_inside = t.runs;
  });
  pool.run_on(0, [] {});
  EXPECT_EQ(runs_inside, 0);
  std::lock_guard lk(t.mu);
  EXPECT_EQ(t.runs, 1);
}

// Producers keep posting while the reactor stops, each reusing its tasks once they have run,
// so that each ends only when a post is refused: every task whose post returned true has run
// when the loop has returned, and once the loop has ended every post is refused.
struct stop_task final : deferred_task {
  std::atomic<int>* ran = nullptr;
  std::atomic<bool> queued{false};
  void run_deferred() override {
    ran->fetch_add(1, std::memory_order_relaxed);
    queued.store(false, std::memory_order_release);  // the inbox is done with it
  }
};

TEST_P(task_post_test, a_task_posted_while_the_reactor_stops_runs_or_is_refused) {
  constexpr int producers = 3, per_producer = 64;
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> ran{0}, accepted{0}, refused{0}, stuck{0};
    std::vector<std::vector<stop_task>> tasks(producers);
    for (auto& v : tasks) {
      v = std::vector<stop_task>(per_producer);
      for (auto& t : v) t.ran = &ran;
    }
    auto pool = std::make_unique<reactor_pool>(1, std::vector<int>{}, poll_settings{}, io());
    reactor& r = pool->at(0);
    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
      threads.emplace_back([&, p] {
        for (std::size_t i = 0;; i = (i + 1) % per_producer) {
          stop_task& t = tasks[p][i];
          // Posted before: it runs (the contract), or the bound below reports it lost.
          auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
          while (t.queued.load(std::memory_order_acquire)) {
            if (std::chrono::steady_clock::now() > give_up) return void(++stuck);
            std::this_thread::yield();
          }
          t.queued.store(true, std::memory_order_relaxed);
          if (!r.post(t)) {
            t.queued.store(false, std::memory_order_relaxed);
            ++refused;
            return;
          }
          ++accepted;
        }
      });
    while (accepted.load() < 1000) std::this_thread::yield();  // producers are at it
    pool->stop();  // joins the reactor's thread: its loop and its drain are over
    for (auto& t : threads) t.join();
    EXPECT_EQ(stuck.load(), 0) << "round " << round << ": an accepted task never ran";
    EXPECT_EQ(refused.load(), producers) << "round " << round;
    EXPECT_EQ(ran.load(), accepted.load()) << "round " << round;
    stop_task late;
    late.ran = &ran;
    EXPECT_FALSE(r.post(late));
    pool.reset();
    EXPECT_EQ(ran.load(), accepted.load()) << "round " << round << ": a refused task ran";
  }
}

INSTANTIATE_TEST_SUITE_P(backends, task_post_test, ::testing::Values(io_backend::epoll, io_backend::uring),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace nvmfd
