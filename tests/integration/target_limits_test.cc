// Hostile hosts against the target's resources (issue 15, "target-side limits" and the holes
// found by reading the code): each test sends what a host without credentials, or a host
// that stops half-way, could send, and checks that the target neither reserves memory for
// it nor holds it forever.
#include <gtest/gtest.h>

#include <chrono>

#include "discovery_support.h"
#include "log_capture.h"
#include "proto/controller_properties.h"
#include "proto/features.h"
#include "proto/identify.h"
#include "proto/log_pages.h"
#include "reactor/manual_time.h"
#include "target/tcp/tcp_transport.h"
#include "target_test.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

class target_limits_test : public target_test {};

// An admin capsule asking for len bytes of host data through R2T (SGL Transport Data Block).
nvme_sqe admin_write_sqe(uint8_t opcode, uint32_t len) {
  auto sqe = test_client::make_sqe(opcode);
  test_client::set_sgl_transport(sqe, len);
  return sqe;
}

// Sends sqe and returns the first PDU the target answers with (an R2T would be the hole).
result<rx_pdu> first_answer(test_client& c, const nvme_sqe& sqe) {
  capsule_cmd_pdu cmd{};
  cmd.ch.type = static_cast<uint8_t>(pdu_type::capsule_cmd);
  cmd.sqe = sqe;
  if (auto s = c.send_pdu_struct(cmd); !s) return s.take_err();
  return c.recv_pdu();
}

// The answer is a CapsuleResp with status want (and no R2T came first).
::testing::AssertionResult refused_with(const result<rx_pdu>& pdu, nvme_status want) {
  if (!pdu) return ok(pdu);
  if (pdu->type() != pdu_type::capsule_resp)
    return ::testing::AssertionFailure() << "the target answered with PDU type " << static_cast<int>(pdu->type())
                                         << " instead of a CapsuleResp (it reserved a buffer for the command)";
  auto got = nvme_status::decode(pdu->as<capsule_resp_pdu>().cqe.status.get());
  if (got.sct == want.sct && got.sc == want.sc) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "status " << describe(got) << ", want " << describe(want);
}

const nvme_status invalid_opcode = nvme_status::generic(sc_generic::invalid_opcode);
const nvme_status sgl_length_invalid = nvme_status::generic(sc_generic::data_sgl_length_invalid);

TEST_F(target_limits_test, discovery_controller_refuses_unknown_opcode_before_any_r2t) {
  test_client c;
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), std::string(discovery_nqn))));
  // A vendor-specific opcode with host-to-controller data (bits 1:0 = 01b), 1 MiB of it.
  EXPECT_TRUE(refused_with(first_answer(c, admin_write_sqe(0xc1, 1u << 20)), invalid_opcode));
  // Create I/O Submission Queue (01h) is no fabrics command, let alone a discovery one.
  EXPECT_TRUE(refused_with(first_answer(c, admin_write_sqe(0x01, 64 * 1024)), invalid_opcode));
  // The connection still serves.
  EXPECT_TRUE(succeeded(c.keep_alive()));
}

TEST_F(target_limits_test, admin_command_with_more_data_than_it_takes_is_refused_before_any_r2t) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  // Set Features takes no more than a page.
  EXPECT_TRUE(refused_with(first_answer(h->admin, admin_write_sqe(0x09, 1u << 20)), sgl_length_invalid));
  // Identify returns 4 KiB; asking for 1 MiB of it is refused (no 1 MiB buffer).
  auto id = test_client::make_sqe(static_cast<uint8_t>(admin_opcode::identify));
  id.cdw10 = static_cast<uint32_t>(identify_cns::controller);
  test_client::set_sgl_transport(id, 1u << 20);
  EXPECT_TRUE(refused_with(first_answer(h->admin, id), sgl_length_invalid));
  // An unknown fabrics command type with data.
  auto fab = test_client::make_fabrics_sqe(static_cast<fabrics_type>(0x7d));
  test_client::set_sgl_transport(fab, 64 * 1024);
  EXPECT_TRUE(refused_with(first_answer(h->admin, fab), invalid_opcode));
  EXPECT_TRUE(succeeded(h->admin.keep_alive()));
}

// num_shared_buffers × io_unit_size bounds the data buffers of the transport: with room
// for two 8 KiB writes, a third waits for its R2T until one of them is done.
class buffer_budget_test : public target_test {
 protected:
  tcp_transport_options transport() const override {
    auto o = target_fixture::default_transport();
    o.max_io_size = 16 * 1024;
    o.io_unit_size = 8 * 1024;
    o.num_shared_buffers = 2;
    return o;
  }
};

// A write of 8 KiB (16 blocks of 512) at block slba whose data the test sends by hand.
result<uint16_t> submit_manual_write(test_client& c, uint64_t slba) {
  auto sqe = test_client::make_rw_sqe(io_opcode::write, target_fixture::ns_512, slba, 16);
  test_client::set_sgl_transport(sqe, 8 * 1024);
  return c.submit(sqe);
}

TEST_F(buffer_budget_test, a_write_beyond_the_shared_buffers_waits_for_one) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto& io = h->io;
  auto w1 = submit_manual_write(io, 0), w2 = submit_manual_write(io, 16), w3 = submit_manual_write(io, 32);
  ASSERT_TRUE(ok(w1) && ok(w2) && ok(w3));
  auto r1 = io.wait_r2t(*w1);
  auto r2 = io.wait_r2t(*w2);
  ASSERT_TRUE(ok(r1) && ok(r2));
  // No R2T for the third while both buffers are held (a lower bound only: never flaky).
  EXPECT_TRUE(io.socket().quiet_for(300ms)) << "the target reserved a third buffer beyond num_shared_buffers";
  auto data = random_bytes(8 * 1024, 7);
  ASSERT_TRUE(ok(io.send_h2c_data(*w1, r1->ttag.get(), 0, data, true)));
  EXPECT_TRUE(succeeded(io.wait(*w1)));
  auto r3 = io.wait_r2t(*w3);
  ASSERT_TRUE(ok(r3)) << "the waiting write never got its buffer";
  ASSERT_TRUE(ok(io.send_h2c_data(*w2, r2->ttag.get(), 0, data, true)));
  ASSERT_TRUE(ok(io.send_h2c_data(*w3, r3->ttag.get(), 0, data, true)));
  EXPECT_TRUE(succeeded(io.wait(*w2)));
  EXPECT_TRUE(succeeded(io.wait(*w3)));
  auto back = io.read(target_fixture::ns_512, 32, 16, 512);
  ASSERT_TRUE(succeeded(back));
  EXPECT_EQ(back->data, data);
}

// An R2T never answered: the connection is closed after h2c_data_timeout_ms (manual clock).
class h2c_timeout_test : public target_test {
 protected:
  tcp_transport_options transport() const override {
    auto o = target_fixture::default_transport();
    o.h2c_data_timeout_ms = 1000;
    return o;
  }
  time_source* time() override { return &clock; }
  manual_time clock;
};

TEST_F(h2c_timeout_test, an_r2t_never_answered_closes_the_connection) {
  log_capture logs;
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto w = submit_manual_write(h->io, 0);
  ASSERT_TRUE(ok(w));
  ASSERT_TRUE(ok(h->io.wait_r2t(*w)));
  clock.advance(900ms);
  settle(fx->target().reactors());
  EXPECT_TRUE(succeeded(h->io.read(target_fixture::ns_512, 0, 1, 512))) << "closed before the timeout";
  clock.advance(200ms);
  EXPECT_TRUE(ok(h->io.wait_closed()));
  EXPECT_NE(logs.wait_for({"no H2CData", "closing the connection"}), "");
}

TEST_F(h2c_timeout_test, h2c_data_that_keeps_coming_keeps_the_connection) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto sqe = test_client::make_rw_sqe(io_opcode::write, target_fixture::ns_512, 0, 16);
  test_client::set_sgl_transport(sqe, 8 * 1024);
  auto w = h->io.submit(sqe);
  ASSERT_TRUE(ok(w));
  auto r2t = h->io.wait_r2t(*w);
  ASSERT_TRUE(ok(r2t));
  auto data = random_bytes(8 * 1024, 3);
  clock.advance(800ms);
  ASSERT_TRUE(ok(h->io.send_h2c_data(*w, r2t->ttag.get(), 0, std::span(data).first(4096), false)));
  // A read behind it on the same connection: once it is answered, the H2CData is in.
  ASSERT_TRUE(succeeded(h->io.read(target_fixture::ns_512, 64, 1, 512)));
  clock.advance(800ms);  // 1.6 s after the R2T, 0.8 s after the last H2CData
  ASSERT_TRUE(ok(h->io.send_h2c_data(*w, r2t->ttag.get(), 4096, std::span(data).subspan(4096), true)));
  EXPECT_TRUE(succeeded(h->io.wait(*w)));
}

// Keep Alive cannot be avoided (keep_alive_policy.h). On the manual clock, with min_kato 1 s.
class keep_alive_limits_test : public target_test {
 protected:
  tcp_transport_options transport() const override {
    auto o = target_fixture::default_transport();
    o.min_kato = 1000;
    return o;
  }
  time_source* time() override { return &clock; }
  manual_time clock;

  result<uint32_t> kato_of(test_client& admin) {
    auto k = admin.get_features(static_cast<uint8_t>(feature_id::keep_alive_timer));
    if (!k) return k.take_err();
    return k->dw0();
  }
};

TEST_F(keep_alive_limits_test, io_controller_connected_with_kato_0_still_expires) {
  auto p = params();
  p.kato_ms = 0;
  auto h = test_controller::connect(p);
  ASSERT_TRUE(ok(h));
  auto kato = kato_of(h->admin);
  ASSERT_TRUE(ok(kato));
  EXPECT_EQ(*kato, 1000u) << "KATO 0 is raised to min_kato";
  clock.advance(1500ms);
  // Torn down as on any keep-alive timeout: the admin queue and the I/O queue close.
  EXPECT_TRUE(ok(h->admin.wait_closed()));
  EXPECT_TRUE(ok(h->io.wait_closed()));
}

TEST_F(keep_alive_limits_test, set_features_kato_0_on_an_io_controller_is_refused) {
  auto p = params();
  p.kato_ms = 5000;
  auto h = test_controller::connect(p);
  ASSERT_TRUE(ok(h));
  EXPECT_TRUE(has_status(h->admin.set_features(static_cast<uint8_t>(feature_id::keep_alive_timer), 0),
                         nvme_status::generic(sc_generic::keep_alive_timeout_invalid)));
  auto kato = kato_of(h->admin);
  ASSERT_TRUE(ok(kato));
  EXPECT_EQ(*kato, 5000u) << "the refused Set Features left KATO as it was";
  clock.advance(6s);
  EXPECT_TRUE(ok(h->admin.wait_closed()));
}

TEST_F(keep_alive_limits_test, discovery_controller_with_kato_0_expires_after_120_s) {
  test_client c;
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), std::string(discovery_nqn), /*kato_ms=*/0)));
  auto kato = kato_of(c);
  ASSERT_TRUE(ok(kato));
  EXPECT_EQ(*kato, 120000u);
  clock.advance(119s);
  ASSERT_TRUE(succeeded(c.get_log_page(static_cast<uint8_t>(log_page_id::discovery), 0, 1024)))
      << "closed before 120 s";
  clock.advance(2s);
  EXPECT_TRUE(ok(c.wait_closed()));
}

TEST_F(keep_alive_limits_test, set_features_kato_0_on_a_discovery_controller_means_120_s) {
  test_client c;
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), std::string(discovery_nqn), /*kato_ms=*/5000)));
  ASSERT_TRUE(succeeded(c.set_features(static_cast<uint8_t>(feature_id::keep_alive_timer), 0)));
  auto kato = kato_of(c);
  ASSERT_TRUE(ok(kato));
  EXPECT_EQ(*kato, 120000u);
  clock.advance(121s);
  EXPECT_TRUE(ok(c.wait_closed()));
}

// CC is checked when EN goes to 1 (controller.cc cc_supported), as Linux nvmet does: values
// the controller does not support set CSTS.CFS and leave it disabled; and before CC.EN = 1 only
// fabrics commands are served.
struct cc_row {
  const char* name;
  uint8_t css, mps, ams, iosqes, iocqes;
};

TEST_F(target_limits_test, cc_with_unsupported_values_sets_cfs_and_keeps_the_controller_disabled) {
  const cc_row rows[] = {
      {"IOSQES 7", cc_css_nvm, 0, 0, 7, 4}, {"IOCQES 5", cc_css_nvm, 0, 0, 6, 5},
      {"IOSQES 0", cc_css_nvm, 0, 0, 0, 4}, {"MPS 1 (8 KiB pages)", cc_css_nvm, 1, 0, 6, 4},
      {"AMS 1", cc_css_nvm, 0, 1, 6, 4},    {"CSS 7 (admin only)", cc_css_admin_only, 0, 0, 6, 4},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    test_client c;
    auto cntlid = connect_admin_queue(c, addr(), port(), std::string(target_fixture::open_nqn), 0, 31,
                                      /*enable=*/false);
    ASSERT_TRUE(ok(cntlid));
    auto cc = cc_register::make(true, r.css, r.mps, r.ams, shutdown_notification::none, r.iosqes, r.iocqes);
    ASSERT_TRUE(succeeded(c.property_set(property_offset::cc, cc.raw)));
    auto csts = c.property_value(property_offset::csts);
    ASSERT_TRUE(ok(csts));
    EXPECT_TRUE(*csts & csts_bits::cfs) << "CSTS " << *csts;
    EXPECT_FALSE(*csts & csts_bits::rdy) << "CSTS " << *csts;
    EXPECT_TRUE(has_status(c.identify(static_cast<uint8_t>(identify_cns::controller)),
                           nvme_status::generic(sc_generic::command_sequence_error)));
    test_client io;
    ASSERT_TRUE(ok(io.connect(addr(), port())));
    EXPECT_TRUE(has_status(io.fabrics_connect(target_fixture::open_nqn, 1, 31, *cntlid),
                           nvme_status::generic(sc_generic::command_sequence_error)));
  }
}

TEST_F(target_limits_test, admin_commands_before_cc_en_are_command_sequence_errors) {
  test_client c;
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), std::string(target_fixture::open_nqn), 0, 31,
                                     /*enable=*/false)));
  const auto sequence_error = nvme_status::generic(sc_generic::command_sequence_error);
  EXPECT_TRUE(has_status(c.identify(static_cast<uint8_t>(identify_cns::controller)), sequence_error));
  EXPECT_TRUE(has_status(c.get_features(static_cast<uint8_t>(feature_id::keep_alive_timer)), sequence_error));
  EXPECT_TRUE(has_status(c.keep_alive(), sequence_error));
  EXPECT_TRUE(ok(c.property_value(property_offset::cap))) << "fabrics commands are served";
  ASSERT_TRUE(ok(c.enable()));
  EXPECT_TRUE(succeeded(c.identify(static_cast<uint8_t>(identify_cns::controller))));
}

TEST_F(target_limits_test, discovery_controller_ignores_io_entry_sizes_as_linux_does) {
  test_client c;
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), std::string(discovery_nqn), 0, 31, /*enable=*/false)));
  auto cc = cc_register::make(true, cc_css_nvm, 0, 0, shutdown_notification::none, 0, 0);
  ASSERT_TRUE(succeeded(c.property_set(property_offset::cc, cc.raw)));
  auto csts = c.property_value(property_offset::csts);
  ASSERT_TRUE(ok(csts));
  EXPECT_TRUE(*csts & csts_bits::rdy);
  EXPECT_TRUE(succeeded(c.get_log_page(static_cast<uint8_t>(log_page_id::discovery), 0, 1024)));
}

// A connection that sends no ICReq, or half a PDU, is closed after incomplete_pdu_timeout_ms
// (receive_watchdog.h), on the manual clock. The watchdog samples every half timeout, so the
// close comes between 1 and 1.5 timeouts after the stall is first seen: the test moves the
// time in steps until it does.
class receive_stall_test : public target_test {
 protected:
  tcp_transport_options transport() const override {
    auto o = target_fixture::default_transport();
    o.incomplete_pdu_timeout_ms = 1000;
    return o;
  }
  time_source* time() override { return &clock; }
  manual_time clock;

  // Moves the time in half-timeout steps (each lets the watchdog sample) until c is closed.
  ::testing::AssertionResult closed_as_time_goes_by(test_client& c) {
    for (int i = 0; i < 8; ++i) {
      clock.advance(600ms);
      settle(fx->target().reactors());
    }
    auto r = c.wait_closed();
    if (r) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "still open: " << r.err().message;
  }
};

TEST_F(receive_stall_test, a_connection_without_icreq_is_closed) {
  log_capture logs;
  test_client c;
  ASSERT_TRUE(ok(c.open(addr(), port())));
  settle(fx->target().reactors());  // accepted (the watchdog counts from there)
  clock.advance(900ms);
  settle(fx->target().reactors());
  EXPECT_TRUE(c.socket().quiet_for(50ms)) << "closed before the timeout";
  EXPECT_TRUE(closed_as_time_goes_by(c));
  EXPECT_NE(logs.wait_for({"no ICReq", "closing the connection"}), "");
}

TEST_F(receive_stall_test, half_a_pdu_left_incomplete_closes_the_connection) {
  log_capture logs;
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  // A Keep Alive capsule and the first 30 of a second one's 72 bytes, in one send: once the
  // first is answered, the target has read the half PDU too (the same bytes of the stream).
  auto sqe = test_client::make_sqe(static_cast<uint8_t>(admin_opcode::keep_alive));
  capsule_cmd_pdu cmd{};
  cmd.ch.type = static_cast<uint8_t>(pdu_type::capsule_cmd);
  cmd.ch.hlen = sizeof(cmd);
  cmd.ch.plen = sizeof(cmd);
  cmd.sqe = sqe;
  auto bytes = wire_bytes(cmd);
  std::vector<std::byte> stream(bytes.begin(), bytes.end());
  stream.insert(stream.end(), bytes.begin(), bytes.begin() + 30);
  ASSERT_TRUE(ok(h->admin.socket().send_all(stream, 1000ms)));
  auto first = h->admin.recv_pdu();
  ASSERT_TRUE(ok(first));
  EXPECT_EQ(first->type(), pdu_type::capsule_resp);
  clock.advance(900ms);
  settle(fx->target().reactors());
  EXPECT_TRUE(h->admin.socket().quiet_for(50ms)) << "closed before the timeout";
  EXPECT_TRUE(closed_as_time_goes_by(h->admin));
  EXPECT_NE(logs.wait_for({"a PDU left incomplete", "closing the connection"}), "");
}

TEST_F(receive_stall_test, an_idle_connection_between_pdus_is_left_to_keep_alive) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  for (int i = 0; i < 8; ++i) {
    clock.advance(600ms);
    settle(fx->target().reactors());
  }
  // 4.8 s with nothing half-sent: the I/O queue is still there (KATO is the admin queue's).
  EXPECT_TRUE(succeeded(h->io.read(target_fixture::ns_512, 0, 1, 512)));
}

// max_connections_per_listener: beyond it a new connection is closed at once.
class connection_limit_test : public target_test {
 protected:
  tcp_transport_options transport() const override {
    auto o = target_fixture::default_transport();
    o.max_connections_per_listener = 3;
    return o;
  }
};

TEST_F(connection_limit_test, connections_beyond_the_listener_limit_are_closed) {
  log_capture logs;
  std::vector<test_client> open(3);
  for (auto& c : open) ASSERT_TRUE(ok(c.connect(addr(), port())));
  test_client extra;
  ASSERT_TRUE(ok(extra.open(addr(), port())));
  EXPECT_TRUE(ok(extra.wait_closed())) << "a fourth connection was kept";
  EXPECT_NE(logs.wait_for({"refused", "max_connections_per_listener"}), "");
  // Once one closes (and the target has released it), a new one is served.
  open[0].close();
  EXPECT_TRUE(wait_until([&] {
    test_client again;
    return ok(connect_admin_queue(again, addr(), port(), std::string(discovery_nqn)));
  }));
}

}  // namespace
}  // namespace nvmfd
