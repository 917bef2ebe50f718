// Identify (NVMe Base 2.0 5.17) through the handlers, over a fake transport.
#include <gtest/gtest.h>

#include "handler_harness.h"
#include "proto/identify.h"

namespace nvmfd {
namespace {

constexpr uint8_t cns_namespace = 0x00, cns_controller = 0x01, cns_active_list = 0x02, cns_ns_descriptors = 0x03,
                  cns_io_cs_controller = 0x06;

identify_controller controller_data(const fake_completion& c) {
  identify_controller id{};
  EXPECT_EQ(c.data.size(), sizeof(id));
  std::memcpy(&id, c.data.data(), std::min(c.data.size(), sizeof(id)));
  return id;
}

TEST(identify_test, controller_fields) {
  struct row {
    const char* name;
    bool discovery;
    bool ana;
    queue_limits limits;
    uint8_t cntrltype, mdts;
    uint16_t maxcmd;
    uint32_t ioccsz, nn, oaes, anagrpmax;
    uint8_t cmic;
  };
  queue_limits big;
  big.max_io_size = 1 << 20;
  big.in_capsule_data_size = 8192;
  big.max_queue_depth = 64;
  big.kas = 5;
  queue_limits small_aq;
  small_aq.max_aq_depth = 32;
  const row rows[] = {
      // MDTS in 4 KiB units as a power of two: 128 KiB -> 5; IOCCSZ: (64 + ICD) / 16.
      {"nvm, default limits", false, false, {}, 1, 5, 128, 260, 8, 1u << 8, 0, 0x3},
      {"nvm, 1 MiB / 8 KiB / depth 64", false, false, big, 1, 8, 64, 516, 8, 1u << 8, 0, 0x3},
      {"nvm, ana reporting", false, true, {}, 1, 5, 128, 260, 8, (1u << 8) | (1u << 11), 8, 0x3 | 0x8},
      {"discovery, aq depth 32", true, false, small_aq, 2, 5, 32, 0, 0, 1u << 31, 0, 0},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    handler_harness h;
    std::string nqn = r.discovery ? std::string(discovery_nqn) : handler_harness::open_nqn;
    if (r.ana) {
      auto s = h.subsystem_of(nqn);
      std::lock_guard lk(h.target().mu());
      s->ana_reporting = true;
    }
    auto q = h.make_queue(r.limits);
    uint16_t cntlid = h.connect_admin(*q, nqn);
    auto c = h.execute(*q, sqe::identify(cns_controller));
    ASSERT_EQ(c.status, want::ok);
    auto id = controller_data(c);
    EXPECT_EQ(id.cntrltype, r.cntrltype);
    EXPECT_EQ(id.mdts, r.mdts);
    EXPECT_EQ(id.maxcmd.get(), r.maxcmd);
    EXPECT_EQ(id.ioccsz.get(), r.ioccsz);
    EXPECT_EQ(id.kas.get(), r.limits.kas);
    EXPECT_EQ(id.nn.get(), r.nn);
    EXPECT_EQ(id.oaes.get(), r.oaes);
    EXPECT_EQ(id.anagrpmax.get(), r.anagrpmax);
    EXPECT_EQ(id.cmic, r.cmic);
    EXPECT_EQ(id.cntlid.get(), cntlid);
    EXPECT_EQ(id.aerl, 3);
    EXPECT_EQ(std::string(id.subnqn.data()), nqn);
    if (!r.discovery) {
      EXPECT_EQ(std::string(id.sn.data(), 8), "UNIT0001");
      EXPECT_EQ(id.oncs.get(), oncs_bits::dataset_management | oncs_bits::write_zeroes | oncs_bits::reservations);
      EXPECT_EQ(id.vwc, 0) << "RAM namespaces have no volatile cache";
    }
  }
}

TEST(identify_test, cns_rows) {
  struct row {
    const char* name;
    bool discovery;
    uint8_t cns;
    uint32_t nsid;
    uint8_t csi;
    nvme_status status;
    // For a successful command: little-endian dwords expected at byte offsets.
    std::vector<std::pair<size_t, uint64_t>> qwords;  // (offset, value) of 8-byte fields
    std::vector<std::pair<size_t, uint32_t>> dwords;
    bool all_zero = false;
  };
  using namespace want;
  const row rows[] = {
      // Identify Namespace: NSZE at 0, LBA format 0 (LBADS at byte 130).
      {"namespace 1 (512 x 2048)", false, cns_namespace, 1, 0, ok, {{0, 2048}}, {{128, 9u << 16}}},
      {"namespace 2 (4096 x 64)", false, cns_namespace, 2, 0, ok, {{0, 64}}, {{128, 12u << 16}}},
      {"inactive namespace: zeroes", false, cns_namespace, 5, 0, ok, {}, {}, true},
      {"broadcast: zeroes", false, cns_namespace, 0xffffffffu, 0, ok, {}, {}, true},
      {"nsid 0", false, cns_namespace, 0, 0, invalid_ns},
      {"nsid above max_namespaces", false, cns_namespace, 9, 0, invalid_ns},
      {"active list from 0", false, cns_active_list, 0, 0, ok, {}, {{0, 1}, {4, 2}, {8, 0}}},
      {"active list after 1", false, cns_active_list, 1, 0, ok, {}, {{0, 2}, {4, 0}}},
      {"active list after 2: empty", false, cns_active_list, 2, 0, ok, {}, {}, true},
      {"active list from FFFFFFFEh", false, cns_active_list, 0xfffffffeu, 0, invalid_ns},
      {"I/O CS controller, NVM", false, cns_io_cs_controller, 0, 0, ok, {}, {}, true},
      {"I/O CS controller, zoned", false, cns_io_cs_controller, 0, 2, invalid_field},
      // NS ID descriptors: NGUID (NIDT 2, NIDL 16) then UUID (NIDT 3) for a RAM namespace.
      {"NS ID descriptors of namespace 1", false, cns_ns_descriptors, 1, 0, ok, {}, {{0, 0x1002}}},
      {"NS ID descriptors of an inactive namespace", false, cns_ns_descriptors, 3, 0, invalid_ns},
      {"unknown CNS", false, 0x1c, 0, 0, invalid_field},
      {"discovery controller, namespace", true, cns_namespace, 1, 0, invalid_field},
      {"discovery controller, active list", true, cns_active_list, 0, 0, invalid_field},
  };
  handler_harness h;
  auto nvm = h.admin_queue(handler_harness::open_nqn);
  auto disc = h.admin_queue(std::string(discovery_nqn));
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    auto c = h.execute(r.discovery ? *disc : *nvm, sqe::identify(r.cns, r.nsid, r.csi));
    EXPECT_EQ(c.status, r.status);
    if (!r.status.ok()) {
      EXPECT_TRUE(c.data.empty()) << "no data on a failed command";
      continue;
    }
    ASSERT_EQ(c.data.size(), identify_data_size);
    for (auto [off, v] : r.qwords) EXPECT_EQ(data_at<le64>(c, off).get(), v) << "offset " << off;
    for (auto [off, v] : r.dwords) EXPECT_EQ(data_at<le32>(c, off).get(), v) << "offset " << off;
    if (r.all_zero) {
      EXPECT_TRUE(std::all_of(c.data.begin(), c.data.end(), [](std::byte b) { return b == std::byte{0}; }));
    }
  }
}

TEST(identify_test, short_transfer_gets_the_first_bytes) {
  handler_harness h;
  auto q = h.admin_queue(handler_harness::open_nqn);
  auto whole = h.execute(*q, sqe::identify(cns_controller));
  auto part = h.execute(*q, sqe::identify(cns_controller, 0, 0, 512));
  ASSERT_EQ(part.status, want::ok);
  ASSERT_EQ(part.data.size(), 512u);
  EXPECT_TRUE(std::equal(part.data.begin(), part.data.end(), whole.data.begin()));
}

}  // namespace
}  // namespace nvmfd
