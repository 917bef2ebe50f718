// The RBD bdev when its cluster goes away and comes back (issue 17 item 1), on a real Ceph
// cluster whose only OSD the tests stop and restart (ceph_cluster.sh stop-osd / start-osd):
//  - I/O completes with an error once rados_osd_op_timeout expires, never hangs; one log
//    line says so; the reactor serves other bdevs' I/O meanwhile; once the OSD is back, I/O
//    succeeds again on the same bdev.
//  - Deleting bdevs with the cluster gone blocks neither the RPC thread nor the I/O path,
//    and the images close in parallel: about one image's close time in all.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bdev/ram_bdev.h"
#include "bdev/rbd/rbd_image_closer.h"
#include "tests/ceph/rbd_bdev_fixture.h"
#include "tests/integration/log_capture.h"

namespace nvmfd::test {
namespace {

// The threads of this process by name (/proc/self/task/*/comm), for the census in docs.
std::map<std::string, int> census() {
  std::map<std::string, int> out;
  for (auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream f(e.path() / "comm");
    std::string name;
    std::getline(f, name);
    ++out[name];
  }
  return out;
}
std::string added(const std::map<std::string, int>& before, const std::map<std::string, int>& after) {
  std::string out;
  int total = 0;
  for (auto& [name, n] : after) {
    int d = n - (before.count(name) ? before.at(name) : 0);
    if (d == 0) continue;
    out += " " + name + (d != 1 ? " x" + std::to_string(d) : "");
    total += d;
  }
  return std::to_string(total) + ":" + out;
}

using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

class RbdClusterGoneTest : public RbdBdevTest {
 protected:
  void TearDown() override {
    if (osd_stopped_) osd("start-osd", 0);  // the next test needs it
    RbdBdevTest::TearDown();
    rbd_image_closer::instance().wait_all(std::chrono::seconds(60));
  }
  void register_short(const std::string& name, int timeout_s) {
    auto r = call("bdev_rbd_register_cluster",
                  {{"name", name},
                   {"config_file", env("CEPH_CONF")},
                   {"config_param", {{"rados_osd_op_timeout", std::to_string(timeout_s)},
                                     {"rados_mon_op_timeout", std::to_string(timeout_s)}}}});
    ASSERT_TRUE(r) << r.err().message;
  }
  void stop_osd() {
    ASSERT_TRUE(osd("stop-osd", 0));
    osd_stopped_ = true;
  }
  void start_osd() {
    ASSERT_TRUE(osd("start-osd", 0));
    osd_stopped_ = false;
  }
  // Times a RAM bdev's write and read from reactor 0 while the RBD I/O waits; the worst one.
  double ram_io_worst_ms(bdev& ram, double for_s) {
    aligned_buffer data(4096), back(4096);
    fill_pattern(data.span(), 1);
    double worst = 0;
    auto t0 = clock_type::now();
    while (since(t0) < for_s) {
      auto t = clock_type::now();
      EXPECT_EQ(h.write(ram, 0, 8, data.data()), 0);
      EXPECT_EQ(h.read(ram, 0, 8, back.data()), 0);
      worst = std::max(worst, since(t) * 1000);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return worst;
  }
  bool osd_stopped_ = false;
};

TEST_F(RbdClusterGoneTest, IoErrorsWithinTimeoutReactorServesOthersThenRecovers) {
  log_capture log(spdlog::level::info);
  register_short("short", 5);
  auto b = create_bdev("Ceph0", "gone", "short");  // home: reactor 0, which also submits
  ASSERT_TRUE(b);
  auto ram = ram_bdev::create("Ram0", 512, 2048, std::nullopt);
  ASSERT_TRUE(ram);
  aligned_buffer data(4096), back(4096);
  fill_pattern(data.span(), 5);
  ASSERT_EQ(h.write(*b, 0, 8, data.data()), 0);
  ASSERT_EQ(h.flush(*b), 0);

  stop_osd();
  // Blocks never read (not in librbd's cache) of an object that exists (of one that does
  // not, librbd's object map answers zeroes without the OSD) must come from the OSD. Two
  // reads at once, from reactor 0, while the RAM bdev's I/O runs on the same reactor.
  std::vector<bdev_io> reads = {h.make(bdev_op::read, 1024, 8, back.data()),
                                h.make(bdev_op::read, 2048, 8, back.data())};
  auto t0 = clock_type::now();
  h.submit_on(0, *b, reads);
  double worst = ram_io_worst_ms(*ram.value(), 3.0);
  ASSERT_TRUE(h.wait(std::chrono::seconds(30)));
  double waited = since(t0);
  EXPECT_LT(reads[0].status, 0);
  EXPECT_LT(reads[1].status, 0);
  EXPECT_GE(waited, 4.0);   // the timeout, not an immediate refusal
  EXPECT_LT(waited, 12.0);  // about one rados_osd_op_timeout
  EXPECT_LT(worst, 200.0);  // the reactor was never blocked
  // A flush (the cache holds nothing dirty) and a write + flush fail the same way.
  auto t1 = clock_type::now();
  ASSERT_EQ(h.write(*b, 16, 8, data.data()), 0);  // writeback: completes from the cache
  int fl = h.flush(*b);
  double flush_s = since(t1);
  EXPECT_LT(fl, 0);
  EXPECT_LT(flush_s, 12.0);
  std::printf("OSD gone: reads %s after %.1f s (RAM I/O on the same reactor meanwhile: worst %.1f ms), "
              "flush %s after %.1f s\n",
              std::strerror(-reads[0].status), waited, worst, std::strerror(-fl), flush_s);
  std::string line = log.find({"rbd bdev Ceph0", "image rbd/gone failed", std::strerror(-reads[0].status)});
  EXPECT_FALSE(line.empty()) << log.dump();
  int failed_lines = 0;
  for (auto& l : log.lines()) failed_lines += l.find("rbd bdev Ceph0: I/O on image") != std::string::npos &&
                                              l.find("failed") != std::string::npos;
  // One line for the burst, not one per I/O; the write that completed from librbd's cache
  // in between did not end it.
  EXPECT_EQ(failed_lines, 1) << log.dump();
  EXPECT_TRUE(log.find({"succeeds again"}).empty()) << log.dump();

  auto t2 = clock_type::now();
  start_osd();
  double restart_s = since(t2);
  // Each failing try takes the 5 s timeout, so this waits on the cluster, not on a clock.
  int ok = -1;
  for (int i = 0; i < 12 && ok != 0; ++i) ok = h.read(*b, 1024, 8, back.data());
  ASSERT_EQ(ok, 0);
  std::printf("OSD restarted in %.1f s; I/O succeeds again %.1f s after the restart began\n", restart_s, since(t2));
  EXPECT_TRUE(all_zero(back.span()));  // never written
  ASSERT_EQ(h.write(*b, 4096, 8, data.data()), 0);
  ASSERT_EQ(h.flush(*b), 0);
  ASSERT_EQ(h.read(*b, 4096, 8, back.data()), 0);
  EXPECT_TRUE(equal(data, back));
  ASSERT_EQ(h.read(*b, 0, 8, back.data()), 0);
  EXPECT_TRUE(equal(data, back));
  EXPECT_FALSE(log.find({"rbd bdev Ceph0", "succeeds again"}).empty()) << log.dump();
  EXPECT_EQ(h.inline_completions(), 0);
  EXPECT_EQ(h.wrong_thread_completions(), 0);
}

TEST_F(RbdClusterGoneTest, DeleteWithClusterGoneBlocksNeitherRpcNorIoAndClosesInParallel) {
  log_capture log(spdlog::level::info);
  auto threads0 = census();
  register_short("short", 3);
  auto threads1 = census();
  const int n = 3;
  aligned_buffer data(4096);
  fill_pattern(data.span(), 9);
  std::map<std::string, int> threads2;
  for (int i = 0; i < n; ++i) {
    auto b = create_bdev("Ceph" + std::to_string(i), "close" + std::to_string(i), "short");
    ASSERT_TRUE(b);
    ASSERT_EQ(h.write(*b, 0, 8, data.data()), 0);  // takes the exclusive lock
    ASSERT_EQ(h.flush(*b), 0);
    ASSERT_EQ(h.write(*b, 8, 8, data.data()), 0);  // dirty in librbd's cache: rbd_close flushes it
    if (i == 0) threads2 = census();
  }
  auto threads3 = census();
  std::printf("threads: the connection adds %s; its first image and I/O %s; two more images %s\n",
              added(threads0, threads1).c_str(), added(threads1, threads2).c_str(), added(threads2, threads3).c_str());
  auto ram = ram_bdev::create("Ram0", 512, 2048, std::nullopt);
  ASSERT_TRUE(ram);

  stop_osd();
  auto t0 = clock_type::now();
  std::vector<double> deletes;
  for (int i = 0; i < n; ++i) {
    auto t = clock_type::now();
    auto r = call("bdev_rbd_delete", {{"name", "Ceph" + std::to_string(i)}});
    ASSERT_TRUE(r) << r.err().message;
    deletes.push_back(since(t));
  }
  // The RPC thread is free again: other handlers answer, the unregister is refused while
  // the images close.
  auto list = call("bdev_get_bdevs", json::object());
  ASSERT_TRUE(list);
  EXPECT_EQ(list.value().size(), 0u);
  auto busy = call("bdev_rbd_unregister_cluster", {{"name", "short"}});
  EXPECT_FALSE(busy);
  EXPECT_EQ(rbd_image_closer::instance().running(), static_cast<std::size_t>(n));
  double worst = ram_io_worst_ms(*ram.value(), 1.0);  // the I/O path too
  EXPECT_EQ(rbd_image_closer::instance().wait_all(std::chrono::seconds(60)), 0u);
  double total = since(t0);
  std::printf("OSD gone, %d images with dirty cache: deletes returned after %.2f / %.2f / %.2f s; all closed "
              "after %.1f s (rados_osd_op_timeout 3 s); RAM I/O meanwhile: worst %.1f ms\n",
              n, deletes[0], deletes[1], deletes[2], total, worst);
  EXPECT_LT(deletes[0], 1.5);  // the 1 s grace, then the close goes on in the background
  EXPECT_LT(deletes[1], 0.3);  // the cluster is known gone: no grace
  EXPECT_LT(deletes[2], 0.3);
  EXPECT_LT(worst, 200.0);
  // Parallel: about one image's close (three op timeouts: 9-10 s), far from n of them.
  EXPECT_LT(total, 3 * 3.0 + 5.0);
  EXPECT_FALSE(log.find({"closing RBD image rbd/close0 (bdev Ceph0)", "cluster unreachable", "waiting up to"}).empty())
      << log.dump();
  start_osd();
  auto r = call("bdev_rbd_unregister_cluster", {{"name", "short"}});
  EXPECT_TRUE(r) << r.err().message;
}

}  // namespace
}  // namespace nvmfd::test
