// Host-side Discovery Log Page decoding: table tests, truncation at every length, bad NUMREC.
#include <gtest/gtest.h>

#include "discovery_log_image.h"
#include "host/discovery_client.h"

namespace nvmfd {
namespace {

using test::entry_spec;
using test::make_log;

TEST(discovery_log_parse, decodes_header_and_every_entry_field) {
  entry_spec a;
  a.treq = treq_bits::sq_flow_control_disable;
  a.portid = 7;
  a.cntlid = 0x1234;
  a.asqsz = 128;
  a.eflags = eflags_bits::explicit_persistent_connection;
  a.traddr = "192.168.10.20";
  a.trsvcid = "4420";
  a.subnqn = "nqn.2016-06.io.nvmfd:a";
  a.sectype = static_cast<uint8_t>(tcp_sectype::tls13);
  entry_spec b;
  b.adrfam = static_cast<uint8_t>(address_family::ipv6);
  b.subtype = static_cast<uint8_t>(subsystem_type::referral);
  b.traddr = "fe80::1";
  b.trsvcid = "8009";
  b.subnqn = std::string(discovery_nqn);
  auto page = make_log(42, {a, b});
  auto log = parse_discovery_log(page);
  ASSERT_TRUE(log.ok()) << log.err().message;
  EXPECT_EQ(log->genctr, 42u);
  EXPECT_EQ(log->numrec, 2u);
  EXPECT_EQ(log->recfmt, 0u);
  ASSERT_EQ(log->entries.size(), 2u);
  const auto& e = log->entries[0];
  EXPECT_EQ(e.trtype, static_cast<uint8_t>(transport_type::tcp));
  EXPECT_EQ(e.adrfam, static_cast<uint8_t>(address_family::ipv4));
  EXPECT_EQ(e.subtype, static_cast<uint8_t>(subsystem_type::nvme));
  EXPECT_EQ(e.treq, treq_bits::sq_flow_control_disable);
  EXPECT_EQ(e.portid, 7u);
  EXPECT_EQ(e.cntlid, 0x1234u);
  EXPECT_EQ(e.asqsz, 128u);
  EXPECT_EQ(e.eflags, eflags_bits::explicit_persistent_connection);
  EXPECT_EQ(e.traddr, "192.168.10.20");
  EXPECT_EQ(e.trsvcid, "4420");
  EXPECT_EQ(e.subnqn, "nqn.2016-06.io.nvmfd:a");
  EXPECT_EQ(e.sectype, static_cast<uint8_t>(tcp_sectype::tls13));
  EXPECT_FALSE(e.is_referral());
  const auto& r = log->entries[1];
  EXPECT_TRUE(r.is_referral());
  auto t = r.trid();
  EXPECT_EQ(t.trtype, "tcp");
  EXPECT_EQ(t.adrfam, "ipv6");
  EXPECT_EQ(t.traddr, "fe80::1");
  EXPECT_EQ(t.trsvcid, "8009");
  EXPECT_EQ(t.subnqn, discovery_nqn);
}

TEST(discovery_log_parse, trims_space_and_nul_padding_alike) {
  entry_spec spdk;
  spdk.pad = ' ';
  entry_spec linux_nvmet;
  linux_nvmet.pad = '\0';
  auto log = parse_discovery_log(make_log(1, {spdk, linux_nvmet}));
  ASSERT_TRUE(log.ok()) << log.err().message;
  EXPECT_EQ(log->entries[0], log->entries[1]);
  EXPECT_EQ(log->entries[0].traddr, "127.0.0.1");
  EXPECT_EQ(log->entries[0].trsvcid, "4420");
}

TEST(discovery_log_parse, full_width_address_fields_are_kept) {
  entry_spec s;
  s.traddr = std::string(256, 'a');
  s.trsvcid = std::string(32, '9');
  auto log = parse_discovery_log(make_log(1, {s}));
  ASSERT_TRUE(log.ok()) << log.err().message;
  EXPECT_EQ(log->entries[0].traddr.size(), 256u);
  EXPECT_EQ(log->entries[0].trsvcid.size(), 32u);
}

TEST(discovery_log_parse, sectype_only_for_tcp) {
  entry_spec s;
  s.trtype = static_cast<uint8_t>(transport_type::rdma);
  s.sectype = 3;  // the RDMA QPTYPE byte, not a SECTYPE
  auto log = parse_discovery_log(make_log(1, {s}));
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->entries[0].sectype, 0u);
  EXPECT_EQ(log->entries[0].trid().trtype, "rdma");
}

TEST(discovery_log_parse, empty_log_is_just_a_header) {
  auto log = parse_discovery_log(make_log(9, {}));
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->genctr, 9u);
  EXPECT_TRUE(log->entries.empty());
}

TEST(discovery_log_parse, every_truncation_is_an_error) {
  auto page = make_log(3, {entry_spec{}, entry_spec{}});
  for (size_t n = 0; n < page.size(); ++n) {
    auto log = parse_discovery_log(std::span(page).first(n));
    ASSERT_FALSE(log.ok()) << "cut at " << n;
    EXPECT_EQ(log.err().code, errc::protocol_error);
  }
  EXPECT_TRUE(parse_discovery_log(page).ok());
}

TEST(discovery_log_parse, header_alone_needs_1024_bytes) {
  auto page = make_log(3, {});
  for (size_t n = 0; n < page.size(); ++n)
    EXPECT_FALSE(parse_discovery_log_header(std::span(page).first(n)).ok()) << n;
  EXPECT_TRUE(parse_discovery_log_header(page).ok());
}

TEST(discovery_log_parse, numrec_past_the_data_names_both) {
  auto page = make_log(3, {entry_spec{}}, 2);
  auto log = parse_discovery_log(page);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.err().code, errc::protocol_error);
  EXPECT_NE(log.err().message.find("NUMREC 2"), std::string::npos) << log.err().message;
  EXPECT_NE(log.err().message.find("2048"), std::string::npos) << log.err().message;
}

TEST(discovery_log_parse, numrec_above_the_limit_is_refused_before_sizing) {
  for (uint64_t bad : {discovery_max_records + 1, uint64_t{1} << 40, ~uint64_t{0}}) {
    auto page = make_log(3, {}, bad);
    auto hdr = parse_discovery_log_header(page);
    ASSERT_FALSE(hdr.ok()) << bad;
    EXPECT_EQ(hdr.err().code, errc::protocol_error);
    EXPECT_FALSE(parse_discovery_log(page).ok());
  }
  auto at_limit = make_log(3, {}, discovery_max_records);
  EXPECT_TRUE(parse_discovery_log_header(at_limit).ok());
}

TEST(discovery_log_parse, unterminated_subnqn_names_the_entry) {
  auto page = make_log(3, {entry_spec{}, entry_spec{}});
  std::memset(page.data() + discovery_entry_offset(1) + offsetof(discovery_log_entry, subnqn), 'x', 256);
  auto log = parse_discovery_log(page);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.err().message.find("entry 1"), std::string::npos) << log.err().message;
  EXPECT_NE(log.err().message.find("SUBNQN"), std::string::npos) << log.err().message;
}

TEST(discovery_log_parse, entry_cut_short) {
  auto page = make_log(3, {entry_spec{}});
  auto raw = std::span(page).subspan(discovery_entry_offset(0));
  for (size_t n = 0; n < raw.size(); ++n) EXPECT_FALSE(parse_discovery_entry(raw.first(n)).ok()) << n;
  EXPECT_TRUE(parse_discovery_entry(raw).ok());
}

}  // namespace
}  // namespace nvmfd
