// registry_publisher against a fake first step (it records the ids each round gets): rounds
// run on the control reactor one at a time, marks that come during a round are coalesced
// into the next, publish_and_wait returns after a round that took its id, and nothing runs
// after stop.
#include "host/registry_publisher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace nvmfd {
namespace {

struct recorder {
  std::mutex mu;
  std::vector<std::set<uint64_t>> rounds;  // the ids of each round, in order
  std::atomic<int> running{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> off_control{0};
  reactor* control;

  explicit recorder(reactor* c) : control(c) {}
  registry_publisher::build_fn build() {
    return [this](const std::set<uint64_t>& ids) {
      if (running.fetch_add(1) != 0) ++overlaps;
      if (reactor::current() != control) ++off_control;
      {
        std::lock_guard lk(mu);
        rounds.push_back(ids);
      }
      running.fetch_sub(1);
      return registry_publisher::published{};
    };
  }
  std::set<uint64_t> seen() {
    std::lock_guard lk(mu);
    std::set<uint64_t> all;
    for (auto& r : rounds) all.insert(r.begin(), r.end());
    return all;
  }
  std::size_t round_count() {
    std::lock_guard lk(mu);
    return rounds.size();
  }
};

// Two reactors: the control reactor (0) and one more to mark from.
struct registry_publisher_test : ::testing::Test {
  reactor_pool pool{2};
  recorder rec{&pool.control()};
  std::shared_ptr<registry_publisher> pub = registry_publisher::make(pool, rec.build());
  void TearDown() override { pub->stop(); }  // no round may use rec after it goes
};

TEST_F(registry_publisher_test, publish_and_wait_returns_after_a_round_on_the_control_reactor_took_the_id) {
  pub->publish_and_wait(7);
  EXPECT_EQ(rec.seen(), std::set<uint64_t>{7});
  pub->publish_and_wait(7);
  EXPECT_EQ(rec.round_count(), 2u) << "a second wait needs a round of its own";
  EXPECT_EQ(rec.off_control.load(), 0);
}

TEST_F(registry_publisher_test, a_storm_of_marks_from_threads_and_reactors_is_coalesced_and_none_is_lost) {
  std::vector<std::thread> markers;
  for (uint64_t t = 0; t < 8; ++t)
    markers.emplace_back([&, t] {
      for (uint64_t i = 0; i < 1000; ++i) pub->mark_dirty(t * 1000 + i % 50);
    });
  pool.run_on(1, [&] {
    for (uint64_t i = 0; i < 1000; ++i) pub->mark_dirty(9000 + i % 50);  // from a reactor: never blocks
  });
  for (auto& m : markers) m.join();
  pub->publish_and_wait(99999);  // a round after every mark above
  std::set<uint64_t> want{99999};
  for (uint64_t t = 0; t < 8; ++t)
    for (uint64_t i = 0; i < 50; ++i) want.insert(t * 1000 + i);
  for (uint64_t i = 0; i < 50; ++i) want.insert(9000 + i);
  EXPECT_EQ(rec.seen(), want);
  EXPECT_LT(rec.round_count(), 9000u) << "marks were coalesced into rounds";
  EXPECT_EQ(rec.overlaps.load(), 0) << "one round at a time";
  EXPECT_EQ(rec.off_control.load(), 0);
}

TEST_F(registry_publisher_test, nothing_runs_after_stop) {
  pub->mark_dirty(1);
  pub->stop();
  std::size_t rounds = rec.round_count();
  EXPECT_LE(rounds, 1u);
  pub->mark_dirty(2);
  pub->publish_and_wait(3);  // returns at once
  pool.run_on(0, [] {});
  EXPECT_EQ(rec.round_count(), rounds);
  EXPECT_EQ(rec.seen().count(2), 0u);
}

}  // namespace
}  // namespace nvmfd
