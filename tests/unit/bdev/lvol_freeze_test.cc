// The write freeze of an lvol volume (snapshot, shrink, the merge of a snapshot into its
// clone): it ends when the last write in flight ends, driven by that write's completion; the
// thread that waits for it sleeps meanwhile instead of polling.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "bdev/fault_bdev.h"
#include "bdev/lvol/lvol_bdev.h"
#include "bdev/lvol/lvol_store.h"
#include "bdev/ram_bdev.h"
#include "bdev_harness.h"

namespace nvmfd::lvol {
namespace {

constexpr uint64_t mib = 1 << 20;

TEST(volume_freeze, drained_runs_once_when_the_last_write_in_flight_ends) {
  volume v;
  bdev_io a, b;
  ASSERT_TRUE(v.start_write(a));
  ASSERT_TRUE(v.start_write(b));
  int drained = 0;
  v.freeze([&] { ++drained; });
  EXPECT_EQ(drained, 0) << "two writes in flight";
  v.write_done();
  EXPECT_EQ(drained, 0);
  v.write_done();
  EXPECT_EQ(drained, 1) << "run by the last write's end";
  v.thaw();
  ASSERT_TRUE(v.start_write(a)) << "thawed: writes go through";
  v.write_done();
  EXPECT_EQ(drained, 1);
}

TEST(volume_freeze, a_freeze_with_no_write_in_flight_is_drained_at_once) {
  volume v;
  int drained = 0;
  v.freeze([&] { ++drained; });
  EXPECT_EQ(drained, 1);
  v.thaw();
}

// One field of /proc/self/task/<tid>/status, or of stat's state.
std::string task_status(pid_t tid, const std::string& key) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.starts_with(key + ":")) {
      std::istringstream in(line.substr(key.size() + 1));
      std::string value;
      in >> value;
      return value;
    }
  return {};
}

struct write_done final : bdev_io_callback {
  std::atomic<bool> done{false};
  void on_bdev_io_done(bdev_io&) override { done = true; }
};

TEST(lvol_freeze, a_snapshot_waits_for_the_write_in_flight_asleep) {
  test::bdev_harness h;
  auto fault = fault_bdev::create("f", ram_bdev::create("r", 512, 64 * mib / 512, std::nullopt).value()).value();
  auto s = lvol_store::create(h.pool(), fault, "lvs", mib);
  ASSERT_TRUE(s.ok()) << s.err().message;
  auto v = (*s)->create_volume("v", 4 * mib, false, std::nullopt);  // thick: a write goes straight to the base
  ASSERT_TRUE(v.ok());

  // A write held in the base: in flight until the test lets it go.
  fault->hold_all(bdev_op::write);
  test::aligned_buffer w(4096);
  std::memset(w.data(), 0x5A, 4096);
  write_done cb;
  bdev_io io;
  io.op = bdev_op::write;
  io.num_blocks = 8;
  io.buf = w.data();
  io.owner = &h.owner();
  io.done = &cb;
  h.pool().run_on(0, [&] { (*v)->bdev->submit(io); });
  ASSERT_EQ(fault->held(), 1u);

  std::atomic<pid_t> tid{0};
  std::atomic<bool> snapshot_done{false};
  result<volume*> snap = error{errc::ok, ""};
  std::thread t([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    snap = (*s)->snapshot(**v, "snap");
    snapshot_done = true;
  });
  // The snapshot thread goes to sleep in the freeze (nothing before it blocks).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((tid == 0 || task_status(tid, "State") != "S") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  ASSERT_EQ(task_status(tid, "State"), "S");
  long before = std::stol(task_status(tid, "voluntary_ctxt_switches"));
  // Time passes (a thousand round trips to the reactor): a waiter that polled would wake
  // up again and again meanwhile.
  for (int i = 0; i < 1000; ++i) h.pool().run_on(0, [] {});
  EXPECT_FALSE(snapshot_done.load()) << "the write is still in flight";
  // (A spurious wake-up of a condition variable is allowed for; a 100 us poll would make hundreds.)
  EXPECT_LE(std::stol(task_status(tid, "voluntary_ctxt_switches")) - before, 2) << "the freeze woke up without an event";

  fault->heal();                         // (the snapshot's commit writes too)
  EXPECT_EQ(fault->release_held(), 1u);  // the write ends: its completion ends the freeze
  t.join();
  ASSERT_TRUE(snap.ok()) << snap.err().message;
  while (!cb.done) h.pool().run_on(0, [] {});
  EXPECT_EQ(io.status, 0);
  test::aligned_buffer r(4096);
  ASSERT_EQ(h.read(*(*snap)->bdev, 0, 8, r.data()), 0);
  EXPECT_EQ(std::memcmp(r.data(), w.data(), 4096), 0) << "the snapshot holds the write that was in flight";
}

}  // namespace
}  // namespace nvmfd::lvol
