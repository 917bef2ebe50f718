// The Host NQN at Connect (NVMe-oF 1.1 3.3), and the log of refused Connects.
// SPDK's hosts (spdk_nvme_perf, spdk_nvme_identify without hostnqn: in -r) send an empty
// Host NQN; SPDK's and Linux nvmet's targets take it where any host is allowed and on the
// discovery subsystem, and refuse it (Connect Invalid Host) where an allow list applies.
// Every refused Connect is logged at warn level naming the host's address, the subsystem,
// the reason and the field.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "discovery_support.h"
#include "log_capture.h"
#include "proto/fabrics.h"
#include "target_test.h"

namespace nvmfd {
namespace {

constexpr auto connect_invalid = nvme_status::specific(sc_command_specific::connect_invalid_parameters);
constexpr auto connect_invalid_host = nvme_status::specific(sc_command_specific::connect_invalid_host);
constexpr uint32_t dw0_hostnqn = (1u << 16) | 512u;  // IATTR: in the connect data; IPO: HOSTNQN

client_options empty_host() {
  client_options o;
  o.hostnqn.clear();
  return o;
}

class connect_host_test : public target_test {};

TEST_F(connect_host_test, empty_host_nqn_is_accepted_where_any_host_is_allowed) {
  auto h = connect_controller(empty_host());  // admin Connect, CC.EN, I/O queue 1 Connect
  ASSERT_TRUE(ok(h));
  EXPECT_TRUE(succeeded(h->io.read(target_fixture::ns_512, 0, 8, 512)));
  auto info = fx->target().controllers(std::string(target_fixture::open_nqn));
  ASSERT_TRUE(ok(info));
  ASSERT_EQ(info->size(), 1u);
  EXPECT_EQ(info->front().hostnqn, "");
}

TEST_F(connect_host_test, io_queue_host_nqn_must_be_the_admin_queues_even_when_empty) {
  log_capture log;
  auto p = params(target_fixture::open_nqn, empty_host());
  p.io_queues = 2;  // qid 1 is connected; qid 2 is left for the Connects below
  auto h = test_controller::connect(p);
  ASSERT_TRUE(ok(h));

  // A named host may not add a queue to the controller of the host without a name...
  test_client named;
  ASSERT_TRUE(ok(named.connect(addr(), port())));
  auto r = named.fabrics_connect(target_fixture::open_nqn, 2, 127, h->cntlid);
  ASSERT_TRUE(has_status(r, connect_invalid));
  EXPECT_EQ(r->dw0(), dw0_hostnqn);
  EXPECT_NE(log.wait_for({"Connect refused from 127.0.0.1:", "(qid 2)", "is not controller",
                          "(field hostnqn, offset 512 of Connect data)"}),
            "")
      << log.dump();

  // ...and the other way round.
  auto named_ctrl = connect_controller();
  ASSERT_TRUE(ok(named_ctrl));
  test_client anonymous(empty_host());
  ASSERT_TRUE(ok(anonymous.connect(addr(), port())));
  auto r2 = anonymous.fabrics_connect(target_fixture::open_nqn, 2, 127, named_ctrl->cntlid);
  ASSERT_TRUE(has_status(r2, connect_invalid));
  EXPECT_EQ(r2->dw0(), dw0_hostnqn);

  // The host without a name adds its second queue (empty == empty).
  test_client second(empty_host());
  ASSERT_TRUE(ok(second.connect(addr(), port())));
  EXPECT_TRUE(succeeded(second.fabrics_connect(target_fixture::open_nqn, 2, 127, h->cntlid)));
}

TEST_F(connect_host_test, empty_host_nqn_is_refused_by_an_allow_list_and_logged) {
  log_capture log;
  test_client c(empty_host());
  ASSERT_TRUE(ok(c.connect(addr(), port())));
  auto r = c.fabrics_connect(target_fixture::acl_nqn, 0, 31, 0xffff);
  ASSERT_TRUE(has_status(r, connect_invalid_host));
  EXPECT_EQ(r->status().sc, 0x84);
  EXPECT_EQ(r->dw0(), dw0_hostnqn);  // as Linux nvmet: IATTR/IPO name HOSTNQN
  const std::string line =
      log.wait_for({"Connect refused from 127.0.0.1:", std::string(target_fixture::acl_nqn).c_str(),
                    "host nqn '' not allowed", "(field hostnqn, offset 512 of Connect data)"});
  EXPECT_NE(line, "") << log.dump();
  EXPECT_NE(line.find("[warning]"), std::string::npos) << line;
}

TEST_F(connect_host_test, a_host_not_on_the_allow_list_is_refused_naming_hostnqn) {
  log_capture log;
  client_options other;
  other.hostnqn = std::string(target_fixture::other_host_nqn);
  test_client c(other);
  ASSERT_TRUE(ok(c.connect(addr(), port())));
  auto r = c.fabrics_connect(target_fixture::acl_nqn, 0, 31, 0xffff);
  ASSERT_TRUE(has_status(r, connect_invalid_host));
  EXPECT_EQ(r->dw0(), dw0_hostnqn);
  EXPECT_NE(log.wait_for({"Connect refused from 127.0.0.1:",
                          ("host nqn '" + std::string(target_fixture::other_host_nqn) + "' not allowed").c_str(),
                          "field hostnqn"}),
            "")
      << log.dump();
}

TEST_F(connect_host_test, a_malformed_host_nqn_is_invalid_parameters_even_with_allow_any_host) {
  log_capture log;
  client_options bad;
  bad.hostnqn = "not an nqn\n";
  test_client c(bad);
  ASSERT_TRUE(ok(c.connect(addr(), port())));
  auto r = c.fabrics_connect(target_fixture::open_nqn, 0, 31, 0xffff);
  ASSERT_TRUE(has_status(r, connect_invalid));
  EXPECT_EQ(r->dw0(), dw0_hostnqn);
  const std::string line = log.wait_for({"Connect refused from 127.0.0.1:", "field hostnqn"});
  ASSERT_NE(line, "") << log.dump();
  // What came off the wire is escaped: no line break inside the log line.
  EXPECT_NE(line.find("\\x0a"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
}

TEST_F(connect_host_test, empty_host_nqn_reaches_the_discovery_subsystem_and_sees_open_subsystems) {
  test_client c(empty_host());
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), std::string(discovery_nqn))));
  auto log = discovery_support::read_log(c);
  std::set<std::string> nqns;
  for (const auto& e : log.entries) nqns.insert(e.subnqn);
  // As SPDK and nvmet: a subsystem with an allow list is not shown to a host it would refuse.
  EXPECT_EQ(nqns, (std::set<std::string>{std::string(discovery_nqn), std::string(target_fixture::open_nqn)}));
}

// Each refusal path of Connect leaves a warning naming the peer, the reason and the field.
TEST_F(connect_host_test, every_refused_connect_is_logged_with_its_field) {
  log_capture log;
  struct row {
    const char* what;
    std::string subnqn;
    uint16_t qid, sqsize, cntlid;
    nvme_status want;
    uint32_t dw0;
    const char* field;
  };
  const std::string open(target_fixture::open_nqn);
  const std::vector<row> rows{
      {"unknown subsystem", "nqn.2014-08.io.nvmfd.test:nowhere", 0, 31, 0xffff, connect_invalid, (1u << 16) | 256u,
       "(field subnqn, offset 256 of Connect data)"},
      {"small admin queue", open, 0, 15, 0xffff, connect_invalid, connect_sqe_offset::sqsize,
       "(field sqsize, offset 44 of the Connect command)"},
      {"static cntlid", open, 0, 31, 7, connect_invalid, (1u << 16) | 16u,
       "(field cntlid, offset 16 of Connect data)"},
      {"unknown controller", open, 1, 127, 999, connect_invalid, (1u << 16) | 16u,
       "(field cntlid, offset 16 of Connect data)"},
      {"I/O queue on discovery", std::string(discovery_nqn), 1, 127, 1, connect_invalid, connect_sqe_offset::qid,
       "(field qid, offset 42 of the Connect command)"},
  };
  for (const auto& w : rows) {
    SCOPED_TRACE(w.what);
    test_client c;
    ASSERT_TRUE(ok(c.connect(addr(), port())));
    auto r = c.fabrics_connect(w.subnqn, w.qid, w.sqsize, w.cntlid);
    ASSERT_TRUE(has_status(r, w.want));
    EXPECT_EQ(r->dw0(), w.dw0);
    EXPECT_NE(log.wait_for({"Connect refused from 127.0.0.1:", ("'" + w.subnqn + "'").c_str(), w.field}), "")
        << log.dump();
  }
  // A second Connect on a connected queue: Command Sequence Error, logged too.
  test_client c;
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), open)));
  auto again = c.fabrics_connect(open, 0, 31, 0xffff);
  ASSERT_TRUE(has_status(again, nvme_status::generic(sc_generic::command_sequence_error)));
  EXPECT_NE(log.wait_for({"Connect refused from 127.0.0.1:", "already connected"}), "") << log.dump();
}

}  // namespace
}  // namespace nvmfd
