// Connect, Property Get/Set and Disconnect (NVMe-oF 1.1 3.3-3.5) through the handlers, over
// a fake transport: each refusal's exact status and, for Connect Invalid Parameters, the
// IATTR/IPO in DW0 (which field, in the SQE or in the Connect data).
#include <gtest/gtest.h>

#include <functional>

#include "handler_harness.h"
#include "proto/controller_properties.h"
#include "tests/integration/log_capture.h"

namespace nvmfd {
namespace {

using namespace want;
constexpr auto invalid_param = nvme_status::specific(sc_command_specific::connect_invalid_parameters);
constexpr auto invalid_host = nvme_status::specific(sc_command_specific::connect_invalid_host);

// Connect DW0 of Invalid Parameters (NVMe-oF 1.1 Figure 21): IPO in bits 15:0, IATTR bit 0
// (bit 16) set when the offset is in the Connect data rather than in the SQE.
constexpr uint32_t in_sqe(uint16_t offset) { return offset; }
constexpr uint32_t in_data(uint16_t offset) { return (1u << 16) | offset; }
// Byte offsets: SQE (Figure 19) and Connect data (Figure 20).
constexpr uint16_t sqe_qid = 42, sqe_sqsize = 44;
constexpr uint16_t data_cntlid = 16, data_subnqn = 256, data_hostnqn = 512;

TEST(connect_test, admin_refusals) {
  struct row {
    const char* name;
    sqe::connect_request req;
    nvme_status status;
    uint32_t dw0;
    const char* log;  // a part of the warning logged with the peer
  };
  const std::string open = handler_harness::open_nqn, acl = handler_harness::acl_nqn;
  const std::string host = handler_harness::host_nqn;
  auto recfmt1 = sqe::connect(open, host, 0, 31);
  recfmt1.cmd.cdw10 = 1;  // RECFMT, bytes 40-41
  auto short_data = sqe::connect(open, host, 0, 31);
  short_data.data.resize(512);
  short_data.cmd.sgl.length = 512;  // the transport moved what the SGL named: 512 bytes
  const row rows[] = {
      {"unknown subsystem", sqe::connect("nqn.2024-01.io.nvmfd:nobody", host, 0, 31), invalid_param,
       in_data(data_subnqn), "no such subsystem"},
      {"host not on the allow list", sqe::connect(acl, host, 0, 31), invalid_host, in_data(data_hostnqn),
       "not on the subsystem's allow list"},
      {"empty host NQN with an allow list", sqe::connect(acl, "", 0, 31), invalid_host, in_data(data_hostnqn),
       "host nqn ''"},
      {"malformed host NQN", sqe::connect(open, "not an nqn", 0, 31), invalid_param, in_data(data_hostnqn),
       "field hostnqn"},
      {"admin SQSIZE 30 (31 entries)", sqe::connect(open, host, 0, 30), invalid_param, in_sqe(sqe_sqsize),
       "admin queue size 31 is outside 32..128"},
      {"admin SQSIZE 128 (above the admin depth)", sqe::connect(open, host, 0, 128), invalid_param,
       in_sqe(sqe_sqsize), "field sqsize"},
      {"admin cntlid not FFFFh", sqe::connect(open, host, 0, 31, 1), invalid_param, in_data(data_cntlid),
       "dynamic controllers only"},
      {"record format 1", recfmt1, nvme_status::specific(sc_command_specific::incompatible_format), 0,
       "record format 1"},
      {"512 bytes of Connect data", short_data, nvme_status::generic(sc_generic::data_sgl_length_invalid), 0,
       "not 1024"},
  };
  handler_harness h;
  log_capture log;
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto q = h.make_queue();
    auto c = h.connect(*q, r.req);
    EXPECT_EQ(c.status, r.status);
    EXPECT_EQ(c.cqe.dw0.get(), r.dw0);
    EXPECT_FALSE(q->connected());
    EXPECT_NE(log.find({"Connect refused from 192.0.2.99:50000", r.log}), "") << log.dump();
  }
}

TEST(connect_test, listener_must_match_the_local_address) {
  handler_harness h;
  log_capture log;
  auto elsewhere = h.make_queue({}, {"198.51.100.7", "4420"});
  auto c = h.connect(*elsewhere, sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 0, 31));
  EXPECT_EQ(c.status, invalid_param);
  EXPECT_EQ(c.cqe.dw0.get(), in_data(data_subnqn));
  EXPECT_NE(log.find({"does not listen on 198.51.100.7:4420"}), "") << log.dump();

  // A wildcard listener on that port takes it.
  h.add_listener(handler_harness::open_nqn, "0.0.0.0", "4420");
  auto again = h.make_queue({}, {"198.51.100.7", "4420"});
  EXPECT_EQ(h.connect(*again, sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 0, 31)).status, ok);
}

TEST(connect_test, listener_must_match_the_transport) {
  // Same address and port as the subsystem's (TCP) listener, through another transport.
  handler_harness h;
  log_capture log;
  auto other = h.make_queue({}, {fake_queue::default_traddr, fake_queue::default_trsvcid, "RDMA"});
  auto c = h.connect(*other, sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 0, 31));
  EXPECT_EQ(c.status, invalid_param);
  EXPECT_EQ(c.cqe.dw0.get(), in_data(data_subnqn));
  EXPECT_FALSE(other->connected());
}

TEST(connect_test, connect_must_name_the_queue_the_connection_was_opened_for) {
  handler_harness h;
  log_capture log;
  auto q = h.make_queue();
  q->open_for(admin_qid, 31);
  auto c = h.connect(*q, sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 0, 63));
  EXPECT_EQ(c.status, invalid_param);
  EXPECT_EQ(c.cqe.dw0.get(), in_sqe(sqe_sqsize));
  EXPECT_NE(log.find({"opened for qid 0 with 32 entries, not qid 0 with 64"}), "") << log.dump();
  auto io = h.make_queue();
  io->open_for(qid_t{2}, 31);
  c = h.connect(*io, sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 1, 31, 1));
  EXPECT_EQ(c.status, invalid_param);
  EXPECT_EQ(c.cqe.dw0.get(), in_sqe(sqe_qid));
  auto good = h.make_queue();
  good->open_for(admin_qid, 31);
  EXPECT_EQ(h.connect(*good, sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 0, 31)).status, ok);
}

TEST(connect_test, io_refusals) {
  struct row {
    const char* name;
    // Builds the I/O Connect from the admin queue's cntlid.
    std::function<sqe::connect_request(uint16_t cntlid)> req;
    nvme_status status;
    uint32_t dw0;
  };
  const std::string open = handler_harness::open_nqn, host = handler_harness::host_nqn;
  const std::string disc(discovery_nqn);
  const row rows[] = {
      {"unknown cntlid", [&](uint16_t id) { return sqe::connect(open, host, 1, 31, uint16_t(id + 100)); },
       invalid_param, in_data(data_cntlid)},
      {"SQSIZE 0", [&](uint16_t id) { return sqe::connect(open, host, 1, 0, id); }, invalid_param, in_sqe(sqe_sqsize)},
      {"SQSIZE 128 (above the queue depth)", [&](uint16_t id) { return sqe::connect(open, host, 1, 128, id); },
       invalid_param, in_sqe(sqe_sqsize)},
      {"another host", [&](uint16_t id) { return sqe::connect(open, "nqn.2024-01.io.nvmfd:other", 1, 31, id); },
       invalid_param, in_data(data_hostnqn)},
      {"empty host for a named host's controller", [&](uint16_t id) { return sqe::connect(open, "", 1, 31, id); },
       invalid_param, in_data(data_hostnqn)},
      {"qid above the queues granted", [&](uint16_t id) { return sqe::connect(open, host, 3, 31, id); },
       invalid_param, in_sqe(sqe_qid)},
      {"qid in use", [&](uint16_t id) { return sqe::connect(open, host, 1, 31, id); }, invalid_param, in_sqe(sqe_qid)},
      {"I/O queue on the discovery subsystem", [&](uint16_t id) { return sqe::connect(disc, host, 1, 31, id); },
       invalid_param, in_sqe(sqe_qid)},
  };
  handler_harness h;
  auto admin = h.make_queue();
  uint16_t cntlid = h.connect_admin(*admin, open);
  ASSERT_EQ(h.execute(*admin, sqe::set_features(0x07, 1 | (1u << 16))).status, ok);  // 2 I/O queues
  h.connect_io(*h.make_queue(), open, cntlid, 1);
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto q = h.make_queue();
    auto c = h.connect(*q, r.req(cntlid));
    EXPECT_EQ(c.status, r.status);
    EXPECT_EQ(c.cqe.dw0.get(), r.dw0);
  }
}

TEST(connect_test, io_connect_before_enable_is_a_sequence_error) {
  handler_harness h;
  auto admin = h.make_queue();
  uint16_t cntlid = h.connect_admin(*admin, handler_harness::open_nqn, handler_harness::host_nqn, 0, false);
  auto q = h.make_queue();
  auto c = h.connect(*q, sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 1, 31, cntlid));
  EXPECT_EQ(c.status, sequence_error);
}

TEST(connect_test, success_binds_the_queue) {
  handler_harness h;
  auto admin = h.make_queue();
  auto c = h.connect(*admin, sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 0, 31,
                                          cntlid_dynamic, 1000));
  ASSERT_EQ(c.status, ok);
  uint16_t cntlid = static_cast<uint16_t>(c.cqe.dw0.get());
  EXPECT_NE(cntlid, 0);
  EXPECT_TRUE(admin->connected());
  EXPECT_EQ(admin->qid(), qid_t{0});
  EXPECT_EQ(admin->queue_size(), 32);
  EXPECT_EQ(h.execute(*admin, sqe::property_set(property_offset::cc, handler_harness::enable_cc)).status, ok);
  // KATO below the target's minimum is raised for an I/O controller.
  EXPECT_EQ(h.execute(*admin, sqe::get_features(0x0f)).cqe.dw0.get(), queue_limits{}.min_kato);

  auto io = h.make_queue();
  auto ic = h.connect(*io, sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 1, 63, cntlid, 0,
                                        cattr_bits::disable_sq_flow_control));
  ASSERT_EQ(ic.status, ok);
  EXPECT_EQ(ic.cqe.dw0.get(), cntlid);
  EXPECT_EQ(io->qid(), qid_t{1});
  EXPECT_EQ(io->queue_size(), 64);
  EXPECT_TRUE(io->sq_flow_control_disabled());
  EXPECT_EQ(ic.cqe.sqid.get(), 1) << "the response names the queue";

  // A second Connect on a connected queue.
  auto again = h.connect(*io, sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 1, 63, cntlid));
  EXPECT_EQ(again.status, sequence_error);

  // A discovery controller connected with KATO 0 gets 120 s, as Linux nvmet gives it.
  auto disc = h.make_queue();
  ASSERT_EQ(h.connect(*disc, sqe::connect(std::string(discovery_nqn), "", 0, 31)).status, ok);
  ASSERT_EQ(h.execute(*disc, sqe::property_set(property_offset::cc, handler_harness::enable_cc)).status, ok);
  EXPECT_EQ(h.execute(*disc, sqe::get_features(0x0f)).cqe.dw0.get(), 120000u);
}

TEST(connect_test, commands_before_connect_and_psdt) {
  handler_harness h;
  auto q = h.make_queue();
  EXPECT_EQ(h.execute(*q, sqe::identify(1)).status, sequence_error);
  EXPECT_EQ(h.execute(*q, sqe::property_get(property_offset::vs, false)).status, sequence_error);
  h.connect_admin(*q, handler_harness::open_nqn);
  for (uint8_t psdt : {0, 3}) {
    SCOPED_TRACE(int(psdt));
    auto s = sqe::identify(1);
    s.flags = static_cast<uint8_t>(psdt << 6);
    EXPECT_EQ(h.execute(*q, s).status, invalid_field);
  }
}

TEST(connect_test, property_rows) {
  struct row {
    const char* name;
    bool on_io_queue;
    nvme_sqe cmd;
    nvme_status status;
    std::optional<uint64_t> value;  // DW1:DW0
  };
  queue_limits limits;
  limits.max_queue_depth = 64;
  cap_fields cap;
  cap.mqes = 63;
  cap.cqr = true;
  cap.to = 30;
  cap.css = cap_css::nvm;
  const row rows[] = {
      {"CAP", false, sqe::property_get(property_offset::cap, true), ok, cap.encode()},
      {"VS", false, sqe::property_get(property_offset::vs, false), ok, nvme_version_1_4},
      {"CC after enable", false, sqe::property_get(property_offset::cc, false), ok, handler_harness::enable_cc},
      {"CSTS: ready", false, sqe::property_get(property_offset::csts, false), ok, csts_bits::rdy},
      {"CAP read as 4 bytes", false, sqe::property_get(property_offset::cap, false), invalid_field, {}},
      {"VS read as 8 bytes", false, sqe::property_get(property_offset::vs, true), invalid_field, {}},
      {"unknown offset", false, sqe::property_get(0x40, false), invalid_field, {}},
      {"set CSTS", false, sqe::property_set(property_offset::csts, 0), invalid_field, {}},
      {"get on an I/O queue", true, sqe::property_get(property_offset::vs, false), invalid_field, {}},
      {"set on an I/O queue", true, sqe::property_set(property_offset::cc, 1), invalid_field, {}},
      {"shutdown notification", false,
       sqe::property_set(property_offset::cc, handler_harness::enable_cc | (uint32_t(shutdown_notification::normal) << 14)),
       ok, {}},
      {"CSTS: shutdown complete", false, sqe::property_get(property_offset::csts, false), ok,
       csts_bits::rdy | (uint32_t(shutdown_status::complete) << 2)},
  };
  handler_harness h;
  auto p = h.connect_pair(handler_harness::open_nqn, limits);
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto c = h.execute(r.on_io_queue ? *p.io : *p.admin, r.cmd);
    EXPECT_EQ(c.status, r.status);
    if (r.value) {
      EXPECT_EQ(uint64_t{c.cqe.dw0.get()} | (uint64_t{c.cqe.dw1.get()} << 32), *r.value);
    }
  }
}

TEST(connect_test, reset_closes_io_queues_and_disconnect_waits_for_the_response) {
  handler_harness h;
  auto p = h.connect_pair();
  EXPECT_EQ(h.execute(*p.admin, sqe::property_set(property_offset::cc, 0)).status, ok);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!p.io->closed() && std::chrono::steady_clock::now() < deadline) h.run([] {});
  EXPECT_EQ(p.io->close_reasons(), std::vector<std::string>{"controller reset (CC.EN 1 -> 0)"});
  EXPECT_EQ(h.execute(*p.admin, sqe::property_get(property_offset::csts, false)).cqe.dw0.get(), 0u);

  EXPECT_FALSE(p.admin->disconnect_requested());
  EXPECT_EQ(h.execute(*p.admin, sqe::fabrics(fabrics_type::disconnect)).status, ok);
  EXPECT_TRUE(p.admin->disconnect_requested());
  EXPECT_FALSE(p.admin->closed()) << "the transport closes once the response is out";
}

}  // namespace
}  // namespace nvmfd
