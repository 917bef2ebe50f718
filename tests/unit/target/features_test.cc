// Get Features and Set Features (NVMe Base 2.0 5.15, 5.27), Keep Alive and Asynchronous
// Event Requests through the handlers, over a fake transport.
#include <gtest/gtest.h>

#include <optional>

#include "handler_harness.h"
#include "proto/features.h"
#include "proto/log_pages.h"

namespace nvmfd {
namespace {

constexpr uint8_t fid(feature_id f) { return static_cast<uint8_t>(f); }
constexpr uint8_t sel(feature_select s) { return static_cast<uint8_t>(s); }

using namespace want;

// One command of a feature sequence on one controller, and what it must return.
struct step {
  const char* name;
  nvme_sqe cmd;
  nvme_status status;
  std::optional<uint32_t> dw0;
};

void run_steps(handler_harness& h, fake_queue& q, std::initializer_list<step> steps) {
  for (const auto& s : steps) {
    SCOPED_TRACE(s.name);
    auto c = h.execute(q, s.cmd);
    EXPECT_EQ(c.status, s.status);
    if (s.dw0) {
      EXPECT_EQ(c.cqe.dw0.get(), *s.dw0);
    }
  }
}

uint32_t queues(uint16_t n) { return queue_counts{uint16_t(n - 1), uint16_t(n - 1)}.encode(); }

TEST(features_test, nvm_controller_steps) {
  handler_harness h;
  auto q = h.admin_queue(handler_harness::open_nqn);
  const uint32_t changeable = feature_capability_bits::changeable;
  run_steps(h, *q, {
      // Number of Queues: the maximum until set; the grant is min(NSQR, NCQR, max) + 1.
      {"NoQ default", sqe::get_features(fid(feature_id::number_of_queues)), ok, queues(127)},
      {"NoQ set 0xffff", sqe::set_features(fid(feature_id::number_of_queues), 0xffff), invalid_field, {}},
      {"NoQ set 4 SQs, 8 CQs", sqe::set_features(fid(feature_id::number_of_queues), 3 | (7u << 16)), ok, queues(4)},
      {"NoQ after the set", sqe::get_features(fid(feature_id::number_of_queues)), ok, queues(4)},
      {"NoQ set above the maximum", sqe::set_features(fid(feature_id::number_of_queues), 999 | (999u << 16)), ok,
       queues(127)},
      // Asynchronous Event Configuration: only the supported notices stick.
      {"AEC set every bit", sqe::set_features(fid(feature_id::async_event_configuration), 0xffffffffu), ok, {}},
      {"AEC current", sqe::get_features(fid(feature_id::async_event_configuration)), ok, aec_bits::namespace_attribute},
      {"AEC default", sqe::get_features(fid(feature_id::async_event_configuration), sel(feature_select::default_)), ok,
       0u},
      {"AEC capabilities",
       sqe::get_features(fid(feature_id::async_event_configuration), sel(feature_select::supported_capabilities)), ok,
       changeable},
      // Keep Alive Timer: at least min_kato (10 s by default), never off (keep_alive_policy.h).
      {"KATO set 15 s", sqe::set_features(fid(feature_id::keep_alive_timer), 15000), ok, {}},
      {"KATO current", sqe::get_features(fid(feature_id::keep_alive_timer)), ok, 15000u},
      {"KATO set 5 s", sqe::set_features(fid(feature_id::keep_alive_timer), 5000), ok, {}},
      {"KATO current, raised to min_kato", sqe::get_features(fid(feature_id::keep_alive_timer)), ok, 10000u},
      {"KATO off", sqe::set_features(fid(feature_id::keep_alive_timer), 0),
       nvme_status::generic(sc_generic::keep_alive_timeout_invalid), {}},
      {"KATO current, still on", sqe::get_features(fid(feature_id::keep_alive_timer)), ok, 10000u},
      // Plain stored features.
      {"temperature threshold default", sqe::get_features(fid(feature_id::temperature_threshold)), ok, 343u},
      {"temperature threshold set", sqe::set_features(fid(feature_id::temperature_threshold), 350), ok, {}},
      {"temperature threshold current", sqe::get_features(fid(feature_id::temperature_threshold)), ok, 350u},
      {"temperature threshold default after a set",
       sqe::get_features(fid(feature_id::temperature_threshold), sel(feature_select::default_)), ok, 343u},
      {"arbitration default", sqe::get_features(fid(feature_id::arbitration)), ok, 0u},
      {"power state 1 (there is one)", sqe::set_features(fid(feature_id::power_management), 1), invalid_field, {}},
      {"power state 0", sqe::set_features(fid(feature_id::power_management), 0), ok, {}},
      // Refusals.
      {"save (SV)", sqe::set_features(fid(feature_id::arbitration), 0, true),
       nvme_status::specific(sc_command_specific::feature_id_not_saveable), {}},
      {"volatile write cache without one", sqe::get_features(fid(feature_id::volatile_write_cache)), invalid_field,
       {}},
      {"volatile write cache off", sqe::set_features(fid(feature_id::volatile_write_cache), 0), invalid_field, {}},
      {"host identifier set (Connect sets it)", sqe::set_features(fid(feature_id::host_identifier), 0),
       sequence_error, {}},
      {"unknown feature", sqe::get_features(0x7e), invalid_field, {}},
      {"unknown set", sqe::set_features(0x7e, 0), invalid_field, {}},
      {"SEL 4 (reserved)", sqe::get_features(fid(feature_id::arbitration), 4), invalid_field, {}},
  });
}

TEST(features_test, discovery_controller_steps) {
  handler_harness h;
  auto q = h.admin_queue(std::string(discovery_nqn));
  run_steps(h, *q, {
      {"NoQ get", sqe::get_features(fid(feature_id::number_of_queues)), invalid_field, {}},
      {"NoQ set", sqe::set_features(fid(feature_id::number_of_queues), 0), invalid_field, {}},
      {"AEC set every bit", sqe::set_features(fid(feature_id::async_event_configuration), 0xffffffffu), ok, {}},
      {"AEC current", sqe::get_features(fid(feature_id::async_event_configuration)), ok,
       aec_bits::discovery_log_change},
      {"KATO set", sqe::set_features(fid(feature_id::keep_alive_timer), 30000), ok, {}},
      {"KATO current", sqe::get_features(fid(feature_id::keep_alive_timer)), ok, 30000u},
      {"KATO 0: 120 s", sqe::set_features(fid(feature_id::keep_alive_timer), 0), ok, {}},
      {"KATO current, 120 s", sqe::get_features(fid(feature_id::keep_alive_timer)), ok, 120000u},
      {"arbitration", sqe::get_features(fid(feature_id::arbitration)), invalid_field, {}},
  });
}

TEST(features_test, number_of_queues_is_fixed_once_an_io_queue_exists) {
  handler_harness h;
  auto p = h.connect_pair();
  auto c = h.execute(*p.admin, sqe::set_features(fid(feature_id::number_of_queues), 1 | (1u << 16)));
  EXPECT_EQ(c.status, sequence_error);
}

TEST(features_test, host_identifier_returns_connect_hostid) {
  handler_harness h;
  auto q = h.admin_queue(handler_harness::open_nqn);
  // Only the 128-bit identifier exists on fabrics: EXHID (CDW11 bit 0) must ask for it.
  auto get = sqe::get_features(fid(feature_id::host_identifier), 0, 16);
  EXPECT_EQ(h.execute(*q, get).status, invalid_field);
  get.cdw11 = host_id_extended;
  auto c = h.execute(*q, get);
  ASSERT_EQ(c.status, ok);
  ASSERT_EQ(c.data.size(), 16u);
  auto connect = sqe::connect(handler_harness::open_nqn, handler_harness::host_nqn, 0, 31);
  EXPECT_TRUE(std::equal(c.data.begin(), c.data.end(), connect.data.begin())) << "HOSTID, bytes 0-15 of Connect data";
}

TEST(features_test, keep_alive_timeout_closes_the_admin_queue) {
  handler_harness h;
  queue_limits limits;
  limits.min_kato = 1000;  // an I/O controller's KATO is at least min_kato (keep_alive_policy.h)
  auto q = h.make_queue(limits);
  h.connect_admin(*q, handler_harness::open_nqn);
  ASSERT_EQ(h.execute(*q, sqe::set_features(fid(feature_id::keep_alive_timer), 1000)).status, ok);
  auto advance = [&](int ms) {
    h.time().advance(std::chrono::milliseconds(ms));
    h.run([] {});
    h.run([] {});
  };
  // Keep Alive commands within KATO keep it open.
  for (int i = 0; i < 4; ++i) {
    advance(600);
    ASSERT_EQ(h.execute(*q, sqe::admin(admin_opcode::keep_alive)).status, ok);
  }
  EXPECT_FALSE(q->closed());
  advance(1100);
  advance(600);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!q->closed() && std::chrono::steady_clock::now() < deadline) h.run([] {});
  ASSERT_EQ(q->close_reasons(), std::vector<std::string>{"keep-alive timeout"});
}

TEST(features_test, async_event_requests) {
  handler_harness h;
  auto q = h.admin_queue(handler_harness::open_nqn);
  ASSERT_EQ(h.execute(*q, sqe::set_features(fid(feature_id::async_event_configuration),
                                            aec_bits::namespace_attribute)).status, ok);
  std::vector<uint16_t> parked;
  for (int i = 0; i < 4; ++i) parked.push_back(h.submit(*q, sqe::admin(admin_opcode::async_event_request)));
  auto fifth = h.execute(*q, sqe::admin(admin_opcode::async_event_request));
  EXPECT_EQ(fifth.status, nvme_status::specific(sc_command_specific::async_event_request_limit_exceeded));
  for (uint16_t cid : parked) EXPECT_TRUE(h.pending(*q, cid));

  // A namespace change completes the oldest parked AER through the queue's complete().
  namespace_params p;
  p.dev = ram_disk("unit-aer", 512, 64);
  p.nsid = nsid_t{4};
  ASSERT_TRUE(h.target().add_namespace(handler_harness::open_nqn, p).ok());
  auto c = h.wait(*q, parked[0]);
  EXPECT_EQ(c.status, ok);
  EXPECT_EQ(c.cqe.dw0.get(), aer_notice_result(aer_notice::namespace_attribute_changed,
                                               static_cast<uint8_t>(log_page_id::changed_namespace_list)));
  // Masked until the Changed Namespace List is read without RAE.
  p.dev = ram_disk("unit-aer-2", 512, 64);
  p.nsid = nsid_t{5};
  ASSERT_TRUE(h.target().add_namespace(handler_harness::open_nqn, p).ok());
  EXPECT_TRUE(h.pending(*q, parked[1]));
  ASSERT_EQ(h.execute(*q, sqe::get_log_page(static_cast<uint8_t>(log_page_id::changed_namespace_list), 4096)).status,
            ok);
  p.dev = ram_disk("unit-aer-3", 512, 64);
  p.nsid = nsid_t{6};
  ASSERT_TRUE(h.target().add_namespace(handler_harness::open_nqn, p).ok());
  EXPECT_EQ(h.wait(*q, parked[1]).status, ok);
}

}  // namespace
}  // namespace nvmfd
