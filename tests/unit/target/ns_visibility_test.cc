// Per-host namespace visibility (SPDK's no_auto_visible, nvmf_ns_add_host / remove_host):
// a host sees only its namespaces in the active namespace list, Identify Namespace, the
// descriptor list, the ANA log and I/O; a change notifies the controllers of that host only.
#include <gtest/gtest.h>

#include "bdev/ram_bdev.h"
#include "handler_harness.h"
#include "proto/features.h"
#include "proto/identify.h"
#include "proto/log_pages.h"

namespace nvmfd {
namespace {

using namespace want;

constexpr const char* nqn = "nqn.2024-01.io.nvmfd:unit-visible";
constexpr const char* host_a = "nqn.2024-01.io.nvmfd:vis-a";
constexpr const char* host_b = "nqn.2024-01.io.nvmfd:vis-b";

// nsid 1 visible to every host; nsid 2 added with no_auto_visible.
void make_subsystem(handler_harness& h) {
  h.add_subsystem(nqn, {ns_params(ram_disk("vis1", 512, 128), 1), ns_params(ram_disk("vis2", 512, 128), 2, true)},
                  true);
}

std::vector<uint32_t> active_list(handler_harness& h, fake_queue& admin) {
  auto c = h.execute(admin, sqe::identify(static_cast<uint8_t>(identify_cns::active_namespace_list), 0));
  EXPECT_EQ(c.status, ok);
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < 1024; ++i)
    if (uint32_t v = data_at<uint32_t>(c, 4 * i)) ids.push_back(v);
  return ids;
}

nvme_status read_block(handler_harness& h, fake_queue& io, uint32_t nsid) {
  return h.execute(io, sqe::rw(io_opcode::read, nsid, 0, 1, 512)).status;
}

TEST(ns_visibility_test, a_host_sees_only_its_namespaces_and_only_its_controllers_are_told) {
  handler_harness h;
  make_subsystem(h);
  auto a = h.connect_host(host_a, "aaaaaaaa-1111-4000-8000-000000000001", nqn);
  auto b = h.connect_host(host_b, "bbbbbbbb-2222-4000-8000-000000000002", nqn);
  for (auto* p : {&a, &b}) {
    EXPECT_EQ(active_list(h, *p->admin), std::vector<uint32_t>{1});
    auto id = h.execute(*p->admin, sqe::identify(static_cast<uint8_t>(identify_cns::namespace_), 2));
    ASSERT_EQ(id.status, ok);
    EXPECT_EQ(data_at<uint64_t>(id, 0), 0u) << "NSZE of a namespace the host may not see: zeroes";
    EXPECT_EQ(h.execute(*p->admin, sqe::identify(static_cast<uint8_t>(identify_cns::namespace_id_descriptors), 2)).status,
              invalid_ns);
    EXPECT_EQ(read_block(h, *p->io, 2), invalid_ns);
    EXPECT_EQ(read_block(h, *p->io, 1), ok);
  }
  // Namespace Attribute Changed notices enabled on both.
  for (auto* p : {&a, &b})
    ASSERT_EQ(h.execute(*p->admin, sqe::set_features(static_cast<uint8_t>(feature_id::async_event_configuration),
                                                      aec_bits::namespace_attribute))
                  .status,
              ok);
  uint16_t aer_a = h.submit(*a.admin, sqe::admin(admin_opcode::async_event_request));
  uint16_t aer_b = h.submit(*b.admin, sqe::admin(admin_opcode::async_event_request));

  ASSERT_TRUE(h.target().ns_add_host(nqn, nsid_t{2}, host_a).ok());
  auto ev = h.wait(*a.admin, aer_a);
  EXPECT_TRUE(aer_fields::decode(ev.cqe.dw0.get()).is_notice(aer_notice::namespace_attribute_changed));
  EXPECT_TRUE(h.pending(*b.admin, aer_b)) << "host B's namespaces did not change";
  auto changed = h.execute(*a.admin, sqe::get_log_page(static_cast<uint8_t>(log_page_id::changed_namespace_list), 4096));
  EXPECT_EQ(data_at<uint32_t>(changed, 0), 2u);
  EXPECT_EQ(active_list(h, *a.admin), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(active_list(h, *b.admin), std::vector<uint32_t>{1});
  EXPECT_EQ(read_block(h, *a.io, 2), ok);
  EXPECT_EQ(read_block(h, *b.io, 2), invalid_ns);
  auto id = h.execute(*a.admin, sqe::identify(static_cast<uint8_t>(identify_cns::namespace_), 2));
  EXPECT_EQ(data_at<uint64_t>(id, 0), 128u);
  // The ANA log lists nsid 2 for A only.
  auto ana_a = h.execute(*a.admin, sqe::get_log_page(static_cast<uint8_t>(log_page_id::ana), 4096));
  auto ana_b = h.execute(*b.admin, sqe::get_log_page(static_cast<uint8_t>(log_page_id::ana), 4096));
  EXPECT_EQ(data_at<uint16_t>(ana_a, 8), 2) << "two groups with namespaces for A";
  EXPECT_EQ(data_at<uint16_t>(ana_b, 8), 1) << "one for B";

  EXPECT_FALSE(h.target().ns_add_host(nqn, nsid_t{2}, host_a).ok()) << "added already";
  auto auto_visible = h.target().ns_add_host(nqn, nsid_t{1}, host_a);
  ASSERT_FALSE(auto_visible.ok());
  EXPECT_EQ(auto_visible.err().code, errc::invalid_argument);
  EXPECT_EQ(h.target().ns_add_host(nqn, nsid_t{2}, "not an nqn").err().code, errc::invalid_argument);
  EXPECT_EQ(h.target().ns_remove_host(nqn, nsid_t{2}, host_b).err().code, errc::not_found);
  EXPECT_EQ(h.target().ns_add_host(nqn, nsid_t{3}, host_a).err().code, errc::not_found);

  uint16_t aer_a2 = h.submit(*a.admin, sqe::admin(admin_opcode::async_event_request));
  ASSERT_TRUE(h.target().ns_remove_host(nqn, nsid_t{2}, host_a).ok());
  h.wait(*a.admin, aer_a2);
  EXPECT_EQ(read_block(h, *a.io, 2), invalid_ns);
  EXPECT_EQ(active_list(h, *a.admin), std::vector<uint32_t>{1});
  EXPECT_TRUE(h.pending(*b.admin, aer_b));
}

}  // namespace
}  // namespace nvmfd
