// An idle host wakes its reactors for its timers only (issue 14 S5): with 20 attached paths
// and keep-alive at its normal period, the host's reactors wake a few times a second (the
// keep-alives and their answers), not once per path per poll interval, and do not spin.
// The figures are counted by the reactors (reactor_counters: sleeps, passes) over a window
// of real time; the bounds are far from both what an idle host does and what they exclude.
// A control test shows that the meter sees what the bounds exclude: a 1 ms poller, a
// spinning reactor.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "host_side.h"
#include "local_target.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:idle";
constexpr int paths = 20;
constexpr auto keep_alive_period = 5s;  // KATO 10 s (the default), sent every KATO / 2

// What the host's reactors did over a window of real time, all reactors together.
struct idle_figures {
  double wakeups_per_second = 0;  // blocking waits that ended
  double passes_per_second = 0;   // loop passes, polling ones included
};

idle_figures measure(reactor_pool& pool, std::chrono::milliseconds window) {
  auto totals = [&pool] {
    std::pair<uint64_t, uint64_t> t;
    for (unsigned i = 0; i < pool.size(); ++i) {
      t.first += pool.at(i).counters().sleeps.load();
      t.second += pool.at(i).counters().passes.load();
    }
    return t;
  };
  auto before = totals();
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(window);  // the measurement itself, not a synchronisation
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto after = totals();
  return {double(after.first - before.first) / seconds, double(after.second - before.second) / seconds};
}

// The bounds. Keep-alive: one command a period per path and its answer may each wake a
// reactor; the rest (a stray post, a command timeout check) gets as much again, and a few a
// second on top. A single path polled every 1 ms would wake a reactor 1000 times a second.
const double keep_alive_rate = double(paths) / std::chrono::duration<double>(keep_alive_period).count();
const double max_wakeups_per_second = 4 * keep_alive_rate + 10;
// After a wake-up a reactor polls for at most its poll window (50 us by default) before it
// sleeps again: at a tenth of a microsecond or more a pass (an empty pass makes a system
// call), no more than ~500 passes a wake-up. A spinning reactor makes millions a second.
const double max_passes_per_second = 500 * max_wakeups_per_second;

struct idle_host : ::testing::Test {
  test::local_target t{2};
  test::host_side host{2};

  void SetUp() override {
    t.add_subsystem(nqn);
    for (int i = 0; i < paths; ++i)
      host.ok("bdev_nvme_attach_controller", {{"name", "Nvme" + std::to_string(i)}, {"trtype", "tcp"},
                                              {"adrfam", "ipv4"}, {"traddr", "127.0.0.1"},
                                              {"trsvcid", t.port_text()}, {"subnqn", nqn}});
    ASSERT_EQ(host.controllers.list().size(), size_t(paths));
    measure(host.h.pool(), 300ms);  // the attach's own work (ANA reads, publishing) settles
  }
};

TEST_F(idle_host, twenty_idle_paths_wake_the_reactors_for_their_keep_alives_only) {
  // Over more than a keep-alive period, so that every path's keep-alive is in it.
  auto f = measure(host.h.pool(), keep_alive_period + 1s);
  std::printf("idle, %d paths: %.1f wake-ups/s (bound %.1f), %.0f loop passes/s (bound %.0f)\n", paths,
              f.wakeups_per_second, max_wakeups_per_second, f.passes_per_second, max_passes_per_second);
  EXPECT_GT(f.wakeups_per_second, 0) << "the keep-alives woke no reactor: was the host measured at all?";
  EXPECT_LT(f.wakeups_per_second, max_wakeups_per_second) << "keep-alive rate " << keep_alive_rate << "/s";
  EXPECT_LT(f.passes_per_second, max_passes_per_second);
}

// A timer every 1 ms on reactor r, until stopped.
struct ticker : std::enable_shared_from_this<ticker> {
  reactor& r;
  std::atomic<bool> stopped{false};
  explicit ticker(reactor& on) : r(on) {}
  void arm() {
    r.schedule(1ms, [self = shared_from_this()] {
      if (!self->stopped) self->arm();
    });
  }
};

TEST_F(idle_host, the_meter_sees_a_1_ms_poller_and_a_spinning_reactor) {
  reactor_pool& pool = host.h.pool();
  auto tick = std::make_shared<ticker>(pool.at(1));
  pool.run_on(1, [&] { tick->arm(); });
  auto polled = measure(pool, 1s);
  tick->stopped = true;
  EXPECT_GT(polled.wakeups_per_second, max_wakeups_per_second);

  auto polling = pool.get_poll_settings();
  pool.set_poll_settings({poll_mode::always, polling.max_poll});
  auto spinning = measure(pool, 1s);
  pool.set_poll_settings(polling);
  std::printf("1 ms poller: %.1f wake-ups/s; spinning: %.0f loop passes/s\n", polled.wakeups_per_second,
              spinning.passes_per_second);
  EXPECT_GT(spinning.passes_per_second, max_passes_per_second);
}

}  // namespace
}  // namespace nvmfd
