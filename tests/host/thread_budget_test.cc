// Thread census of the host side: the threads of this process counted by name
// (/proc/self/task/*/comm, names from src/reactor/thread_name.h) as paths, discovery services
// and registries come and go, against a budget table. The table says what each object costs
// in threads today and what issue 14 aims at (docs/plans/issue14-threads.md): whatever is
// attached, discovered or running, a process runs its reactors, the RPC thread and the main
// thread only, so that the census with 20 paths equals the census with one. Each stage of
// the plan moves a line's `today` to its `goal`; the test holds at every stage.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "discovery/mdns_discovery.h"
#include "fake_browser.h"
#include "host_side.h"
#include "link_proxy.h"
#include "local_target.h"
#include "reactor/blocking_call.h"
#include "reactor/loop_thread.h"

namespace nvmfd {
namespace {

using test::host_side;
using census = std::map<std::string, int>;

// Threads one object adds, by thread name.
struct budget_line {
  const char* thread;
  int today;
  int goal;
  const char* stage;  // of the plan, that brings today to goal
};
constexpr budget_line per_path{"nvme-path", 0, 0, "S5: path supervisor as a state machine (done)"};
constexpr budget_line per_registry{"nvme-publish", 0, 0, "S3: publisher as a job on the control reactor (done)"};
constexpr budget_line per_discovery_service{"nvme-disc", 0, 0, "S6: discovery service as a state machine (done)"};
constexpr budget_line per_mdns_discovery{"mdns-disc", 0, 0, "S7: mDNS discovery's events on the RPC thread's loop (done)"};
// Avahi (mDNS publishing and browsing): 0 since S8, on the RPC thread's loop (tests/mdns/
// mdns_test.cc counts it with a real daemon).
// The registry's attach_async/detach_*_async run on the control reactor (nvme_path connects
// and stops asynchronously); the interim worker thread that ran them is gone.
constexpr budget_line per_registry_worker{"nvme-control", 0, 0,
                                          "S6: the registry's async cores on the control reactor (done)"};
// lvol inflate / decouple_parent: 0 since S1 (tests/unit/bdev/lvol_operation_test.cc counts it).

// The threads of this process by name; "main" for the main thread, "reactor" for every
// reactor-N. io_uring's workers (iou-wrk-*, iou-sqp-*) are the kernel's, come and go, and
// are left out.
census take_census() {
  census out;
  const std::string main_tid = std::to_string(getpid());
  for (auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream f(task.path() / "comm");
    std::string name;
    if (!std::getline(f, name)) continue;  // the thread ended meanwhile
    if (name.starts_with("iou-")) continue;
    if (task.path().filename() == main_tid) name = "main";
    if (name.starts_with("reactor-")) name = "reactor";
    ++out[name];
  }
  return out;
}

// What `now` has more (or less) than `before`, by name; names that did not change are left out.
census delta(const census& before, const census& now) {
  census d;
  for (auto& [name, n] : now) d[name] += n;
  for (auto& [name, n] : before) d[name] -= n;
  std::erase_if(d, [](auto& e) { return e.second == 0; });
  return d;
}

// The delta to base once it is `want`, or as it is after a generous limit. A thread that
// was joined may still show for a moment: join returns when the thread has let go of its
// stack, just before the kernel lets go of the task.
census settled_delta(const census& base, const census& want) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  census d = delta(base, take_census());
  while (d != want && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
    d = delta(base, take_census());
  }
  return d;
}

std::string show(const census& c) {
  std::string s;
  for (auto& [name, n] : c) s += name + "=" + std::to_string(n) + " ";
  return s.empty() ? "(none)" : s;
}

// The census a number of objects should add today.
census today(std::initializer_list<std::pair<budget_line, int>> objects) {
  census c;
  for (auto& [line, n] : objects) c[line.thread] += line.today * n;
  std::erase_if(c, [](auto& e) { return e.second == 0; });
  return c;
}

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:census";

struct thread_budget : ::testing::Test {
  test::local_target t{2};
  std::unique_ptr<host_side> host;
  census before_host;

  void SetUp() override {
    t.add_subsystem(nqn);
    before_host = take_census();
    host = std::make_unique<host_side>(2);
  }
  json attach(const std::string& name) {
    return {{"name", name}, {"trtype", "tcp"}, {"adrfam", "ipv4"}, {"traddr", "127.0.0.1"},
            {"trsvcid", t.port_text()}, {"subnqn", nqn}};
  }
};

TEST_F(thread_budget, a_process_runs_its_reactors_and_main_thread) {
  census all = take_census();
  EXPECT_EQ(all["main"], 1);
  EXPECT_EQ(all["reactor"], 4) << "2 target and 2 host reactors: " << show(all);
  census host_threads = delta(before_host, all);
  census want = today({{per_registry, 1}});
  want["reactor"] += 2;
  EXPECT_EQ(host_threads, want) << show(host_threads);
}

TEST_F(thread_budget, paths_cost_what_the_budget_says_and_leave_nothing_behind) {
  census base = take_census();
  host->ok("bdev_nvme_attach_controller", attach("Nvme0"));
  census one = settled_delta(base, today({{per_path, 1}}));
  EXPECT_EQ(one, today({{per_path, 1}})) << show(one);

  for (int i = 1; i < 20; ++i) host->ok("bdev_nvme_attach_controller", attach("Nvme" + std::to_string(i)));
  ASSERT_EQ(host->controllers.list().size(), 20u);
  census twenty = settled_delta(base, today({{per_path, 20}}));
  EXPECT_EQ(twenty, today({{per_path, 20}})) << show(twenty);
  EXPECT_EQ(twenty, one) << "paths cost no thread: the census with 20 equals the one with 1";
  EXPECT_EQ(twenty["nvme-path"], 0);
  EXPECT_EQ(twenty["nvme-control"], 0);

  for (int i = 0; i < 20; ++i) host->ok("bdev_nvme_detach_controller", {{"name", "Nvme" + std::to_string(i)}});
  census after = settled_delta(base, {});
  EXPECT_EQ(after, census{}) << "every path's thread is joined at detach: " << show(after);
}

// Three services (three addresses: a relay each to the one target, whose log lists the same
// subsystem to all three, attached under three names).
TEST_F(thread_budget, discovery_services_cost_what_the_budget_says) {
  std::vector<std::unique_ptr<test::link_proxy>> relays;
  for (int i = 0; i < 3; ++i) relays.push_back(std::make_unique<test::link_proxy>("127.0.0.1", "127.0.0.1", t.port()));
  census base = take_census();
  for (int i = 0; i < 3; ++i) {
    std::string name = "disc" + std::string(1, static_cast<char>('a' + i));
    host->ok("bdev_nvme_start_discovery", {{"name", name}, {"trtype", "tcp"}, {"adrfam", "ipv4"},
                                           {"traddr", "127.0.0.1"}, {"trsvcid", std::to_string(relays[i]->port())},
                                           {"wait_for_attach", true}, {"attach_timeout_ms", 10000}});
    ASSERT_TRUE(host->bdevs.find(name + "0n1")) << "the service attached the subsystem the log lists";
  }
  census want = today({{per_discovery_service, 3}, {per_path, 3}, {per_registry_worker, 1}});
  census running = settled_delta(base, want);
  EXPECT_EQ(running, want) << show(running);
  EXPECT_EQ(running, census{}) << "three services and their paths cost no thread: " << show(running);
  EXPECT_EQ(running.count("nvme-disc"), 0u) << "a discovery service has no thread of its own: " << show(running);
  EXPECT_EQ(running.count("nvme-control"), 0u) << "the registry attaches on the control reactor: " << show(running);
  for (int i = 0; i < 3; ++i)
    host->ok("bdev_nvme_stop_discovery", {{"name", "disc" + std::string(1, static_cast<char>('a' + i))}});
  census stopped = settled_delta(base, {});
  EXPECT_EQ(stopped, census{}) << show(stopped);
  host.reset();
  relays.clear();
  census after = settled_delta(before_host, {});
  EXPECT_EQ(after, census{}) << show(after);
}

// An mDNS discovery (a fake browser: no daemon) that found one discovery controller: its
// events run on the RPC thread's loop, so it costs the discovery service it started only.
TEST_F(thread_budget, an_mdns_discovery_costs_what_the_budget_says) {
  loop_thread rpc("rpc");
  census base = take_census();
  test::fake_browsers browsers;
  auto d = mdns_discovery::start(rpc.loop(), host->controllers, {"m", "_nvme-disc._tcp", ""}, browsers.factory());
  ASSERT_TRUE(d.ok()) << d.err().message;
  browsers.found(test::announced(t.port()));
  (void)blocking_call<void>(rpc.loop(), [](completion<void> done) { done(success()); });  // handled
  census want = today({{per_mdns_discovery, 1}, {per_discovery_service, 1}, {per_path, 1}});
  census running = settled_delta(base, want);
  EXPECT_EQ(running, want) << show(running);
  {
    auto control = host->controllers.lock_control();
    d.value()->stop();
  }
  census after = settled_delta(base, {});
  EXPECT_EQ(after, census{}) << show(after);
}

TEST_F(thread_budget, a_registry_joins_its_threads_when_it_goes) {
  host->ok("bdev_nvme_attach_controller", attach("Nvme0"));
  host.reset();
  census after = settled_delta(before_host, {});
  EXPECT_EQ(after, census{}) << show(after);
}

}  // namespace
}  // namespace nvmfd
