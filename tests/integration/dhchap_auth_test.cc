// In-band authentication (DH-HMAC-CHAP) on the target, with src/auth's host engine driving
// AUTH_Send / AUTH_Receive over loopback TCP: the Connect response asks for it (AUTHREQ
// ATR), nothing but the authentication commands runs until it succeeds (Authentication
// Required), one and both directions succeed on the admin and the I/O queue and on the
// discovery controller, a wrong key is refused with Failure1 and ends the controller, and a
// failure is logged with the host and its address, never the key.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "auth/host_auth.h"
#include "log_capture.h"
#include "proto/discovery_log.h"
#include "proto/fabrics.h"
#include "proto/identify.h"
#include "reactor/manual_time.h"
#include "target_test.h"

namespace nvmfd {
namespace {

constexpr auto auth_required = nvme_status::specific(sc_command_specific::authentication_required);
const std::string acl = std::string(target_fixture::acl_nqn);
const std::string discovery = std::string(discovery_nqn);

auth::dhchap_key make_key(uint8_t transform, uint8_t seed) {
  std::vector<uint8_t> raw(32);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(seed * 31 + i);
  return {transform, auth::secret_bytes(raw)};
}

nvme_sqe auth_sqe(fabrics_type t, uint32_t len) {
  nvme_sqe s = test_client::make_fabrics_sqe(t);
  s.cdw10 = (uint32_t{auth::secp_dhchap} << 24) | (uint32_t{auth::spsp_dhchap} << 16) | (uint32_t{auth::spsp_dhchap} << 8);
  s.cdw11 = len;
  return s;
}

// Runs the host side of a transaction on c; the host's view of the outcome. Fails on a
// transport error or a command status other than success.
result<bool> authenticate(test_client& c, auth::host_auth& h) {
  while (!h.done()) {
    if (h.wants_send()) {
      auto m = h.next_send();
      auto sqe = auth_sqe(fabrics_type::authentication_send, static_cast<uint32_t>(m.size()));
      test_client::set_sgl_in_capsule(sqe, static_cast<uint32_t>(m.size()));
      auto r = c.execute(sqe, m);
      if (!r) return r.take_err();
      if (!r->status().ok()) return error{errc::protocol_error, "AUTH_Send failed"};
    } else if (h.wants_receive()) {
      constexpr uint32_t al = 4096;  // as the Linux host
      auto sqe = auth_sqe(fabrics_type::authentication_receive, al);
      test_client::set_sgl_transport(sqe, al);
      auto r = c.execute(sqe, {}, {}, al);
      if (!r) return r.take_err();
      if (!r->status().ok()) return error{errc::protocol_error, "AUTH_Receive failed"};
      h.on_received(r->data);
    } else {
      break;
    }
  }
  return h.succeeded();
}

class dhchap_auth_test : public target_test {
 protected:
  void SetUp() override {
    target_test::SetUp();
    if (!fx) return;
    keys_["key0"] = make_key(1, 1);
    keys_["key1"] = make_key(0, 2);
    keys_["ckey0"] = make_key(2, 3);
    fx->target().set_dhchap_key_resolver([this](std::string_view name) -> result<auth::dhchap_key> {
      auto it = keys_.find(std::string(name));
      if (it == keys_.end()) return error{errc::not_found, "no such key"};
      return it->second;
    });
  }

  auth::host_auth_config host_cfg(const std::string& subnqn, const std::string& key,
                                  const std::string& ctrl_key = "") {
    auth::host_auth_config c{std::string(test_host_nqn), subnqn, keys_.at(key), std::nullopt};
    if (!ctrl_key.empty()) c.ctrl_key = keys_.at(ctrl_key);
    c.tid = 7;
    return c;
  }

  // Admin queue Connect to subnqn; its completion.
  result<command_result> connect_admin(test_client& c, const std::string& subnqn) {
    if (auto r = c.connect(addr(), port()); !r) return r.take_err();
    return c.fabrics_connect(subnqn, 0, 31, cntlid_dynamic);
  }

  std::map<std::string, auth::dhchap_key> keys_;
};

bool asks_for_authentication(const command_result& r) { return ((r.dw0() >> 16) & authreq_bits::atr) != 0; }

TEST_F(dhchap_auth_test, host_without_key_is_not_asked_to_authenticate) {
  test_client c;
  auto r = connect_admin(c, acl);
  ASSERT_TRUE(ok(r) && r->status().ok());
  EXPECT_FALSE(asks_for_authentication(*r));
  EXPECT_TRUE(succeeded(c.property_get(property_offset::cap)));
  // And the authentication commands have nothing to do there.
  auto send = auth_sqe(fabrics_type::authentication_receive, 64);
  test_client::set_sgl_transport(send, 64);
  auto a = c.execute(send, {}, {}, 64);
  ASSERT_TRUE(ok(a));
  EXPECT_EQ(a->status(), nvme_status::generic(sc_generic::command_sequence_error));
}

TEST_F(dhchap_auth_test, unidirectional_on_admin_and_io_queues) {
  ASSERT_TRUE(ok(fx->target().set_host_keys(acl, std::string(test_host_nqn), {"key0", ""})));
  test_client admin;
  auto r = connect_admin(admin, acl);
  ASSERT_TRUE(ok(r) && r->status().ok());
  ASSERT_TRUE(asks_for_authentication(*r));
  const uint16_t cntlid = static_cast<uint16_t>(r->dw0() & 0xffff);

  // Before authentication: Authentication Required, DNR.
  auto early = admin.property_get(property_offset::cap);
  ASSERT_TRUE(ok(early));
  EXPECT_EQ(early->status(), auth_required);
  EXPECT_TRUE(early->status().dnr);
  EXPECT_TRUE(has_status(admin.identify(1), auth_required));

  log_capture log(spdlog::level::info);
  auth::host_auth h(host_cfg(acl, "key0"));
  auto done = authenticate(admin, h);
  ASSERT_TRUE(ok(done));
  EXPECT_TRUE(*done) << h.failure_detail();
  EXPECT_NE(log.wait_for({"authenticated on", acl, "qid 0", "sha512", "ffdhe8192"}), "") << log.dump();
  ASSERT_TRUE(ok(admin.enable()));
  EXPECT_TRUE(succeeded(admin.identify(1)));

  // The I/O queue authenticates on its own.
  test_client io;
  ASSERT_TRUE(ok(io.connect(addr(), port())));
  auto ioc = io.fabrics_connect(acl, 1, 127, cntlid);
  ASSERT_TRUE(ok(ioc) && ioc->status().ok());
  EXPECT_TRUE(asks_for_authentication(*ioc));
  EXPECT_TRUE(has_status(io.read(1, 0, 1, 512), auth_required));
  auto cfg = host_cfg(acl, "key0");
  cfg.dh_groups = {auth::dh_group::null};
  auth::host_auth hio(cfg);
  auto io_done = authenticate(io, hio);
  ASSERT_TRUE(ok(io_done));
  EXPECT_TRUE(*io_done) << hio.failure_detail();
  EXPECT_TRUE(succeeded(io.read(1, 0, 1, 512)));
}

TEST_F(dhchap_auth_test, bidirectional_with_a_controller_key) {
  ASSERT_TRUE(ok(fx->target().set_host_keys(acl, std::string(test_host_nqn), {"key1", "ckey0"})));
  test_client admin;
  auto r = connect_admin(admin, acl);
  ASSERT_TRUE(ok(r) && asks_for_authentication(*r));
  auto cfg = host_cfg(acl, "key1", "ckey0");
  cfg.dh_groups = {auth::dh_group::ffdhe2048};
  auth::host_auth h(cfg);
  auto done = authenticate(admin, h);
  ASSERT_TRUE(ok(done));
  EXPECT_TRUE(*done) << h.failure_detail();
  EXPECT_TRUE(ok(admin.enable()));
}

TEST_F(dhchap_auth_test, wrong_controller_key_is_caught_by_the_host_and_ends_the_controller) {
  ASSERT_TRUE(ok(fx->target().set_host_keys(acl, std::string(test_host_nqn), {"key1", "ckey0"})));
  test_client admin;
  ASSERT_TRUE(ok(connect_admin(admin, acl)));
  auto cfg = host_cfg(acl, "key1", "key0");  // expects the controller to know key0
  cfg.dh_groups = {auth::dh_group::null};
  auth::host_auth h(cfg);
  auto done = authenticate(admin, h);  // ends with the host's Failure2
  ASSERT_TRUE(ok(done));
  EXPECT_FALSE(*done);
  EXPECT_TRUE(ok(admin.wait_closed()));
}

TEST_F(dhchap_auth_test, wrong_key_is_refused_logged_and_the_controller_ends) {
  ASSERT_TRUE(ok(fx->target().set_host_keys(acl, std::string(test_host_nqn), {"key0", ""})));
  log_capture log;
  test_client admin;
  ASSERT_TRUE(ok(connect_admin(admin, acl)));
  auto cfg = host_cfg(acl, "key1");  // not the host's key
  cfg.dh_groups = {auth::dh_group::null};
  auth::host_auth h(cfg);
  auto done = authenticate(admin, h);
  ASSERT_TRUE(ok(done));
  EXPECT_FALSE(*done);
  EXPECT_EQ(h.controller_reason(), auth::failure_reason::failed);
  auto line = log.wait_for({"authentication failed: host '", std::string(test_host_nqn), "' at 127.0.0.1:", acl,
                            "does not match"});
  EXPECT_NE(line, "") << log.dump();
  EXPECT_TRUE(ok(admin.wait_closed()));
  auto ctrls = fx->target().controllers(acl);
  ASSERT_TRUE(ok(ctrls));
  wait_until([&] { return fx->target().controllers(acl)->empty(); });
  EXPECT_TRUE(fx->target().controllers(acl)->empty());
}

TEST_F(dhchap_auth_test, io_queue_that_fails_ends_the_whole_controller) {
  ASSERT_TRUE(ok(fx->target().set_host_keys(acl, std::string(test_host_nqn), {"key0", ""})));
  test_client admin;
  auto r = connect_admin(admin, acl);
  ASSERT_TRUE(ok(r));
  auto cfg = host_cfg(acl, "key0");
  cfg.dh_groups = {auth::dh_group::null};
  auth::host_auth h(cfg);
  ASSERT_TRUE(ok(authenticate(admin, h)));
  ASSERT_TRUE(ok(admin.enable()));
  test_client io;
  ASSERT_TRUE(ok(io.connect(addr(), port())));
  ASSERT_TRUE(ok(io.fabrics_connect(acl, 1, 127, static_cast<uint16_t>(r->dw0() & 0xffff))));
  auto bad = host_cfg(acl, "key1");
  bad.dh_groups = {auth::dh_group::null};
  auth::host_auth hio(bad);
  auto done = authenticate(io, hio);
  ASSERT_TRUE(ok(done));
  EXPECT_FALSE(*done);
  EXPECT_TRUE(ok(io.wait_closed()));
  EXPECT_TRUE(ok(admin.wait_closed()));  // Linux nvmet: a fatal error of the controller
}

TEST_F(dhchap_auth_test, discovery_controller_authenticates_hosts_with_keys) {
  ASSERT_TRUE(ok(fx->target().add_host(discovery, std::string(test_host_nqn))));
  ASSERT_TRUE(ok(fx->target().set_host_keys(discovery, std::string(test_host_nqn), {"key0", ""})));
  test_client d;
  auto r = connect_admin(d, discovery);
  ASSERT_TRUE(ok(r) && asks_for_authentication(*r));
  EXPECT_TRUE(has_status(d.get_log_page(0x70, 0, 1024), auth_required));
  auto cfg = host_cfg(discovery, "key0");
  cfg.dh_groups = {auth::dh_group::ffdhe2048};
  auth::host_auth h(cfg);
  auto done = authenticate(d, h);
  ASSERT_TRUE(ok(done));
  EXPECT_TRUE(*done) << h.failure_detail();
  ASSERT_TRUE(ok(d.enable()));
  EXPECT_TRUE(succeeded(d.get_log_page(0x70, 0, 1024)));

  // Another host is still let in without authentication (the discovery subsystem allows
  // any host; only hosts given keys must authenticate).
  test_client other(client_options{.hostnqn = std::string(target_fixture::other_host_nqn)});
  auto o = connect_admin(other, discovery);
  ASSERT_TRUE(ok(o) && o->status().ok());
  EXPECT_FALSE(asks_for_authentication(*o));
}

// The FFDHE arithmetic runs on the target's authentication worker, not on a reactor: while one
// host authenticates with ffdhe8192 (two full-size exponentiations, each hundreds of ms here),
// another host's commands on both reactors keep completing promptly. Before the worker, each
// step stalled its reactor for about half the authentication.
TEST_F(dhchap_auth_test, ffdhe_arithmetic_does_not_stall_other_hosts_commands) {
  ASSERT_TRUE(ok(fx->target().set_host_keys(acl, std::string(test_host_nqn), {"key0", ""})));
  auto other = connect_controller();  // open_nqn: no key, its admin and I/O queue on both reactors
  ASSERT_TRUE(ok(other));
  std::atomic<bool> stop{false};
  std::chrono::steady_clock::duration worst{};
  int commands = 0, failures = 0;
  std::thread load([&] {
    while (!stop) {
      for (bool on_admin : {true, false}) {
        auto t0 = std::chrono::steady_clock::now();
        bool good = on_admin ? succeeded(other->admin.identify(1)) : succeeded(other->io.read(1, 0, 1, 512));
        worst = std::max(worst, std::chrono::steady_clock::now() - t0);
        ++commands;
        if (!good) ++failures;
      }
    }
  });
  auto started = std::chrono::steady_clock::now();
  test_client admin;
  auto r = connect_admin(admin, acl);
  auto cfg = host_cfg(acl, "key0");
  cfg.dh_groups = {auth::dh_group::ffdhe8192};
  auth::host_auth h(cfg);
  auto done = ok(r) ? authenticate(admin, h) : result<bool>(r.take_err());
  auto took = std::chrono::steady_clock::now() - started;
  stop = true;
  load.join();
  ASSERT_TRUE(ok(done));
  EXPECT_TRUE(*done) << h.failure_detail();
  EXPECT_EQ(failures, 0);
  EXPECT_GT(commands, 4);
  using ms = std::chrono::milliseconds;
  EXPECT_LT(worst, took / 4) << "slowest command " << std::chrono::duration_cast<ms>(worst).count()
                             << " ms during an authentication of " << std::chrono::duration_cast<ms>(took).count()
                             << " ms";
}

// An authentication the host never finishes expires after the controller's KATO (as SPDK and
// Linux nvmet): an unauthenticated I/O queue cannot be parked on a controller. Manual clock.
class dhchap_auth_timeout_test : public dhchap_auth_test {
 protected:
  time_source* time() override { return &clock; }
  manual_time clock;
  static constexpr uint32_t kato_ms = 10000;

  // An authenticated, enabled admin queue with KATO 10 s; its cntlid.
  result<uint16_t> live_admin(test_client& admin) {
    if (auto r = admin.connect(addr(), port()); !r) return r.take_err();
    auto r = admin.fabrics_connect(acl, 0, 31, cntlid_dynamic, kato_ms);
    if (!r) return r.take_err();
    auto cfg = host_cfg(acl, "key0");
    cfg.dh_groups = {auth::dh_group::null};
    auth::host_auth h(cfg);
    auto done = authenticate(admin, h);
    if (!done) return done.take_err();
    if (!*done) return error{errc::protocol_error, "admin queue authentication failed"};
    if (auto e = admin.enable(); !e) return e.take_err();
    return static_cast<uint16_t>(r->dw0() & 0xffff);
  }

  // Moves the clock by d in steps, with a Keep Alive on the admin queue at each.
  void advance_keeping_alive(test_client& admin, std::chrono::milliseconds d) {
    for (auto step = std::chrono::milliseconds(kato_ms / 4); d.count() > 0; d -= step) {
      clock.advance(std::min(step, d));
      ASSERT_TRUE(succeeded(admin.keep_alive()));
    }
  }
};

TEST_F(dhchap_auth_timeout_test, an_io_queue_that_never_authenticates_is_closed_after_kato) {
  ASSERT_TRUE(ok(fx->target().set_host_keys(acl, std::string(test_host_nqn), {"key0", ""})));
  test_client admin;
  auto cntlid = live_admin(admin);
  ASSERT_TRUE(ok(cntlid));
  log_capture log;
  test_client io;
  ASSERT_TRUE(ok(io.connect(addr(), port())));
  auto ioc = io.fabrics_connect(acl, 1, 127, *cntlid);
  ASSERT_TRUE(ok(ioc) && ioc->status().ok() && asks_for_authentication(*ioc));
  advance_keeping_alive(admin, std::chrono::milliseconds(kato_ms - 1000));
  EXPECT_TRUE(has_status(io.read(1, 0, 1, 512), auth_required)) << "closed before KATO";
  advance_keeping_alive(admin, std::chrono::milliseconds(2000));
  EXPECT_TRUE(ok(io.wait_closed()));
  EXPECT_NE(log.wait_for({"authentication timeout: host '", std::string(test_host_nqn), "' at 127.0.0.1:", acl,
                          "qid 1", "within 10000 ms"}),
            "")
      << log.dump();
  // Only that queue: the host's authenticated controller goes on, and a new I/O queue that
  // authenticates in time stays past KATO.
  EXPECT_TRUE(succeeded(admin.identify(1)));
  test_client io2;
  ASSERT_TRUE(ok(io2.connect(addr(), port())));
  ASSERT_TRUE(ok(io2.fabrics_connect(acl, 1, 127, *cntlid)));
  auto cfg = host_cfg(acl, "key0");
  cfg.dh_groups = {auth::dh_group::null};
  auth::host_auth h(cfg);
  auto done = authenticate(io2, h);
  ASSERT_TRUE(ok(done) && *done);
  advance_keeping_alive(admin, std::chrono::milliseconds(2 * kato_ms));
  EXPECT_TRUE(succeeded(io2.read(1, 0, 1, 512)));
}

TEST_F(dhchap_auth_test, keys_must_exist_and_a_controller_key_needs_a_host_key) {
  const std::string host(test_host_nqn);
  EXPECT_EQ(fx->target().set_host_keys(acl, host, {"nokey", ""}).err().code, errc::not_found);
  EXPECT_EQ(fx->target().set_host_keys(acl, host, {"", "ckey0"}).err().code, errc::invalid_argument);
  EXPECT_EQ(fx->target().set_host_keys(acl, std::string(target_fixture::other_host_nqn), {"key0", ""}).err().code,
            errc::not_found);  // not on the allow list
  // A key removed from the keyring after it was set: the Connect is refused.
  ASSERT_TRUE(ok(fx->target().set_host_keys(acl, host, {"key0", ""})));
  keys_.erase("key0");
  test_client c;
  auto r = connect_admin(c, acl);
  ASSERT_TRUE(ok(r));
  EXPECT_EQ(r->status(), nvme_status::specific(sc_command_specific::connect_invalid_host));
}

TEST_F(dhchap_auth_test, policy_restricts_what_the_target_accepts) {
  ASSERT_TRUE(ok(fx->target().set_host_keys(acl, std::string(test_host_nqn), {"key0", ""})));
  fx->target().set_dhchap_policy({auth::hash_set{auth::hash_id::sha384}, auth::dh_group_set{auth::dh_group::ffdhe3072}});
  test_client admin;
  ASSERT_TRUE(ok(connect_admin(admin, acl)));
  auth::host_auth h(host_cfg(acl, "key0"));
  auto done = authenticate(admin, h);
  ASSERT_TRUE(ok(done));
  EXPECT_TRUE(*done) << h.failure_detail();
  EXPECT_EQ(h.hash(), auth::hash_id::sha384);
  EXPECT_EQ(h.group(), auth::dh_group::ffdhe3072);

  test_client refused;
  ASSERT_TRUE(ok(connect_admin(refused, acl)));
  auto cfg = host_cfg(acl, "key0");
  cfg.hashes = {auth::hash_id::sha256};
  auth::host_auth h2(cfg);
  auto done2 = authenticate(refused, h2);
  ASSERT_TRUE(ok(done2));
  EXPECT_FALSE(*done2);
  EXPECT_EQ(h2.controller_reason(), auth::failure_reason::hash_unusable);
}

}  // namespace
}  // namespace nvmfd
