// Get Log Page (NVMe Base 2.0 5.16; the Discovery log, NVMe-oF 1.1 5.3) through the
// handlers, over a fake transport.
#include <gtest/gtest.h>

#include "handler_harness.h"
#include "proto/ana_log.h"
#include "proto/discovery_log.h"
#include "proto/log_pages.h"

namespace nvmfd {
namespace {

constexpr uint8_t lid(log_page_id l) { return static_cast<uint8_t>(l); }

using namespace want;

TEST(get_log_page_test, status_rows) {
  struct row {
    const char* name;
    bool discovery;
    nvme_sqe cmd;
    nvme_status status;
    uint32_t data_len;  // bytes returned on success
  };
  auto with_sgl = [](nvme_sqe s, uint32_t len) {
    s.sgl.length = len;
    return s;
  };
  auto offset_type_index = [](nvme_sqe s) {
    s.cdw14 = 1u << 23;
    return s;
  };
  const row rows[] = {
      {"error information", false, sqe::get_log_page(lid(log_page_id::error_information), 64), ok, 64},
      {"SMART, nsid 0", false, sqe::get_log_page(lid(log_page_id::smart_health), 512), ok, 512},
      {"SMART, broadcast nsid", false, sqe::get_log_page(lid(log_page_id::smart_health), 512, 0, 0xffffffffu), ok,
       512},
      {"SMART, nsid 1 (no per-namespace SMART)", false,
       sqe::get_log_page(lid(log_page_id::smart_health), 512, 0, 1), invalid_field, 0},
      {"firmware slot", false, sqe::get_log_page(lid(log_page_id::firmware_slot), 512), ok, 512},
      {"changed namespace list", false, sqe::get_log_page(lid(log_page_id::changed_namespace_list), 4096), ok, 4096},
      {"ANA without ana_reporting", false, sqe::get_log_page(lid(log_page_id::ana), 4096), invalid_log_page, 0},
      {"unknown log page", false, sqe::get_log_page(0x7f, 64), invalid_log_page, 0},
      {"discovery log on an NVM controller", false, sqe::get_log_page(lid(log_page_id::discovery), 1024),
       invalid_log_page, 0},
      {"offset not dword aligned", false, sqe::get_log_page(lid(log_page_id::smart_health), 64, 2), invalid_field, 0},
      {"offset as an index (OT)", false, offset_type_index(sqe::get_log_page(lid(log_page_id::smart_health), 64)),
       invalid_field, 0},
      {"offset past the end", false, sqe::get_log_page(lid(log_page_id::smart_health), 64, 516), invalid_field, 0},
      {"offset at the end: zeroes", false, sqe::get_log_page(lid(log_page_id::smart_health), 64, 512), ok, 64},
      {"length above the data length", false,
       with_sgl(sqe::get_log_page(lid(log_page_id::smart_health), 512), 256),
       sgl_length, 0},
      {"discovery log", true, sqe::get_log_page(lid(log_page_id::discovery), 4096), ok, 4096},
      {"SMART on a discovery controller", true, sqe::get_log_page(lid(log_page_id::smart_health), 512),
       invalid_log_page, 0},
  };
  handler_harness h;
  auto nvm = h.admin_queue(handler_harness::open_nqn);
  auto disc = h.admin_queue(std::string(discovery_nqn));
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto c = h.execute(r.discovery ? *disc : *nvm, r.cmd);
    EXPECT_EQ(c.status, r.status);
    EXPECT_EQ(c.data.size(), r.data_len);
  }
}

TEST(get_log_page_test, smart_counts_io) {
  handler_harness h;
  auto p = h.connect_pair();
  std::vector<std::byte> block(4096, std::byte{0x5a});
  EXPECT_EQ(h.execute(*p.io, sqe::rw(io_opcode::write, 1, 0, 8, 4096), block).status, ok);
  EXPECT_EQ(h.execute(*p.io, sqe::rw(io_opcode::read, 1, 0, 8, 4096)).status, ok);
  EXPECT_EQ(h.execute(*p.io, sqe::rw(io_opcode::read, 2, 0, 1, 4096)).status, ok);
  auto c = h.execute(*p.admin, sqe::get_log_page(lid(log_page_id::smart_health), 512));
  ASSERT_EQ(c.status, ok);
  // Data units: thousands of 512-byte units, rounded up (Base 2.0 Figure 207).
  EXPECT_EQ(data_at<le64>(c, 32).get(), 1u) << "data units read";
  EXPECT_EQ(data_at<le64>(c, 48).get(), 1u) << "data units written";
  EXPECT_EQ(data_at<le64>(c, 64).get(), 2u) << "host read commands";
  EXPECT_EQ(data_at<le64>(c, 80).get(), 1u) << "host write commands";
}

TEST(get_log_page_test, changed_namespace_list_is_kept_with_rae) {
  handler_harness h;
  auto q = h.admin_queue(handler_harness::open_nqn);
  auto d = ram_disk("unit-changed", 512, 64);
  namespace_params p;
  p.dev = d;
  p.nsid = nsid_t{3};
  ASSERT_TRUE(h.target().add_namespace(handler_harness::open_nqn, p).ok());
  h.run([] {});  // the notice posted to the admin reactor
  const uint8_t changed = lid(log_page_id::changed_namespace_list);
  struct step {
    const char* name;
    bool rae;
    uint32_t first_nsid;
  };
  const step steps[] = {{"with RAE", true, 3}, {"with RAE again", true, 3}, {"without RAE", false, 3},
                        {"after the read that cleared it", false, 0}};
  for (const auto& s : steps) {
    SCOPED_TRACE(s.name);
    auto c = h.execute(*q, sqe::get_log_page(changed, 4096, 0, 0, s.rae));
    ASSERT_EQ(c.status, ok);
    EXPECT_EQ(data_at<le32>(c, 0).get(), s.first_nsid);
    EXPECT_EQ(data_at<le32>(c, 4).get(), 0u);
  }
}

TEST(get_log_page_test, ana_log_shows_the_listener_states) {
  handler_harness h;
  const std::string nqn = "nqn.2024-01.io.nvmfd:unit-ana";
  h.add_subsystem(nqn, {ram_disk("unit-ana-1", 512, 64), ram_disk("unit-ana-2", 512, 64)}, true);
  h.set_ana_state(nqn, 2, ana_state::inaccessible);
  auto q = h.admin_queue(nqn);

  struct row {
    const char* name;
    bool rgo;
    size_t second_descriptor;  // byte offset of group 2's descriptor
  };
  const row rows[] = {{"with NSIDs", false, 16 + 32 + 4}, {"groups only (RGO)", true, 16 + 32}};
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto c = h.execute(*q, sqe::get_log_page(lid(log_page_id::ana), 4096, 0, 0, false,
                                             r.rgo ? ana_lsp_bits::rgo : 0));
    ASSERT_EQ(c.status, ok);
    EXPECT_EQ(data_at<le64>(c, 0).get(), 1u) << "change count: one state change";
    EXPECT_EQ(data_at<le16>(c, 8).get(), 2u) << "groups";
    EXPECT_EQ(data_at<le32>(c, 16).get(), 1u) << "first group";
    EXPECT_EQ(data_at<le32>(c, 20).get(), r.rgo ? 0u : 1u) << "its NSID count";
    EXPECT_EQ(data_at<uint8_t>(c, 32), static_cast<uint8_t>(ana_state::optimized));
    if (!r.rgo) {
      EXPECT_EQ(data_at<le32>(c, 48).get(), 1u) << "its NSID";
    }
    EXPECT_EQ(data_at<le32>(c, r.second_descriptor).get(), 2u) << "second group";
    EXPECT_EQ(data_at<uint8_t>(c, r.second_descriptor + 16), static_cast<uint8_t>(ana_state::inaccessible));
  }
}

TEST(get_log_page_test, discovery_log_rows) {
  struct row {
    const char* name;
    const char* hostnqn;
    std::vector<std::pair<uint8_t, std::string>> entries;  // (SUBTYPE, SUBNQN)
  };
  const uint8_t current = static_cast<uint8_t>(subsystem_type::current_discovery);
  const uint8_t nvm = static_cast<uint8_t>(subsystem_type::nvme);
  const row rows[] = {
      {"a host not on the allow list", handler_harness::host_nqn,
       {{current, std::string(discovery_nqn)}, {nvm, handler_harness::open_nqn}}},
      {"the allowed host",
       handler_harness::allowed_host,
       {{current, std::string(discovery_nqn)}, {nvm, handler_harness::open_nqn}, {nvm, handler_harness::acl_nqn}}},
  };
  handler_harness h;
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto q = h.admin_queue(std::string(discovery_nqn), r.hostnqn);
    auto c = h.execute(*q, sqe::get_log_page(lid(log_page_id::discovery), 4096));
    ASSERT_EQ(c.status, ok);
    ASSERT_EQ(data_at<le64>(c, 8).get(), r.entries.size()) << "numrec";
    for (size_t i = 0; i < r.entries.size(); ++i) {
      discovery_log_entry e{};
      std::memcpy(&e, c.data.data() + sizeof(discovery_log_header) + i * sizeof(e), sizeof(e));
      EXPECT_EQ(e.subtype, r.entries[i].first) << "entry " << i;
      EXPECT_EQ(e.subnqn_text(), r.entries[i].second) << "entry " << i;
      EXPECT_EQ(e.traddr_text(), fake_queue::default_traddr);
      EXPECT_EQ(e.trsvcid_text(), fake_queue::default_trsvcid);
      EXPECT_EQ(e.trtype, static_cast<uint8_t>(transport_type::tcp));
    }
  }
}

TEST(get_log_page_test, discovery_genctr_moves_with_the_configuration) {
  handler_harness h;
  auto q = h.admin_queue(std::string(discovery_nqn));
  auto genctr = [&] {
    auto c = h.execute(*q, sqe::get_log_page(lid(log_page_id::discovery), 1024));
    EXPECT_EQ(c.status, ok);
    return data_at<le64>(c, 0).get();
  };
  uint64_t before = genctr();
  EXPECT_EQ(genctr(), before) << "reading changes nothing";
  ASSERT_TRUE(h.target().add_host(handler_harness::acl_nqn, "nqn.2024-01.io.nvmfd:another-host").ok());
  EXPECT_GT(genctr(), before);
}

}  // namespace
}  // namespace nvmfd
