// The host's discovery service (bdev_nvme_start_discovery) against our target's discovery
// controller, and connection ownership: each owner removes only what it made.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "discovery/discovery_service.h"
#include "host_side.h"
#include "link_proxy.h"
#include "local_target.h"
#include "rpc/config_loader.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using test::host_side;

constexpr const char* nqn1 = "nqn.2016-06.io.nvmfd:disc1";
constexpr const char* nqn2 = "nqn.2016-06.io.nvmfd:disc2";

json start_params(const test::local_target& t) {
  return {{"name", "nvme"}, {"trtype", "tcp"}, {"adrfam", "ipv4"}, {"traddr", "127.0.0.1"},
          {"trsvcid", t.port_text()}, {"wait_for_attach", true}, {"attach_timeout_ms", 10000}};
}

// Waits until the bdev exists (present) or is gone (!present).
bool wait_bdev(host_side& host, const std::string& name, bool present, std::chrono::seconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (static_cast<bool>(host.bdevs.find(name)) == present) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// Waits until n requests wait for the registry's control token.
bool wait_queued(nvme_controller_registry& r, size_t n, std::chrono::seconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (r.control().queued() != n)
    if (std::chrono::steady_clock::now() > deadline) return false;
    else std::this_thread::yield();
  return true;
}

std::unique_ptr<discovery_service> start_service(host_side& host, const test::local_target& t) {
  discovery_service_params p;
  p.name = "nvme";
  p.trid.traddr = "127.0.0.1";
  p.trid.trsvcid = t.port_text();
  p.wait_for_attach = true;
  p.attach_timeout_ms = 10000;
  auto s = discovery_service::start(host.h.pool(), host.controllers, p);
  EXPECT_TRUE(s.ok()) << s.err().message;
  return s.ok() ? std::move(s.value()) : nullptr;
}

std::vector<std::string> controller_names(host_side& host) {
  std::vector<std::string> out;
  for (auto& c : host.ok("bdev_nvme_get_controllers", json::object())) out.push_back(c["name"]);
  return out;
}

TEST(discovery_service, attaches_what_the_log_lists_and_follows_its_changes) {
  test::local_target t;
  t.add_subsystem(nqn1);
  host_side host;
  EXPECT_EQ(host.ok("bdev_nvme_start_discovery", start_params(t)), true);
  EXPECT_TRUE(host.bdevs.find("nvme0n1"));
  EXPECT_EQ(controller_names(host), std::vector<std::string>({"nvme0"}));
  json info = host.ok("bdev_nvme_get_discovery_info", json::object());
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0]["name"], "nvme");
  EXPECT_EQ(info[0]["trid"]["subnqn"], "nqn.2014-08.org.nvmexpress.discovery");
  EXPECT_EQ(info[0]["trid"]["trsvcid"], t.port_text());
  EXPECT_TRUE(info[0]["referrals"].is_array());

  // A new subsystem appears: the change event brings it in as nvme1.
  t.add_subsystem(nqn2);
  ASSERT_TRUE(wait_bdev(host, "nvme1n1", true)) << "the new subsystem was not attached";
  test::aligned_buffer buf(512);
  test::fill_pattern(buf.span(), 3);
  EXPECT_EQ(host.h.write(host.dev("nvme1n1"), 0, 1, buf.data()), 0);

  // Its listener goes: so does the controller.
  t.call("nvmf_subsystem_remove_listener",
         {{"nqn", nqn2}, {"listen_address", {{"trtype", "TCP"}, {"traddr", "127.0.0.1"}, {"trsvcid", t.port_text()}}}});
  ASSERT_TRUE(wait_bdev(host, "nvme1n1", false)) << "the subsystem that left the log is still attached";
  EXPECT_EQ(controller_names(host), std::vector<std::string>({"nvme0"}));

  // The service is saved as itself, not as the controllers it made.
  json saved = save_config(host.methods);
  bool service_saved = false;
  for (auto& s : saved["subsystems"]) {
    if (s["subsystem"] != "bdev_nvme") continue;
    for (auto& c : s["config"]) {
      EXPECT_NE(c["method"], "bdev_nvme_attach_controller") << c.dump();
      service_saved |= c["method"] == "bdev_nvme_start_discovery";
    }
  }
  EXPECT_TRUE(service_saved) << saved.dump();

  EXPECT_EQ(host.ok("bdev_nvme_stop_discovery", {{"name", "nvme"}}), true);
  EXPECT_FALSE(host.bdevs.find("nvme0n1"));
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()), json::array());
  auto again = host.call("bdev_nvme_stop_discovery", {{"name", "nvme"}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(rpc_error_code(again.err()), -ENODEV);
}

// Two owners connected to the same subsystem do not disturb each other.
TEST(discovery_service, each_owner_removes_only_its_own_connections) {
  test::local_target t;
  t.add_subsystem(nqn1);
  host_side host;
  host.ok("bdev_nvme_start_discovery", start_params(t));
  host.ok("bdev_nvme_attach_controller", {{"name", "Mine"}, {"trtype", "tcp"}, {"traddr", "127.0.0.1"},
                                          {"trsvcid", t.port_text()}, {"subnqn", nqn1}});
  ASSERT_TRUE(host.bdevs.find("nvme0n1"));
  ASSERT_TRUE(host.bdevs.find("Minen1"));

  // The RPC owner's disconnect leaves the discovery service's controller alone.
  json r = host.ok("bdev_nvme_disconnect", {{"subnqn", nqn1}});
  EXPECT_EQ(r["detached"].size(), 1u) << r.dump();
  EXPECT_FALSE(host.bdevs.find("Minen1"));
  EXPECT_TRUE(host.bdevs.find("nvme0n1"));
  test::aligned_buffer buf(512);
  EXPECT_EQ(host.h.read(host.dev("nvme0n1"), 0, 1, buf.data()), 0);

  // Nor can detach_controller take the service's controller behind its back.
  auto theirs = host.call("bdev_nvme_detach_controller", {{"name", "nvme0"}});
  ASSERT_FALSE(theirs.ok());
  EXPECT_NE(theirs.err().message.find("discovery:nvme"), std::string::npos) << theirs.err().message;
  EXPECT_TRUE(host.bdevs.find("nvme0n1"));

  // Stopping the service leaves the RPC owner's controller alone.
  host.ok("bdev_nvme_attach_controller", {{"name", "Mine"}, {"trtype", "tcp"}, {"traddr", "127.0.0.1"},
                                          {"trsvcid", t.port_text()}, {"subnqn", nqn1}});
  host.ok("bdev_nvme_stop_discovery", {{"name", "nvme"}});
  EXPECT_FALSE(host.bdevs.find("nvme0n1"));
  ASSERT_TRUE(host.bdevs.find("Minen1"));
  EXPECT_EQ(host.h.read(host.dev("Minen1"), 0, 1, buf.data()), 0);

  // No host-wide disconnect without force; with it, everything goes.
  auto everything = host.call("bdev_nvme_disconnect", json::object());
  ASSERT_FALSE(everything.ok());
  EXPECT_NE(everything.err().message.find("force"), std::string::npos) << everything.err().message;
  EXPECT_TRUE(host.bdevs.find("Minen1"));
  r = host.ok("bdev_nvme_disconnect", {{"force", true}});
  EXPECT_EQ(r["detached"].size(), 1u);
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()), json::array());
}

// A referral is followed over a persistent connection: what appears on the referred
// discovery controller is attached through its own change event, nothing changing on the
// first one; the referral withdrawn, what came through it is detached.
TEST(discovery_service, follows_referrals_persistently) {
  test::local_target first;   // only a referral
  test::local_target second;  // the subsystems
  second.add_subsystem(nqn1);
  json referral = {{"address", {{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", "127.0.0.1"},
                                {"trsvcid", second.port_text()}}}};
  first.call("nvmf_discovery_add_referral", referral);
  host_side host;
  host.ok("bdev_nvme_start_discovery", start_params(first));
  ASSERT_TRUE(wait_bdev(host, "nvme0n1", true)) << "the referred subsystem was not attached";
  json info = host.ok("bdev_nvme_get_discovery_info", json::object());
  ASSERT_EQ(info[0]["referrals"].size(), 1u) << info.dump();
  EXPECT_EQ(info[0]["referrals"][0]["trid"]["trsvcid"], second.port_text());

  second.add_subsystem(nqn2);
  ASSERT_TRUE(wait_bdev(host, "nvme1n1", true)) << "a change behind the referral was not followed";

  first.call("nvmf_discovery_remove_referral", referral);
  ASSERT_TRUE(wait_bdev(host, "nvme0n1", false));
  ASSERT_TRUE(wait_bdev(host, "nvme1n1", false));
  EXPECT_EQ(host.ok("bdev_nvme_get_discovery_info", json::object())[0]["referrals"], json::array());
  host.ok("bdev_nvme_stop_discovery", {{"name", "nvme"}});
}

// The service reconciles holding the registry's control token: while an RPC holds it, the
// change waits in the token's FIFO queue, and goes through once the RPC gives it back.
TEST(discovery_service, a_change_waits_for_the_control_token_and_goes_through_after_it) {
  test::local_target t;
  t.add_subsystem(nqn1);
  host_side host;
  auto s = start_service(host, t);
  ASSERT_TRUE(s);
  ASSERT_TRUE(host.bdevs.find("nvme0n1"));
  auto control = host.controllers.lock_control();
  t.add_subsystem(nqn2);  // a log change: the service reads the log, then waits for the token
  ASSERT_TRUE(wait_queued(host.controllers, 1)) << "the service did not ask for the control token";
  EXPECT_FALSE(host.bdevs.find("nvme1n1")) << "attached without the control token";
  control.unlock();
  ASSERT_TRUE(wait_bdev(host, "nvme1n1", true)) << "the change was not attached once the token was free";
  s->stop();
  EXPECT_FALSE(host.bdevs.find("nvme0n1"));
  EXPECT_FALSE(host.bdevs.find("nvme1n1"));
}

// bdev_nvme_stop_discovery stops a service holding the control token. When the service
// waits for that token, stop() cancels its request at once (no polling): the request leaves
// the queue, the change it was about to attach is dropped, and what it had attached goes.
TEST(discovery_service, stop_while_it_waits_for_the_control_token_returns_at_once) {
  test::local_target t;
  t.add_subsystem(nqn1);
  host_side host;
  auto s = start_service(host, t);
  ASSERT_TRUE(s);
  auto control = host.controllers.lock_control();
  t.add_subsystem(nqn2);
  ASSERT_TRUE(wait_queued(host.controllers, 1)) << "the service did not ask for the control token";
  auto t0 = std::chrono::steady_clock::now();
  s->stop();
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[discovery_service] stop while waiting for the control token: %.2f ms\n", ms);
  RecordProperty("stop_while_waiting_ms", std::to_string(ms));
  host.h.pool().run_on(0, [] {});  // a round on the control reactor after the cancel
  EXPECT_EQ(host.controllers.control().queued(), 0u);
  EXPECT_FALSE(host.bdevs.find("nvme0n1"));
  EXPECT_FALSE(host.bdevs.find("nvme1n1"));
  control.unlock();
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()), json::array());
}

// Waits until pred(get_info()) holds.
template <class Pred>
bool wait_info(discovery_service& s, Pred pred, std::chrono::seconds limit = 30s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred(s.get_info()))
    if (std::chrono::steady_clock::now() > deadline) return false;
    else std::this_thread::sleep_for(20ms);
  return true;
}

// The discovery controller's link goes silent: keep-alive fails the controller, the service
// tries to reconnect at once and fails (the link is still cut), then tries again when its
// reconnect timer fires; the link back, that attempt connects, and the new connection's
// change events are followed. The subsystem attached meanwhile keeps its own connection.
TEST(discovery_service, reconnects_on_its_timer_after_the_discovery_controller_is_lost) {
  test::local_target t;
  t.add_subsystem(nqn1);
  test::link_proxy link("127.0.0.1", "127.0.0.1", t.port());
  host_side host;
  discovery_service_params p;
  p.name = "nvme";
  p.trid.traddr = "127.0.0.1";
  p.trid.trsvcid = std::to_string(link.port());
  p.opts.kato_ms = 1000;
  p.opts.connect_timeout_ms = 1000;
  p.reconnect.reconnect_delay_sec = 1;
  p.wait_for_attach = true;
  p.attach_timeout_ms = 10000;
  auto started = discovery_service::start(host.h.pool(), host.controllers, p);
  ASSERT_TRUE(started.ok()) << started.err().message;
  auto& s = *started.value();
  ASSERT_TRUE(host.bdevs.find("nvme0n1"));
  ASSERT_TRUE(s.get_info().connected);

  link.cut();
  ASSERT_TRUE(wait_info(s, [](const discovery_service::info& i) {
    return !i.connected && i.last_error.find("discovery controller at") != std::string::npos;
  })) << "no reconnect attempt failed while the link was cut: " << s.get_info().last_error;
  link.restore();
  ASSERT_TRUE(wait_info(s, [](const discovery_service::info& i) { return i.connected; }))
      << "the reconnect timer did not bring the discovery controller back: " << s.get_info().last_error;
  EXPECT_TRUE(s.get_info().last_error.empty()) << s.get_info().last_error;
  EXPECT_TRUE(host.bdevs.find("nvme0n1"));

  t.add_subsystem(nqn2);
  EXPECT_TRUE(wait_bdev(host, "nvme1n1", true)) << "the reconnected controller's change events are not followed";
  s.stop();
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()), json::array());
}

// One Discovery Log Page Change event, one refresh: the service reads the log once per
// event and never on its own (no periodic wake-up).
TEST(discovery_service, a_log_change_event_makes_exactly_one_refresh) {
  test::local_target t;
  t.add_subsystem(nqn1);
  t.add_subsystem(nqn2);
  host_side host;
  auto s = start_service(host, t);
  ASSERT_TRUE(s);
  ASSERT_TRUE(host.bdevs.find("nvme1n1"));
  auto flush_control_reactor = [&] {  // events posted before this have been taken
    for (int i = 0; i < 3; ++i) host.h.pool().run_on(0, [] {});
  };
  flush_control_reactor();
  uint64_t before = s->get_info().refreshes;
  EXPECT_EQ(before, 1u) << "the start reads the log once";

  // One change of the log (a listener removed): one event.
  t.call("nvmf_subsystem_remove_listener",
         {{"nqn", nqn2}, {"listen_address", {{"trtype", "TCP"}, {"traddr", "127.0.0.1"}, {"trsvcid", t.port_text()}}}});
  ASSERT_TRUE(wait_bdev(host, "nvme1n1", false)) << "the change was not followed";
  flush_control_reactor();
  EXPECT_EQ(s->get_info().refreshes, before + 1);
  s->stop();
}

TEST(discovery_service, bad_params_and_unreachable_controllers_are_clear_errors) {
  test::local_target t;
  host_side host;
  json p = start_params(t);
  p["trsvcid"] = std::to_string(test::free_port());
  auto down = host.call("bdev_nvme_start_discovery", p);
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.err().message.find(p["trsvcid"].get<std::string>()), std::string::npos) << down.err().message;
  for (auto [field, value] : std::vector<std::pair<const char*, json>>{
           {"trtype", "fc"}, {"traddr", "not-an-ip"}, {"adrfam", "ipx"}, {"hostnqn", "bad"}, {"name", json::object()}}) {
    json bad = start_params(t);
    bad[field] = value;
    auto r = host.call("bdev_nvme_start_discovery", bad);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_EQ(rpc_error_code(r.err()), -32602) << r.err().message;
    EXPECT_NE(r.err().message.find(field), std::string::npos) << r.err().message;
  }
  host.ok("bdev_nvme_start_discovery", start_params(t));
  auto dup = host.call("bdev_nvme_start_discovery", start_params(t));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(rpc_error_code(dup.err()), -EEXIST);
}

}  // namespace
}  // namespace nvmfd
