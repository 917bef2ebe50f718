// The reactor on both io backends (epoll, uring), and the choice of backend itself.
#include "reactor/reactor.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>

#include <atomic>
#include <future>
#include <vector>

#include "tests/lib/wait_until.h"

namespace nvmfd {
namespace {

class reactor_test : public ::testing::TestWithParam<io_backend> {
 protected:
  void SetUp() override {
    if (GetParam() == io_backend::uring && !uring_sockets_supported()) GTEST_SKIP() << "no io_uring sockets here";
  }
  io_settings io() const { return io_settings{GetParam()}; }
};

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

TEST_P(reactor_test, deferred_tasks_run_in_order_and_can_defer_more) {
  reactor_pool pool(1, {}, {}, io());
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

TEST_P(reactor_test, timers_fire_in_order_and_cancel_works) {
  reactor_pool pool(1, {}, {}, io());
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

TEST_P(reactor_test, post_from_many_threads_runs_every_function_on_the_reactor_thread) {
  reactor_pool pool(2, {}, {}, io());
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

TEST_P(reactor_test, watched_fd_delivers_events_until_unwatched) {
  reactor_pool pool(1, {}, {}, io());
  fd_counter h;
  h.fd = eventfd(0, EFD_NONBLOCK);
  pool.run_on(0, [&] { ASSERT_TRUE(pool.at(0).watch(h.fd, EPOLLIN, &h).ok()); });
  uint64_t one = 1;
  ASSERT_EQ(write(h.fd, &one, sizeof(one)), 8);
  ASSERT_TRUE(wait_until([&] { return h.events.load() > 0; }));
  EXPECT_EQ(h.events.load(), 1);
  pool.run_on(0, [&] { pool.at(0).unwatch(h.fd); });
  ASSERT_EQ(write(h.fd, &one, sizeof(one)), 8);
  // Two full passes of the loop after the write: a still-watched fd would have been
  // dispatched in the first (its readiness comes with the first barrier's wake-up).
  pool.run_on(0, [] {});
  pool.run_on(0, [] {});
  EXPECT_EQ(h.events.load(), 1);
  close(h.fd);
}

TEST_P(reactor_test, watch_of_a_bad_fd_is_an_error_not_a_crash) {
  reactor_pool pool(1, {}, {}, io());
  fd_counter h;
  pool.run_on(0, [&] {
    auto r = pool.at(0).watch(-1, EPOLLIN, &h);
    EXPECT_FALSE(r.ok());
  });
}

TEST(reactor, current_is_null_off_reactor_threads) { EXPECT_EQ(reactor::current(), nullptr); }

TEST_P(reactor_test, runs_the_backend_asked_for) {
  reactor_pool pool(2, {}, {}, io());
  EXPECT_EQ(pool.backend(), GetParam());
  pool.run_on(1, [] {});  // the loop has started (a uring reactor creates its ring then)
  EXPECT_EQ(pool.at(0).backend(), GetParam());
  EXPECT_EQ(pool.at(1).backend(), GetParam());
}

TEST_P(reactor_test, an_idle_reactor_sleeps_and_wakes_for_posts_and_timers) {
  reactor_pool pool(1, {}, {}, io());
  std::promise<void> fired;
  pool.run_on(0, [&] { pool.at(0).schedule(std::chrono::milliseconds(40), [&] { fired.set_value(); }); });
  ASSERT_EQ(fired.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  // Real time on purpose: what is tested is that an idle reactor blocks in the kernel (no
  // pass runs) for as long as nothing comes; the pauses let it get there and stay there.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto sleeps = pool.at(0).counters().sleeps.load();
  auto passes = pool.at(0).counters().passes.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Idle: no pass ran (it is blocked), and a post still gets through.
  EXPECT_EQ(pool.at(0).counters().passes.load(), passes);
  EXPECT_GT(sleeps, 0u);
  std::atomic<bool> ran{false};
  pool.run_on(0, [&] { ran = true; });
  EXPECT_TRUE(ran.load());
}

TEST(io_backend, names_round_trip) {
  for (auto b : {io_backend::automatic, io_backend::epoll, io_backend::uring})
    EXPECT_EQ(parse_io_backend(to_string(b)), b);
  EXPECT_FALSE(parse_io_backend("kqueue"));
}

TEST(io_backend, environment_decides_what_auto_means) {
  const char* old = std::getenv("NVMFD_IO_BACKEND");
  std::string saved = old ? old : "";
  setenv("NVMFD_IO_BACKEND", "epoll", 1);
  EXPECT_EQ(resolve_io_backend(io_backend::automatic), io_backend::epoll);
  EXPECT_EQ(resolve_io_backend(io_backend::uring), uring_sockets_supported() ? io_backend::uring : io_backend::epoll);
  setenv("NVMFD_IO_BACKEND", "uring", 1);
  EXPECT_EQ(resolve_io_backend(io_backend::automatic), uring_sockets_supported() ? io_backend::uring : io_backend::epoll);
  EXPECT_EQ(resolve_io_backend(io_backend::epoll), io_backend::epoll);  // an explicit choice wins
  if (old)
    setenv("NVMFD_IO_BACKEND", saved.c_str(), 1);
  else
    unsetenv("NVMFD_IO_BACKEND");
}

// Makes io_uring_setup fail with EPERM for this thread and the threads it starts (as a
// container's seccomp profile or kernel.io_uring_disabled would).
bool refuse_io_uring() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

int refused_uring_run() {
  if (!refuse_io_uring()) return 2;
  if (probe_uring_sockets().ok()) return 3;
  reactor_pool pool(1, {}, {}, io_settings{io_backend::uring});
  if (pool.backend() != io_backend::epoll) return 4;
  std::promise<void> fired;
  pool.run_on(0, [&] { pool.at(0).schedule(std::chrono::milliseconds(5), [&] { fired.set_value(); }); });
  if (fired.get_future().wait_for(std::chrono::seconds(5)) != std::future_status::ready) return 5;
  return pool.at(0).backend() == io_backend::epoll ? 0 : 6;
}

TEST(io_backend_death_test, uring_refused_by_the_kernel_falls_back_to_epoll) {
#if defined(__x86_64__)
  // A fresh process (the probe's verdict is cached per process) with io_uring_setup refused.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::exit(refused_uring_run()), ::testing::ExitedWithCode(0), "");
#else
  GTEST_SKIP() << "the seccomp filter here is for x86-64";
#endif
}

INSTANTIATE_TEST_SUITE_P(backends, reactor_test, ::testing::Values(io_backend::epoll, io_backend::uring),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace nvmfd
