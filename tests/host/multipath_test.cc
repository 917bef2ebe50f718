// Multipath against our own target over two loopback paths: path A to 127.0.0.1, path B to
// 127.0.0.2 through a link_proxy on 127.0.0.3 (so that its link can be cut silently).
// Verified I/O runs throughout; after every change a test asserts bdev_nvme_get_io_paths
// and checks that the application saw no error.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "host_side.h"
#include "link_proxy.h"
#include "local_target.h"
#include "rpc/config_loader.h"
#include "verified_io.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using test::host_side;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:multipath";
constexpr const char* addr_a = "127.0.0.1";
constexpr const char* addr_b = "127.0.0.2";  // the target's listener behind the proxy
constexpr const char* addr_proxy = "127.0.0.3";

// What a test expects of one io path; matched by transport address.
struct want_path {
  std::string traddr;
  bool current, connected, accessible;
  std::string ana_state;
};

struct multipath_fixture : ::testing::Test {
  test::local_target t{2};
  std::unique_ptr<test::link_proxy> proxy;
  host_side host{2};

  void SetUp() override {
    t.call("bdev_malloc_create", {{"name", "Shared"}, {"block_size", 512}, {"num_blocks", 65536}});
    t.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}, {"ana_reporting", true}});
    t.call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Shared"}, {"anagrpid", 1}}}});
    add_listener(addr_a);
    add_listener(addr_b);
    proxy = std::make_unique<test::link_proxy>(addr_proxy, addr_b, t.port());
    // Fast failure detection for tests: Keep Alive every 0.5 s, failed after 1 s unanswered.
    host.ok("bdev_nvme_set_options", {{"keep_alive_timeout_ms", 1000},
                                      {"ctrlr_loss_timeout_sec", -1},
                                      {"reconnect_delay_sec", 1},
                                      {"fast_io_fail_timeout_sec", 20}});
  }
  void TearDown() override {
    // Paths first (they talk to the target and the proxy), then the proxy, then the target.
    for (auto* e : host.controllers.list()) (void)host.controllers.detach(e->name);
    proxy.reset();
  }

  json listen_address(const std::string& traddr) {
    return {{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", traddr}, {"trsvcid", t.port_text()}};
  }
  void add_listener(const std::string& traddr) {
    t.call("nvmf_subsystem_add_listener", {{"nqn", nqn}, {"listen_address", listen_address(traddr)}});
  }
  void remove_listener(const std::string& traddr) {
    t.call("nvmf_subsystem_remove_listener", {{"nqn", nqn}, {"listen_address", listen_address(traddr)}});
  }
  void set_ana(const std::string& traddr, const std::string& state) {
    t.call("nvmf_subsystem_listener_set_ana_state",
           {{"nqn", nqn}, {"listen_address", listen_address(traddr)}, {"ana_state", state}});
  }
  json attach_a(const std::string& multipath = "") {
    json p = {{"name", "Nvme0"}, {"trtype", "tcp"}, {"adrfam", "ipv4"}, {"traddr", addr_a},
              {"trsvcid", t.port_text()}, {"subnqn", nqn}, {"fabrics_connect_timeout_us", 2000000}};
    if (!multipath.empty()) p["multipath"] = multipath;
    return p;
  }
  json attach_b(const std::string& multipath = "multipath") {
    json p = attach_a(multipath);
    p["traddr"] = addr_proxy;
    p["trsvcid"] = std::to_string(proxy->port());
    return p;
  }
  void attach_both() {
    ASSERT_EQ(host.ok("bdev_nvme_attach_controller", attach_a()), json::array({"Nvme0n1"}));
    ASSERT_EQ(host.ok("bdev_nvme_attach_controller", attach_b()), json::array({"Nvme0n1"}));
  }

  json io_paths() { return host.ok("bdev_nvme_get_io_paths", {{"name", "Nvme0n1"}}); }

  // The io paths of Nvme0n1 as this test describes them, in the order reported.
  std::vector<want_path> seen(const json& r) {
    std::vector<want_path> out;
    for (auto& p : r["poll_groups"][0]["io_paths"])
      out.push_back({p["transport"]["traddr"], p["current"], p["connected"], p["accessible"], p["ana_state"]});
    return out;
  }
  static bool same(const std::vector<want_path>& a, const std::vector<want_path>& b) {
    if (a.size() != b.size()) return false;
    for (auto& x : a) {
      auto it = std::find_if(b.begin(), b.end(), [&](auto& y) { return y.traddr == x.traddr; });
      if (it == b.end() || it->current != x.current || it->connected != x.connected ||
          it->accessible != x.accessible || it->ana_state != x.ana_state)
        return false;
    }
    return true;
  }
  // Waits (changes travel as AENs, log reads and reconnects) until the report matches, then
  // asserts it in full, with every field SPDK has and every poll group identical.
  void expect_paths(const std::vector<want_path>& want, std::chrono::milliseconds limit = 15s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    json r = io_paths();
    while (!same(want, seen(r)) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      r = io_paths();
    }
    ASSERT_TRUE(same(want, seen(r))) << r.dump(1);
    ASSERT_EQ(r["poll_groups"].size(), 2u);
    EXPECT_EQ(r["poll_groups"][0]["io_paths"], r["poll_groups"][1]["io_paths"]);
    for (auto& p : r["poll_groups"][0]["io_paths"]) {
      EXPECT_EQ(p["bdev_name"], "Nvme0n1");
      EXPECT_TRUE(p["cntlid"].is_number_unsigned());
      EXPECT_EQ(p["transport"]["trtype"], "TCP");
      EXPECT_EQ(p["transport"]["adrfam"], "IPv4");
      // The field fault this issue is about: never current while not usable.
      if (p["ana_state"] != "optimized" && p["ana_state"] != "non_optimized") {
        EXPECT_FALSE(p["current"]) << p.dump();
      }
      if (!p["connected"]) {
        EXPECT_FALSE(p["current"]) << p.dump();
      }
    }
  }

  // Writes completed through the path to traddr so far.
  uint64_t writes_via(const std::string& traddr) {
    json r = host.ok("bdev_nvme_get_path_iostat", {{"name", "Nvme0n1"}});
    for (auto& s : r["stats"])
      if (s["trid"]["traddr"] == traddr) return s["stat"]["num_write_ops"];
    return 0;
  }
  uint16_t cntlid_of(const std::string& traddr) {
    json r = io_paths();
    for (auto& p : r["poll_groups"][0]["io_paths"])
      if (p["transport"]["traddr"] == traddr) return p["cntlid"];
    return 0xffff;
  }
};

// I/O follows ANA: only through optimized paths while there is one, non-optimized otherwise,
// never through inaccessible, persistent-loss or change paths; the report says which and why.
TEST_F(multipath_fixture, io_follows_ana_states_and_the_report_tells_the_truth) {
  attach_both();
  test::verified_io io(host.dev("Nvme0n1"), host.h.pool(), 4, 16);
  io.start();
  ASSERT_TRUE(io.progress(200));
  expect_paths({{addr_a, true, true, true, "optimized"}, {addr_proxy, false, true, true, "optimized"}});

  set_ana(addr_a, "inaccessible");
  expect_paths({{addr_a, false, true, false, "inaccessible"}, {addr_proxy, true, true, true, "optimized"}});
  ASSERT_TRUE(io.progress(100));  // settle: I/O that was on A when it changed is done
  uint64_t a_before = writes_via(addr_a), b_before = writes_via(addr_proxy);
  ASSERT_TRUE(io.progress(300));
  EXPECT_EQ(writes_via(addr_a), a_before) << "I/O went through an inaccessible path";
  EXPECT_GT(writes_via(addr_proxy), b_before);

  // Non-optimized carries I/O only while no optimized path is usable.
  set_ana(addr_a, "non_optimized");
  set_ana(addr_b, "inaccessible");
  expect_paths({{addr_a, true, true, true, "non_optimized"}, {addr_proxy, false, true, false, "inaccessible"}});
  ASSERT_TRUE(io.progress(200));
  set_ana(addr_b, "optimized");
  expect_paths({{addr_a, false, true, true, "non_optimized"}, {addr_proxy, true, true, true, "optimized"}});
  ASSERT_TRUE(io.progress(200));

  set_ana(addr_a, "optimized");
  expect_paths({{addr_a, true, true, true, "optimized"}, {addr_proxy, false, true, true, "optimized"}});
  set_ana(addr_a, "persistent_loss");
  expect_paths({{addr_a, false, true, false, "persistent_loss"}, {addr_proxy, true, true, true, "optimized"}});
  ASSERT_TRUE(io.progress(200));
  set_ana(addr_a, "change");
  expect_paths({{addr_a, false, true, false, "change"}, {addr_proxy, true, true, true, "optimized"}});
  ASSERT_TRUE(io.progress(200));
  set_ana(addr_a, "optimized");
  expect_paths({{addr_a, true, true, true, "optimized"}, {addr_proxy, false, true, true, "optimized"}});

  // active_active: both optimized paths are current and both carry I/O.
  host.ok("bdev_nvme_set_multipath_policy",
          {{"name", "Nvme0n1"}, {"policy", "active_active"}, {"selector", "round_robin"}, {"rr_min_io", 1}});
  expect_paths({{addr_a, true, true, true, "optimized"}, {addr_proxy, true, true, true, "optimized"}});
  a_before = writes_via(addr_a), b_before = writes_via(addr_proxy);
  ASSERT_TRUE(io.progress(300));
  EXPECT_GT(writes_via(addr_a), a_before);
  EXPECT_GT(writes_via(addr_proxy), b_before);
  set_ana(addr_b, "non_optimized");
  expect_paths({{addr_a, true, true, true, "optimized"}, {addr_proxy, false, true, true, "non_optimized"}});
  // queue_depth spreads over the optimized ones too.
  set_ana(addr_b, "optimized");
  host.ok("bdev_nvme_set_multipath_policy", {{"name", "Nvme0n1"}, {"policy", "active_active"}, {"selector", "queue_depth"}});
  expect_paths({{addr_a, true, true, true, "optimized"}, {addr_proxy, true, true, true, "optimized"}});
  ASSERT_TRUE(io.progress(300));

  ASSERT_TRUE(io.stop());
  EXPECT_EQ(io.errors(), 0u) << io.first_error();
  json bdev = host.ok("bdev_get_bdevs", {{"name", "Nvme0n1"}})[0];
  EXPECT_EQ(bdev["driver_specific"]["mp_policy"], "active_active");
  EXPECT_EQ(bdev["driver_specific"]["nvme"].size(), 2u);
}

// A listener removed on the target drops its connections: I/O moves to the other path with no
// error, the path reconnects when the listener is back, and the preferred path is used again.
// Then the same with a silent link cut (nothing closes; Keep Alive finds out).
TEST_F(multipath_fixture, listener_removal_and_link_cut_fail_over_without_errors) {
  attach_both();
  host.ok("bdev_nvme_set_preferred_path", {{"name", "Nvme0n1"}, {"cntlid", cntlid_of(addr_proxy)}});
  expect_paths({{addr_a, false, true, true, "optimized"}, {addr_proxy, true, true, true, "optimized"}});
  test::verified_io io(host.dev("Nvme0n1"), host.h.pool(), 4, 16);
  io.start();
  ASSERT_TRUE(io.progress(200));

  remove_listener(addr_b);
  expect_paths({{addr_a, true, true, true, "optimized"}, {addr_proxy, false, false, false, "optimized"}});
  json ctrlrs = host.ok("bdev_nvme_get_controllers", {{"name", "Nvme0"}})[0]["ctrlrs"];
  ASSERT_EQ(ctrlrs.size(), 2u);
  EXPECT_NE(ctrlrs[1]["state"], "enabled") << ctrlrs.dump();
  EXPECT_EQ(ctrlrs[0]["host"]["nqn"], ctrlrs[1]["host"]["nqn"]) << "one host, two paths: one host NQN";
  ASSERT_TRUE(io.progress(300));
  add_listener(addr_b);
  expect_paths({{addr_a, false, true, true, "optimized"}, {addr_proxy, true, true, true, "optimized"}});
  ASSERT_TRUE(io.progress(300));
  EXPECT_EQ(io.errors(), 0u) << io.first_error();

  uint64_t b_before = writes_via(addr_proxy);
  proxy->cut();
  expect_paths({{addr_a, true, true, true, "optimized"}, {addr_proxy, false, false, false, "optimized"}});
  ASSERT_TRUE(io.progress(300));
  uint64_t b_cut = writes_via(addr_proxy);
  ASSERT_TRUE(io.progress(300));
  EXPECT_EQ(writes_via(addr_proxy), b_cut);
  EXPECT_GE(b_cut, b_before);
  proxy->restore();
  expect_paths({{addr_a, false, true, true, "optimized"}, {addr_proxy, true, true, true, "optimized"}}, 20s);
  ASSERT_TRUE(io.progress(300));
  EXPECT_GT(writes_via(addr_proxy), b_cut);

  ASSERT_TRUE(io.stop());
  EXPECT_EQ(io.errors(), 0u) << io.first_error();
}

// A group that stays in ANA change longer than ANATT (10 s from nvmfd's target) gets its path
// reset: the host reconnects (a new controller) and reads the log again. I/O stays on the
// other path throughout.
TEST_F(multipath_fixture, a_path_stuck_in_ana_change_past_anatt_is_reset) {
  attach_both();
  test::verified_io io(host.dev("Nvme0n1"), host.h.pool(), 2, 16);
  io.start();
  uint16_t before = cntlid_of(addr_a);
  set_ana(addr_a, "change");
  expect_paths({{addr_a, false, true, false, "change"}, {addr_proxy, true, true, true, "optimized"}});
  auto deadline = std::chrono::steady_clock::now() + 25s;
  while (cntlid_of(addr_a) == before && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  EXPECT_NE(cntlid_of(addr_a), before) << "the path was not reset after ANATT";
  set_ana(addr_a, "optimized");
  expect_paths({{addr_a, true, true, true, "optimized"}, {addr_proxy, false, true, true, "optimized"}});
  ASSERT_TRUE(io.progress(100));
  ASSERT_TRUE(io.stop());
  EXPECT_EQ(io.errors(), 0u) << io.first_error();
}

// multipath "failover": the second transport ID stays passive (no connection, no io path)
// until the first one is lost; then the path reconnects through it.
TEST_F(multipath_fixture, failover_keeps_the_second_path_passive_until_the_first_is_lost) {
  ASSERT_EQ(host.ok("bdev_nvme_attach_controller", attach_a()), json::array({"Nvme0n1"}));
  ASSERT_EQ(host.ok("bdev_nvme_attach_controller", attach_b("failover")), json::array({"Nvme0n1"}));
  json c = host.ok("bdev_nvme_get_controllers", {{"name", "Nvme0"}})[0];
  ASSERT_EQ(c["ctrlrs"].size(), 1u) << c.dump();
  ASSERT_EQ(c["ctrlrs"][0]["alternate_trids"].size(), 1u) << c.dump();
  EXPECT_EQ(c["ctrlrs"][0]["alternate_trids"][0]["traddr"], addr_proxy);
  EXPECT_EQ(c["ctrlrs"][0]["trid"]["traddr"], addr_a);
  expect_paths({{addr_a, true, true, true, "optimized"}});

  test::verified_io io(host.dev("Nvme0n1"), host.h.pool(), 4, 16);
  io.start();
  ASSERT_TRUE(io.progress(200));
  remove_listener(addr_a);
  expect_paths({{addr_proxy, true, true, true, "optimized"}});
  ASSERT_TRUE(io.progress(300));
  c = host.ok("bdev_nvme_get_controllers", {{"name", "Nvme0"}})[0];
  EXPECT_EQ(c["ctrlrs"][0]["trid"]["traddr"], addr_proxy) << c.dump();
  EXPECT_EQ(c["ctrlrs"][0]["alternate_trids"][0]["traddr"], addr_a) << c.dump();
  ASSERT_TRUE(io.stop());
  EXPECT_EQ(io.errors(), 0u) << io.first_error();
}

// With no usable path, I/O waits: it completes if a path comes back within
// fast_io_fail_timeout_sec, and fails with -EIO after it.
TEST_F(multipath_fixture, io_waits_for_a_path_then_fails_after_fast_io_fail_timeout) {
  json b = attach_b("");
  // Reconnect attempts into the cut link give up after 0.5 s, one a second: after a restore
  // the path is back within about 1.6 s, well inside the 3 s an I/O may wait.
  b["fast_io_fail_timeout_sec"] = 3;
  b["reconnect_delay_sec"] = 1;
  b["ctrlr_loss_timeout_sec"] = -1;
  b["fabrics_connect_timeout_us"] = 500000;
  ASSERT_EQ(host.ok("bdev_nvme_attach_controller", b), json::array({"Nvme0n1"}));
  bdev& dev = host.dev("Nvme0n1");
  test::aligned_buffer buf(4096);
  test::fill_pattern(buf.span(), 5);
  ASSERT_EQ(host.h.write(dev, 0, 8, buf.data()), 0);

  // Cut, then back within the limit: the write waits (parked) and succeeds.
  proxy->cut();
  expect_paths({{addr_proxy, false, false, false, "optimized"}});
  auto& nvme = dynamic_cast<nvme_bdev&>(dev);
  uint64_t parked = nvme.ios_parked();
  std::array<bdev_io, 1> w{host.h.make(bdev_op::write, 8, 8, buf.data())};
  host.h.submit_on(0, dev, w);
  auto limit = std::chrono::steady_clock::now() + 10s;
  while (nvme.ios_parked() == parked && std::chrono::steady_clock::now() < limit) std::this_thread::yield();
  ASSERT_GT(nvme.ios_parked(), parked) << "the write did not wait for a path";
  proxy->restore();
  ASSERT_TRUE(host.h.wait(20s));
  EXPECT_EQ(w[0].status, 0);

  // Cut for longer: the I/O fails with -EIO after about 3 s without a path, not before.
  expect_paths({{addr_proxy, true, true, true, "optimized"}}, 20s);
  proxy->cut();
  expect_paths({{addr_proxy, false, false, false, "optimized"}});
  auto t0 = std::chrono::steady_clock::now();
  std::array<bdev_io, 1> r{host.h.make(bdev_op::read, 0, 8, buf.data())};
  host.h.submit_on(1, dev, r);
  ASSERT_TRUE(host.h.wait(20s));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r[0].status, -EIO);
  EXPECT_GE(waited, 2900ms);
  EXPECT_LT(waited, 8s);
}

// Detaching one path by its address leaves the other serving; the name goes with the last.
TEST_F(multipath_fixture, detach_by_path_removes_only_that_path) {
  attach_both();
  test::verified_io io(host.dev("Nvme0n1"), host.h.pool(), 2, 16);
  io.start();
  ASSERT_TRUE(io.progress(100));
  auto missing = host.call("bdev_nvme_detach_controller", {{"name", "Nvme0"}, {"traddr", "127.0.0.9"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(rpc_error_code(missing.err()), -ENODEV);
  EXPECT_EQ(host.ok("bdev_nvme_detach_controller",
                    {{"name", "Nvme0"}, {"traddr", addr_a}, {"trsvcid", t.port_text()}}),
            true);
  expect_paths({{addr_proxy, true, true, true, "optimized"}});
  ASSERT_TRUE(io.progress(200));
  ASSERT_TRUE(io.stop());
  EXPECT_EQ(io.errors(), 0u) << io.first_error();
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", {{"name", "Nvme0"}})[0]["ctrlrs"].size(), 1u);
  EXPECT_EQ(host.ok("bdev_nvme_detach_controller", {{"name", "Nvme0"}, {"traddr", addr_proxy}}), true);
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()), json::array());
  EXPECT_FALSE(host.bdevs.find("Nvme0n1"));
}

// save_config writes every path, the policy and the preferred path; a fresh host loading it
// ends up with the same paths.
TEST_F(multipath_fixture, config_round_trip_keeps_paths_policy_and_preferred_path) {
  attach_both();
  host.ok("bdev_nvme_set_multipath_policy",
          {{"name", "Nvme0n1"}, {"policy", "active_active"}, {"selector", "round_robin"}, {"rr_min_io", 4}});
  host.ok("bdev_nvme_set_preferred_path", {{"name", "Nvme0n1"}, {"cntlid", cntlid_of(addr_proxy)}});
  json saved = save_config(host.methods);
  json calls;
  for (auto& s : saved["subsystems"])
    if (s["subsystem"] == "bdev_nvme") calls = s["config"];
  ASSERT_EQ(calls.size(), 5u) << calls.dump(1);
  EXPECT_EQ(calls[0]["method"], "bdev_nvme_set_options");
  EXPECT_EQ(calls[0]["params"]["keep_alive_timeout_ms"], 1000);
  EXPECT_EQ(calls[1]["params"]["traddr"], addr_a);
  EXPECT_FALSE(calls[1]["params"].contains("multipath"));
  EXPECT_EQ(calls[2]["params"]["traddr"], addr_proxy);
  EXPECT_EQ(calls[2]["params"]["multipath"], "multipath");
  EXPECT_EQ(calls[3]["method"], "bdev_nvme_set_multipath_policy");
  EXPECT_EQ(calls[3]["params"]["rr_min_io"], 4);
  EXPECT_EQ(calls[4]["method"], "bdev_nvme_set_preferred_path");
  // cntlid is SPDK's key; it changes with every connection, so the path's address is saved too.
  EXPECT_EQ(calls[4]["params"]["traddr"], addr_proxy);

  host_side other(2);
  auto loaded = load_config(saved, other.methods);
  ASSERT_TRUE(loaded.ok()) << loaded.err().message;
  json r = other.ok("bdev_nvme_get_io_paths", {{"name", "Nvme0n1"}});
  ASSERT_EQ(r["poll_groups"][0]["io_paths"].size(), 2u) << r.dump();
  EXPECT_EQ(r["poll_groups"][0]["io_paths"][0]["transport"]["traddr"], addr_proxy);  // preferred first
  EXPECT_EQ(other.ok("bdev_get_bdevs", {{"name", "Nvme0n1"}})[0]["driver_specific"]["rr_min_io"], 4);
  for (auto* e : other.controllers.list()) (void)other.controllers.detach(e->name);
}

// save_config (control thread) while the path's supervisor rotates through its failover
// transport IDs: both read and write the path's transport ID (a data race under TSan when
// nvme_path::request() handed out its request unlocked).
TEST_F(multipath_fixture, save_config_while_a_failover_path_rotates) {
  ASSERT_EQ(host.ok("bdev_nvme_attach_controller", attach_a()), json::array({"Nvme0n1"}));
  ASSERT_EQ(host.ok("bdev_nvme_attach_controller", attach_b("failover")), json::array({"Nvme0n1"}));
  auto in_use = [&] {
    json saved = save_config(host.methods);
    for (auto& s : saved["subsystems"])
      if (s["subsystem"] == "bdev_nvme")
        for (auto& c : s["config"])
          if (c["method"] == "bdev_nvme_attach_controller" && !c["params"].contains("multipath"))
            return c["params"]["traddr"].get<std::string>();
    return std::string();
  };
  ASSERT_EQ(in_use(), addr_a);
  // Neither address answers: each reconnect attempt (one a second, those to the cut link
  // lasting up to the connect timeout) takes the next one. The link is cut first: an
  // attempt through it that got past Connect would wait out the admin command timeout.
  proxy->cut();
  remove_listener(addr_a);
  std::string last = addr_a;
  unsigned changes = 0;
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < 3s ||
         (changes < 2 && std::chrono::steady_clock::now() - start < 15s)) {
    std::string now = in_use();
    if (now != last) ++changes, last = now;
  }
  EXPECT_GE(changes, 2u) << "the path did not rotate";
  proxy->restore();
  add_listener(addr_a);
}

TEST_F(multipath_fixture, bad_params_are_clear_errors) {
  attach_both();
  struct bad {
    const char* method;
    json params;
    const char* field;
  };
  std::vector<bad> cases = {
      {"bdev_nvme_set_multipath_policy", {{"name", "Nvme0n1"}, {"policy", "sideways"}}, "policy"},
      {"bdev_nvme_set_multipath_policy", {{"name", "Nvme0n1"}, {"policy", "active_passive"}, {"selector", "round_robin"}}, "selector"},
      {"bdev_nvme_set_multipath_policy", {{"name", "Nvme0n1"}, {"policy", "active_active"}, {"selector", "queue_depth"}, {"rr_min_io", 2}}, "rr_min_io"},
      {"bdev_nvme_set_multipath_policy", {{"name", "Nvme0n1"}, {"policy", "active_active"}, {"rr_min_io", 0}}, "rr_min_io"},
      {"bdev_nvme_set_preferred_path", {{"name", "Nvme0n1"}}, "cntlid"},
      {"bdev_nvme_set_preferred_path", {{"name", "Nvme0n1"}, {"cntlid", "one"}}, "cntlid"},
      {"bdev_nvme_get_path_iostat", json::object(), "name"},
  };
  for (auto& c : cases) {
    auto r = host.call(c.method, c.params);
    ASSERT_FALSE(r.ok()) << c.method << " " << c.params.dump();
    EXPECT_EQ(rpc_error_code(r.err()), -32602) << r.err().message;
    EXPECT_NE(r.err().message.find(c.field), std::string::npos) << r.err().message;
  }
  auto nobdev = host.call("bdev_nvme_set_multipath_policy", {{"name", "Nope"}, {"policy", "active_passive"}});
  ASSERT_FALSE(nobdev.ok());
  EXPECT_EQ(rpc_error_code(nobdev.err()), -ENODEV);
  auto nocntlid = host.call("bdev_nvme_set_preferred_path", {{"name", "Nvme0n1"}, {"cntlid", 999}});
  ASSERT_FALSE(nocntlid.ok());
  EXPECT_EQ(rpc_error_code(nocntlid.err()), -ENODEV);
  auto late = host.call("bdev_nvme_set_options", {{"keep_alive_timeout_ms", 5000}});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(rpc_error_code(late.err()), -EPERM);
  // Another subsystem under the same name is not another path.
  t.call("nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.nvmfd:other"}, {"allow_any_host", true}});
  json other = attach_a("multipath");
  other["subnqn"] = "nqn.2016-06.io.nvmfd:other";
  other["traddr"] = addr_b;
  auto wrong = host.call("bdev_nvme_attach_controller", other);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.err().message.find("same subsystem"), std::string::npos) << wrong.err().message;
}

}  // namespace
}  // namespace nvmfd
