// Centralized Discovery Controller (direct and referral modes): a target whose discovery log lists what the
// host side's discovery services found on other targets, kept current, with the time it
// takes for a new subsystem to show up measured.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "host/discovery_client.h"
#include "discovery/discovery_service.h"
#include "host_side.h"
#include "local_target.h"
#include "rpc/cdc_rpc.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using test::host_side;

constexpr const char* nqn1 = "nqn.2016-06.io.nvmfd:far1";
constexpr const char* nqn2 = "nqn.2016-06.io.nvmfd:far2";

// The discovery log at 127.0.0.1:port, as text: NVM entries "subnqn@traddr:trsvcid" or
// (referrals) "traddr:trsvcid".
std::set<std::string> log_entries(reactor_pool& pool, const std::string& port, bool referrals) {
  transport_id t;
  t.traddr = "127.0.0.1";
  t.trsvcid = port;
  auto log = discover(pool, t, {}, false);
  std::set<std::string> out;
  if (!log) return {"error: " + log.err().message};
  for (auto& e : *log) {
    if (referrals && e.is_referral()) out.insert(e.traddr + ":" + e.trsvcid);
    if (!referrals && e.subtype == static_cast<uint8_t>(subsystem_type::nvme))
      out.insert(e.subnqn + "@" + e.traddr + ":" + e.trsvcid);
  }
  return out;
}
std::set<std::string> nvm_entries(reactor_pool& pool, const std::string& port) { return log_entries(pool, port, false); }
std::set<std::string> referral_entries(reactor_pool& pool, const std::string& port) {
  return log_entries(pool, port, true);
}

bool wait_for(const std::function<bool()>& ok, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ok())
    if (std::chrono::steady_clock::now() > deadline) return false;
    else std::this_thread::sleep_for(5ms);
  return true;
}

TEST(cdc, lists_what_discovery_services_find_directly_or_as_referrals) {
  test::local_target cdc;  // only its discovery listener: the CDC
  test::local_target far;  // the real target
  far.add_subsystem(nqn1);
  host_side host;          // the CDC's host side (same process, as in nvmfd)
  add_cdc_methods(cdc.methods(), cdc.target(), host.controllers);
  cdc.call("nvmf_discovery_enable_cdc", {{"mode", "direct"}});
  host.ok("bdev_nvme_start_discovery", {{"name", "far"}, {"trtype", "tcp"}, {"traddr", "127.0.0.1"},
                                        {"trsvcid", far.port_text()}, {"wait_for_attach", true}});
  const std::string e1 = std::string(nqn1) + "@127.0.0.1:" + far.port_text();
  ASSERT_TRUE(wait_for([&] { return nvm_entries(host.h.pool(), cdc.port_text()).count(e1) == 1; }, 10s))
      << "the CDC's log lacks what discovery found";

  // A subsystem appears on the far target: how long until the CDC lists it.
  auto t0 = std::chrono::steady_clock::now();
  far.add_subsystem(nqn2);
  const std::string e2 = std::string(nqn2) + "@127.0.0.1:" + far.port_text();
  ASSERT_TRUE(wait_for([&] { return nvm_entries(host.h.pool(), cdc.port_text()).count(e2) == 1; }, 10s));
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[cdc] new subsystem on a target -> in the CDC's discovery log: %.1f ms\n", ms);
  RecordProperty("new_subsystem_to_cdc_log_ms", std::to_string(ms));

  // It goes: it leaves the CDC's log.
  far.call("nvmf_subsystem_remove_listener",
           {{"nqn", nqn2}, {"listen_address", {{"trtype", "TCP"}, {"traddr", "127.0.0.1"}, {"trsvcid", far.port_text()}}}});
  ASSERT_TRUE(wait_for([&] { return nvm_entries(host.h.pool(), cdc.port_text()).count(e2) == 0; }, 10s));
  EXPECT_EQ(nvm_entries(host.h.pool(), cdc.port_text()), std::set<std::string>({e1}));

  // Found entries are the services', not explicit registrations: not saved with the target.
  json regs = cdc.call("nvmf_discovery_get_registrations", json::object());
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0]["source"], "discovery:far");

  // Off: the entries leave; on again: they come back from what is held.
  cdc.call("nvmf_discovery_disable_cdc", json::object());
  EXPECT_EQ(nvm_entries(host.h.pool(), cdc.port_text()), std::set<std::string>());
  cdc.call("nvmf_discovery_enable_cdc", {{"mode", "direct"}});
  EXPECT_EQ(nvm_entries(host.h.pool(), cdc.port_text()), std::set<std::string>({e1}));

  // Referral mode: a referral to the discovery controller that reported, not the subsystems.
  cdc.call("nvmf_discovery_enable_cdc", {{"mode", "referral"}});
  EXPECT_EQ(nvm_entries(host.h.pool(), cdc.port_text()), std::set<std::string>());
  EXPECT_EQ(referral_entries(host.h.pool(), cdc.port_text()), std::set<std::string>({"127.0.0.1:" + far.port_text()}));
  EXPECT_EQ(cdc.call("nvmf_discovery_get_referrals", json::object()), json::array()) << "found, not configured";

  // The service stops: its findings leave the CDC.
  host.ok("bdev_nvme_stop_discovery", {{"name", "far"}});
  EXPECT_EQ(nvm_entries(host.h.pool(), cdc.port_text()), std::set<std::string>());
  EXPECT_EQ(referral_entries(host.h.pool(), cdc.port_text()), std::set<std::string>());
  auto bad = (*cdc.methods().find("nvmf_discovery_enable_cdc"))({{"mode", "sideways"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.err().message.find("mode"), std::string::npos);
}


// An mDNS browser runs one discovery service per discovery controller it finds, all with the
// same owner (mdns:<name>): each service's findings are its own, not overwritten by the
// others' (a CDC listed only the last reporter's subsystems before).
TEST(cdc, services_with_one_owner_each_keep_their_findings) {
  test::local_target cdc;
  test::local_target far1;
  test::local_target far2;
  far1.add_subsystem(nqn1);
  far2.add_subsystem(nqn2);
  host_side host;
  add_cdc_methods(cdc.methods(), cdc.target(), host.controllers);
  cdc.call("nvmf_discovery_enable_cdc", {{"mode", "direct"}});
  std::vector<std::unique_ptr<discovery_service>> services;
  for (auto* far : {&far1, &far2}) {
    discovery_service_params p;
    p.name = "net" + std::to_string(services.size()) + "_nvme";
    p.trid.traddr = "127.0.0.1";
    p.trid.trsvcid = far->port_text();
    p.owner = "mdns:net";
    p.wait_for_attach = true;
    p.attach_timeout_ms = 10000;
    auto s = discovery_service::start(host.h.pool(), host.controllers, p);
    ASSERT_TRUE(s.ok()) << s.err().message;
    services.push_back(std::move(s.value()));
  }
  const std::set<std::string> both{std::string(nqn1) + "@127.0.0.1:" + far1.port_text(),
                                   std::string(nqn2) + "@127.0.0.1:" + far2.port_text()};
  ASSERT_TRUE(wait_for([&] { return nvm_entries(host.h.pool(), cdc.port_text()) == both; }, 10s))
      << "the CDC lists only some of what the services found";
  services[1]->stop();
  EXPECT_EQ(nvm_entries(host.h.pool(), cdc.port_text()),
            std::set<std::string>({std::string(nqn1) + "@127.0.0.1:" + far1.port_text()}));
  services[0]->stop();
  EXPECT_EQ(nvm_entries(host.h.pool(), cdc.port_text()), std::set<std::string>());
}

}  // namespace
}  // namespace nvmfd
