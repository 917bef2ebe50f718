// Hostile hosts against the target's resources (issue 15, "target-side limits" and the holes
// found by reading the code): each test sends what a host without credentials, or a host
// that stops half-way, could send, and checks that the target neither reserves memory for
// it nor holds it forever.
#include <gtest/gtest.h>

#include <chrono>

#include "discovery_support.h"
#include "log_capture.h"
#include "proto/identify.h"
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

}  // namespace
}  // namespace nvmfd
