// Controller state a host drives or the operator changes under it: CC.EN reset, shutdown
// notification, the AER limit, Set Features KATO, a second Connect, I/O queue Connect
// parameters, and hosts or subsystems removed while connected.
#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "proto/controller_properties.h"
#include "proto/fabrics.h"
#include "proto/features.h"
#include "proto/identify.h"
#include "proto/log_pages.h"
#include "reactor/manual_time.h"
#include "target_test.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

constexpr auto connect_invalid = nvme_status::specific(sc_command_specific::connect_invalid_parameters);

class controller_state_test : public target_test {};

TEST_F(controller_state_test, cc_en_to_zero_resets_and_closes_io_queues) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  ASSERT_TRUE(succeeded(h->admin.property_set(property_offset::cc, 0)));
  auto csts = h->admin.property_value(property_offset::csts);
  ASSERT_TRUE(ok(csts));
  EXPECT_EQ(*csts & csts_bits::rdy, 0u);
  EXPECT_TRUE(ok(h->io.wait_closed())) << "a reset deletes the I/O queues";
  // Enable again and reconnect qid 1.
  ASSERT_TRUE(ok(h->admin.enable()));
  test_client io;
  ASSERT_TRUE(ok(io.connect(addr(), port())));
  ASSERT_TRUE(succeeded(io.fabrics_connect(target_fixture::open_nqn, 1, 127, h->cntlid)));
  EXPECT_TRUE(succeeded(io.read(target_fixture::ns_512, 0, 1, 512)));
}

TEST_F(controller_state_test, shutdown_notification_reports_shutdown_complete) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto cc = h->admin.property_value(property_offset::cc);
  ASSERT_TRUE(ok(cc));
  cc_register reg{static_cast<uint32_t>(*cc)};
  const uint32_t shn = (reg.raw & ~(0x3u << 14)) | (uint32_t(shutdown_notification::normal) << 14);
  ASSERT_TRUE(succeeded(h->admin.property_set(property_offset::cc, shn)));
  auto csts = h->admin.property_value(property_offset::csts);
  ASSERT_TRUE(ok(csts));
  EXPECT_EQ(csts_shst(static_cast<uint32_t>(*csts)), shutdown_status::complete);
}

TEST_F(controller_state_test, async_event_requests_beyond_aerl_are_refused) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto id = h->admin.identify(static_cast<uint8_t>(identify_cns::controller));
  ASSERT_TRUE(succeeded(id));
  const int limit = id->data_as<identify_controller>().aerl + 1;
  for (int i = 0; i < limit; ++i) ASSERT_TRUE(ok(h->admin.submit_async_event_request()));
  auto extra = h->admin.submit_async_event_request();
  ASSERT_TRUE(ok(extra));
  EXPECT_TRUE(has_status(h->admin.wait(*extra),
                         nvme_status::specific(sc_command_specific::async_event_request_limit_exceeded)));
  EXPECT_EQ(h->admin.outstanding(), static_cast<size_t>(limit));
}

// Set Features Keep Alive Timer re-arms the keep-alive timer with the new value (once a bug:
// the new value was only stored, never enforced). On the manual clock.
class controller_state_kato_test : public target_test {
 protected:
  time_source* time() override { return &clock; }
  manual_time clock;
};

TEST_F(controller_state_kato_test, set_features_kato_arms_the_keep_alive_timer) {
  test_client c;
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), std::string(discovery_nqn), /*kato_ms=*/0)));
  clock.advance(100s);
  ASSERT_TRUE(succeeded(c.set_features(static_cast<uint8_t>(feature_id::keep_alive_timer), 1000)))
      << "KATO 0 on a discovery controller is 120 s: 100 s of silence is fine";
  auto kato = c.get_features(static_cast<uint8_t>(feature_id::keep_alive_timer));
  ASSERT_TRUE(succeeded(kato));
  EXPECT_EQ(kato->dw0(), 1000u);
  clock.advance(900ms);
  ASSERT_TRUE(succeeded(c.get_log_page(static_cast<uint8_t>(log_page_id::discovery), 0, 1024)))
      << "closed before KATO";
  clock.advance(600ms);
  EXPECT_TRUE(ok(c.wait_closed())) << "silent for 1.5 s with KATO 1 s";
}

TEST_F(controller_state_test, a_second_connect_on_a_queue_is_a_sequence_error) {
  test_client c;
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), std::string(target_fixture::open_nqn))));
  EXPECT_TRUE(has_status(c.fabrics_connect(target_fixture::open_nqn, 0, 31, 0xffff),
                         nvme_status::generic(sc_generic::command_sequence_error)));
}

TEST_F(controller_state_test, io_connect_parameters_are_checked) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  ASSERT_TRUE(succeeded(h->io.disconnect()));
  ASSERT_TRUE(ok(h->io.wait_closed()));
  struct row {
    const char* name;
    uint16_t sqsize;
    std::string hostnqn;
    std::string subnqn;
    uint32_t want_dw0;
  };
  const std::string me(test_host_nqn), open(target_fixture::open_nqn);
  const std::vector<row> rows{
      {"SQSIZE 0", 0, me, open, connect_response_invalid_param(false, connect_sqe_offset::sqsize)},
      {"SQSIZE above MQES", fx->transport().max_queue_depth, me, open,
       connect_response_invalid_param(false, connect_sqe_offset::sqsize)},
      {"another host's controller", 127, std::string(target_fixture::other_host_nqn), open,
       connect_response_invalid_param(true, connect_data_offset::hostnqn)},
      {"the cntlid in another subsystem", 127, me, std::string(target_fixture::acl_nqn),
       connect_response_invalid_param(true, connect_data_offset::cntlid)},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    client_options o;
    o.hostnqn = r.hostnqn;
    test_client io(o);
    ASSERT_TRUE(ok(io.connect(addr(), port())));
    auto res = io.fabrics_connect(r.subnqn, 1, r.sqsize, h->cntlid);
    ASSERT_TRUE(has_status(res, connect_invalid));
    EXPECT_EQ(res->dw0(), r.want_dw0);
  }
  // The largest queue the target offers is accepted.
  test_client io;
  ASSERT_TRUE(ok(io.connect(addr(), port())));
  EXPECT_TRUE(succeeded(
      io.fabrics_connect(target_fixture::open_nqn, 1, static_cast<uint16_t>(fx->transport().max_queue_depth - 1),
                         h->cntlid)));
}

TEST_F(controller_state_test, each_controller_gets_its_own_cntlid) {
  constexpr int n = 24;
  std::vector<test_client> admins(n);
  std::set<uint16_t> ids;
  for (auto& a : admins) {
    auto id = connect_admin_queue(a, addr(), port(), std::string(target_fixture::open_nqn));
    ASSERT_TRUE(ok(id));
    EXPECT_GE(*id, 1);
    EXPECT_LE(*id, 0xffef);
    EXPECT_TRUE(ids.insert(*id).second) << "cntlid " << *id << " given twice";
  }
  auto list = fx->target().controllers(std::string(target_fixture::open_nqn));
  ASSERT_TRUE(ok(list));
  EXPECT_EQ(list->size(), size_t{n});
}

// A subsystem with a one-id cntlid range has room for one controller; the id is free
// again once that controller's admin queue is gone.
TEST_F(controller_state_test, cntlid_range_exhausted_is_controller_busy) {
  subsystem_params p;
  p.nqn = "nqn.2014-08.io.nvmfd.test:single";
  p.allow_any_host = true;
  p.min_cntlid = p.max_cntlid = cntlid_t{7};
  ASSERT_TRUE(ok(fx->target().create_subsystem(p)));
  ASSERT_TRUE(ok(fx->target().add_listener(p.nqn, fx->listener())));
  test_client first;
  auto id = connect_admin_queue(first, addr(), port(), p.nqn);
  ASSERT_TRUE(ok(id));
  EXPECT_EQ(*id, 7);
  test_client second;
  ASSERT_TRUE(ok(second.connect(addr(), port())));
  EXPECT_TRUE(has_status(second.fabrics_connect(p.nqn, 0, 31, 0xffff),
                         nvme_status::specific(sc_command_specific::controller_busy)));
  first.close();
  EXPECT_TRUE(wait_until([&] {
    test_client third;
    auto r = connect_admin_queue(third, addr(), port(), p.nqn);
    return r.ok() && *r == 7;
  })) << "cntlid 7 still taken 10 s after its controller's connection closed";
}

TEST_F(controller_state_test, removing_the_host_closes_its_controller) {
  auto h = test_controller::connect(params(target_fixture::acl_nqn));
  ASSERT_TRUE(ok(h));
  ASSERT_TRUE(succeeded(h->io.read(1, 0, 8, 512)));
  ASSERT_TRUE(ok(fx->target().remove_host(std::string(target_fixture::acl_nqn), std::string(test_host_nqn))));
  EXPECT_TRUE(ok(h->admin.wait_closed()));
  EXPECT_TRUE(ok(h->io.wait_closed()));
  test_client again;
  ASSERT_TRUE(ok(again.connect(addr(), port())));
  EXPECT_TRUE(has_status(again.fabrics_connect(target_fixture::acl_nqn, 0, 31, 0xffff),
                         nvme_status::specific(sc_command_specific::connect_invalid_host)));
}

TEST_F(controller_state_test, deleting_the_subsystem_closes_its_controllers) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  test_client other;  // a controller of another subsystem is untouched
  ASSERT_TRUE(ok(connect_admin_queue(other, addr(), port(), std::string(target_fixture::acl_nqn))));
  ASSERT_TRUE(ok(fx->target().delete_subsystem(std::string(target_fixture::open_nqn))));
  EXPECT_TRUE(ok(h->admin.wait_closed()));
  EXPECT_TRUE(ok(h->io.wait_closed()));
  EXPECT_TRUE(succeeded(other.keep_alive()));
}

}  // namespace
}  // namespace nvmfd
