// Long lvol operations (inflate, decouple_parent) as jobs on the store's home reactor: no
// thread per operation, cancellation between clusters, and a manager that goes while one
// runs stops it and waits for it.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <memory>

#include "bdev/bdev_registry.h"
#include "bdev/fault_bdev.h"
#include "bdev/lvol/long_operation_job.h"
#include "bdev/lvol/lvol_bdev.h"
#include "bdev/lvol/lvol_manager.h"
#include "bdev/ram_bdev.h"
#include "bdev_harness.h"

namespace nvmfd::lvol {
namespace {

constexpr uint64_t mib = 1 << 20;

std::size_t thread_count() {
  std::size_t n = 0;
  for (auto& task : std::filesystem::directory_iterator("/proc/self/task")) n += task.exists();
  return n;
}

struct lvol_operation_test : ::testing::Test {
  void SetUp() override {
    fault = fault_bdev::create("Fault0", ram_bdev::create("Malloc0", 512, 64 * mib / 512, std::nullopt).value()).value();
    ASSERT_TRUE(bdevs.add(fault).ok());
    auto s = mgr->create_store("Fault0", "lvs0", mib);
    ASSERT_TRUE(s.ok()) << s.err().message;
    store = *s;
    // Thin and without a parent: an inflate zero-fills all 16 clusters, one write_zeroes each.
    auto v = mgr->create_volume(*store, "v", 16 * mib, true, std::nullopt);
    ASSERT_TRUE(v.ok()) << v.err().message;
    vol = *v;
  }
  // Round trips to the home reactor until v's operation has ended (no sleep: each trip is a
  // pass of the reactor that runs the job).
  volume::operation wait_ended() {
    while (store->operation_of(*vol).state == "running") h.pool().run_on(0, [] {});
    return store->operation_of(*vol);
  }

  test::bdev_harness h;
  bdev_registry bdevs;
  std::unique_ptr<lvol_manager> mgr = std::make_unique<lvol_manager>(h.pool(), bdevs);
  std::shared_ptr<fault_bdev> fault;
  lvol_store* store = nullptr;
  volume* vol = nullptr;
};

TEST_F(lvol_operation_test, an_inflate_in_the_background_adds_no_thread) {
  std::size_t before = thread_count();
  ASSERT_TRUE(mgr->run_long_operation(*vol, long_operation::inflate, false).ok());
  EXPECT_EQ(thread_count(), before) << "the job runs on the home reactor";
  auto op = wait_ended();
  EXPECT_EQ(op.state, "done");
  EXPECT_EQ(op.done, 16u);
  EXPECT_EQ(op.total, 16u);
  EXPECT_FALSE(vol->thin.load());
  EXPECT_EQ(store->allocated_clusters(*vol), 16u);
  EXPECT_EQ(thread_count(), before);
}

TEST_F(lvol_operation_test, cancel_stops_an_inflate_between_clusters) {
  fault->hold_all(bdev_op::write_zeroes);
  ASSERT_TRUE(store->begin_operation(*vol, long_operation::inflate));
  auto job = long_operation_job::make(*store, *vol, long_operation::inflate);
  std::promise<result<void>> ended;
  h.pool().run_on(0, [&] { job->start([&](result<void> r) { ended.set_value(std::move(r)); }); });
  EXPECT_EQ(fault->held(), 4u) << "four clusters at a time";
  h.pool().run_on(0, [&] { job->cancel(); });
  fault->heal();
  EXPECT_EQ(fault->release_held(), 4u);
  auto r = ended.get_future().get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().message, "cancelled");
  EXPECT_TRUE(job->ended());
  auto op = store->operation_of(*vol);
  EXPECT_EQ(op.state, "failed: cancelled");
  EXPECT_EQ(op.done, 4u) << "the copies under way finished";
  EXPECT_EQ(op.total, 16u);
  EXPECT_TRUE(vol->thin.load()) << "a cancelled inflate leaves the volume as it was";
  EXPECT_EQ(mgr->run_long_operation(*vol, long_operation::inflate, true).ok(), true) << "and can run again";
  EXPECT_EQ(store->allocated_clusters(*vol), 16u);
}

TEST_F(lvol_operation_test, a_copy_that_fails_ends_the_operation_with_its_error) {
  fault->fail_all(bdev_op::write_zeroes, EIO);
  auto r = mgr->run_long_operation(*vol, long_operation::inflate, true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::io_error);
  EXPECT_EQ(store->operation_of(*vol).state, "failed: " + r.err().message);
  EXPECT_NE(r.err().message.find("copying cluster"), std::string::npos) << r.err().message;
  EXPECT_TRUE(vol->thin.load());
}

TEST_F(lvol_operation_test, a_manager_that_goes_during_an_inflate_stops_it_and_waits) {
  fault->hold_all(bdev_op::write_zeroes);
  ASSERT_TRUE(mgr->run_long_operation(*vol, long_operation::inflate, false).ok());
  h.pool().run_on(0, [] {});  // the job has started: its first copies are held
  ASSERT_EQ(fault->held(), 4u);
  // The held copies finish while the manager goes: it cancels the job, which ends after them.
  std::thread release([&] {
    fault->heal();
    fault->release_held();
  });
  mgr.reset();  // returns: no thread to join, and the job has ended
  release.join();
  EXPECT_FALSE(fault->claimed()) << "the store let go of its base";
}

}  // namespace
}  // namespace nvmfd::lvol
