// mDNS discovery (discovery/mdns_discovery.h) without Avahi: a fake browser announces our
// in-process targets' discovery controllers, and the test checks what the host attaches and
// detaches, and that the events are handled on the loop (the RPC thread's) with no thread of
// their own.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "discovery/mdns_discovery.h"
#include "fake_browser.h"
#include "host_side.h"
#include "local_target.h"
#include "reactor/blocking_call.h"
#include "reactor/loop_thread.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using test::announced;

constexpr const char* nqn1 = "nqn.2016-06.io.nvmfd:mdns1";
constexpr const char* nqn2 = "nqn.2016-06.io.nvmfd:mdns2";

// Thread names of this process (thread_name.h).
std::vector<std::string> thread_names() {
  std::vector<std::string> out;
  for (auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream f(task.path() / "comm");
    std::string name;
    if (std::getline(f, name)) out.push_back(name);
  }
  return out;
}

struct mdns_discovery_test : ::testing::Test {
  loop_thread loop{"rpc"};  // declared first: it outlives the registry and the discoveries
  test::local_target t1{1};
  test::local_target t2{1};
  test::host_side host{1};
  test::fake_browsers browsers;

  mdns_discovery_test() {
    t1.add_subsystem(nqn1);
    t2.add_subsystem(nqn2);
  }
  std::shared_ptr<mdns_discovery> start(const std::string& name) {
    auto d = mdns_discovery::start(loop.loop(), host.controllers, {name, "_nvme-disc._tcp", ""}, browsers.factory());
    EXPECT_TRUE(d.ok()) << d.err().message;
    return d ? d.value() : nullptr;
  }
  // Every event posted before has been handled: the loop runs them in order.
  void settle() {
    (void)blocking_call<void>(loop.loop(), [](completion<void> done) { done(success()); });
  }
  void stop(mdns_discovery& d) {
    auto control = host.controllers.lock_control();  // as the RPC handler holds it
    d.stop();
  }
  size_t services(const mdns_discovery& d) {
    size_t n = 0;
    d.for_each_service([&](const std::string&, const discovery_service&) { ++n; });
    return n;
  }
  // Waits (10 s at most) until the bdev exists or not: the services attach on their own.
  bool wait_bdev(const std::string& name, bool present) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (static_cast<bool>(host.bdevs.find(name)) != present) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }
};

TEST_F(mdns_discovery_test, found_attaches_and_removed_detaches_exactly_that_controllers_paths) {
  auto d = start("m");
  browsers.found(announced(t1.port()));
  browsers.found(announced(t2.port()));
  settle();
  EXPECT_EQ(services(*d), 2u);
  ASSERT_TRUE(wait_bdev("m0_nvme0n1", true)) << "the first discovery controller's subsystem";
  ASSERT_TRUE(wait_bdev("m1_nvme0n1", true)) << "the second discovery controller's subsystem";

  browsers.removed(announced(t1.port()));
  settle();  // the removal is handled in full on the loop: its service stopped and detached
  EXPECT_FALSE(host.bdevs.find("m0_nvme0n1"));
  EXPECT_TRUE(host.bdevs.find("m1_nvme0n1")) << "the other discovery controller's paths stay";
  EXPECT_EQ(services(*d), 1u);

  stop(*d);
  EXPECT_FALSE(host.bdevs.find("m1_nvme0n1"));
  EXPECT_TRUE(host.controllers.list().empty());
  EXPECT_EQ(browsers.live(), 0u);
}

TEST_F(mdns_discovery_test, the_same_controller_on_a_second_interface_is_ignored) {
  auto d = start("m");
  browsers.found(announced(t1.port(), 1));
  browsers.found(announced(t1.port(), 2));
  settle();
  EXPECT_EQ(services(*d), 1u);
  ASSERT_TRUE(wait_bdev("m0_nvme0n1", true));
  EXPECT_EQ(host.controllers.list().size(), 1u);
  stop(*d);
}

TEST_F(mdns_discovery_test, a_transport_other_than_tcp_is_ignored) {
  auto d = start("m");
  auto rdma = announced(t1.port());
  rdma.transport = "rdma";
  browsers.found(rdma);
  settle();
  EXPECT_EQ(services(*d), 0u);
  stop(*d);
}

// stop() while a found event waits on the loop: the event is dropped, nothing is attached,
// no thread is left.
TEST_F(mdns_discovery_test, stop_while_a_found_event_is_queued_leaks_nothing) {
  auto threads_before = thread_names().size();
  auto d = start("m");
  std::promise<void> release;
  auto held = release.get_future().share();
  loop.loop().post([held] { held.wait(); });  // the loop is busy until released
  browsers.found(announced(t1.port()));
  std::thread stopper([&] { stop(*d); });
  // stop() has dropped the browser before it waits for the loop.
  while (browsers.live() != 0) std::this_thread::yield();
  release.set_value();
  stopper.join();
  EXPECT_EQ(services(*d), 0u);
  EXPECT_TRUE(host.controllers.list().empty());
  EXPECT_FALSE(host.bdevs.find("m0_nvme0n1"));
  EXPECT_EQ(thread_names().size(), threads_before);
}

// stop() right after found, without waiting: whether the event was handled (a service
// started) or not, stop() leaves nothing behind.
TEST_F(mdns_discovery_test, stop_right_after_found_leaks_nothing) {
  auto d = start("m");
  browsers.found(announced(t1.port()));
  stop(*d);
  EXPECT_EQ(services(*d), 0u);
  EXPECT_TRUE(host.controllers.list().empty());
}

// A removal handled while stop()'s caller holds the control lock: the event gives the lock
// up (no deadlock) and the service is stopped by stop(), under that lock (finding 2 of
// docs/plans/issue14-threads.md section 6: it used to stop the service without the lock).
TEST_F(mdns_discovery_test, a_removal_racing_stop_leaves_the_service_to_stop) {
  auto d = start("m");
  browsers.found(announced(t1.port()));
  settle();
  ASSERT_TRUE(wait_bdev("m0_nvme0n1", true));
  {
    auto control = host.controllers.lock_control();
    browsers.removed(announced(t1.port()));  // the loop waits for the control lock now
    d->stop();
  }
  EXPECT_EQ(services(*d), 0u);
  EXPECT_FALSE(host.bdevs.find("m0_nvme0n1"));
  EXPECT_TRUE(host.controllers.list().empty());
}

TEST_F(mdns_discovery_test, events_run_on_the_loop_with_no_thread_of_their_own) {
  auto d = start("m");
  browsers.found(announced(t1.port()));
  settle();
  ASSERT_TRUE(wait_bdev("m0_nvme0n1", true));
  for (auto& name : thread_names()) EXPECT_NE(name, "mdns-disc");
  stop(*d);
}

}  // namespace
}  // namespace nvmfd
