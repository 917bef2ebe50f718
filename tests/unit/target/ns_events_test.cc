// Namespace change events (NVMe Base 2.0 5.2, 5.16.1.5): a namespace whose bdev is resized is
// announced with Namespace Attribute Changed and the Changed Namespace List to the hosts that
// see it, and Identify Namespace shows the new size.
#include <gtest/gtest.h>

#include "handler_harness.h"
#include "tests/lib/growing_disk.h"
#include "proto/features.h"
#include "proto/identify.h"
#include "proto/log_pages.h"

namespace nvmfd {
namespace {

using namespace want;

constexpr const char* nqn = "nqn.2024-01.io.nvmfd:unit-events";

using test::growing_disk;

uint64_t nsze(handler_harness& h, fake_queue& admin, uint32_t nsid) {
  auto id = h.execute(admin, sqe::identify(static_cast<uint8_t>(identify_cns::namespace_), nsid));
  EXPECT_EQ(id.status, ok);
  return data_at<uint64_t>(id, 0);
}

TEST(ns_events_test, a_resized_namespace_is_announced_to_the_hosts_that_see_it) {
  handler_harness h;
  auto disk = std::make_shared<growing_disk>("growing", ram_disk("events-inner", 512, 4096), 1024);
  h.add_subsystem(nqn, {ns_params(disk, 1), ns_params(ram_disk("events-hidden", 512, 64), 2, true)});
  auto a = h.connect_host("nqn.2024-01.io.nvmfd:events-a", "aaaaaaaa-3333-4000-8000-000000000001", nqn);
  auto b = h.connect_host("nqn.2024-01.io.nvmfd:events-b", "bbbbbbbb-4444-4000-8000-000000000002", nqn);
  for (auto* p : {&a, &b})
    ASSERT_EQ(h.execute(*p->admin, sqe::set_features(static_cast<uint8_t>(feature_id::async_event_configuration),
                                                      aec_bits::namespace_attribute))
                  .status,
              ok);
  EXPECT_EQ(nsze(h, *a.admin, 1), 1024u);
  uint16_t aer_a = h.submit(*a.admin, sqe::admin(admin_opcode::async_event_request));
  uint16_t aer_b = h.submit(*b.admin, sqe::admin(admin_opcode::async_event_request));

  disk->resize(2048);
  for (auto [p, aer] : {std::pair{&a, aer_a}, std::pair{&b, aer_b}}) {
    auto ev = h.wait(*p->admin, aer);
    EXPECT_TRUE(aer_fields::decode(ev.cqe.dw0.get()).is_notice(aer_notice::namespace_attribute_changed));
    auto changed = h.execute(*p->admin, sqe::get_log_page(static_cast<uint8_t>(log_page_id::changed_namespace_list), 4096));
    EXPECT_EQ(data_at<uint32_t>(changed, 0), 1u);
    EXPECT_EQ(data_at<uint32_t>(changed, 4), 0u);
    EXPECT_EQ(nsze(h, *p->admin, 1), 2048u);
  }
  // I/O past the old end works now.
  EXPECT_EQ(h.execute(*a.io, sqe::rw(io_opcode::read, 1, 2000, 8, 4096)).status, ok);

  // Resizing a namespace that is gone tells nobody (its observer was removed).
  aer_a = h.submit(*a.admin, sqe::admin(admin_opcode::async_event_request));
  ASSERT_TRUE(h.target().remove_namespace(nqn, nsid_t{1}).ok());
  h.wait(*a.admin, aer_a);  // the removal itself
  (void)h.execute(*a.admin, sqe::get_log_page(static_cast<uint8_t>(log_page_id::changed_namespace_list), 4096));
  aer_a = h.submit(*a.admin, sqe::admin(admin_opcode::async_event_request));
  disk->resize(4096);
  EXPECT_TRUE(h.pending(*a.admin, aer_a));
}

}  // namespace
}  // namespace nvmfd
