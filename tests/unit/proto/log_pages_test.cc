#include "proto/log_pages.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace nvmfd {
namespace {

nvme_sqe get_log_sqe(uint32_t cdw10, uint32_t cdw11, uint32_t cdw12, uint32_t cdw13,
                     uint32_t cdw14) {
  nvme_sqe sqe{};
  sqe.opcode = static_cast<uint8_t>(admin_opcode::get_log_page);
  sqe.cdw10 = cdw10;
  sqe.cdw11 = cdw11;
  sqe.cdw12 = cdw12;
  sqe.cdw13 = cdw13;
  sqe.cdw14 = cdw14;
  return sqe;
}

TEST(get_log_page, decode_fields) {
  // LID 0x70, LSP 0x55, RAE, NUMDL 0x00ff; NUMDU 0x0001, LSI 0xbeef.
  const auto f = decode_get_log_page(
      get_log_sqe(0x00ffu << 16 | 1u << 15 | 0x55u << 8 | 0x70, 0xbeefu << 16 | 0x0001,
                  0x89abcdef, 0x01234567, 0x02u << 24 | 1u << 23 | 0x7f));
  EXPECT_EQ(f.lid, 0x70);
  EXPECT_EQ(static_cast<log_page_id>(f.lid), log_page_id::discovery);
  EXPECT_EQ(f.lsp, 0x55);
  EXPECT_TRUE(f.rae);
  EXPECT_EQ(f.numd, 0x100ffu + 1);
  EXPECT_EQ(f.length_bytes(), (0x100ffu + 1) * 4);
  EXPECT_EQ(f.lsi, 0xbeef);
  EXPECT_EQ(f.offset_bytes, 0x0123456789abcdefull);
  EXPECT_TRUE(f.ot);
  EXPECT_EQ(f.uuid_index, 0x7f);
  EXPECT_EQ(f.csi, 0x02);
}

TEST(get_log_page, numd_extremes) {
  auto f = decode_get_log_page(get_log_sqe(0x02, 0, 0, 0, 0));
  EXPECT_EQ(f.numd, 1u);
  EXPECT_EQ(f.length_bytes(), 4u);
  EXPECT_FALSE(f.rae);
  EXPECT_EQ(f.lsp, 0);
  f = decode_get_log_page(get_log_sqe(0xffffffffu, 0x0000ffff, 0, 0, 0));
  EXPECT_EQ(f.numd, uint64_t{1} << 32);        // does not wrap to 0
  EXPECT_EQ(f.length_bytes(), uint64_t{1} << 34);
  EXPECT_EQ(f.lsp, 0x7f);
  EXPECT_TRUE(f.rae);
}

TEST(get_log_page, offset_alignment) {
  auto f = decode_get_log_page(get_log_sqe(0x02, 0, 6, 0, 0));
  EXPECT_FALSE(f.offset_aligned());
  f = decode_get_log_page(get_log_sqe(0x02, 0, 8, 0, 0));
  EXPECT_TRUE(f.offset_aligned());
  f = decode_get_log_page(get_log_sqe(0x02, 0, 6, 0, 1u << 23));
  EXPECT_TRUE(f.offset_aligned());  // an index, not bytes
}

TEST(log_pages, le128_counters) {
  smart_health_log s{};
  set_le128(s.data_units_read, 0x0102030405060708ull);
  EXPECT_EQ(s.data_units_read[0], 0x08);
  EXPECT_EQ(s.data_units_read[7], 0x01);
  for (int i = 8; i < 16; ++i) EXPECT_EQ(s.data_units_read[i], 0);
  bool sat = true;
  EXPECT_EQ(get_le128_low(s.data_units_read, &sat), 0x0102030405060708ull);
  EXPECT_FALSE(sat);
  s.data_units_read[15] = 1;
  get_le128_low(s.data_units_read, &sat);
  EXPECT_TRUE(sat);
  auto bytes = wire_bytes(s);
  EXPECT_EQ(bytes[32], std::byte{0x08});
}

TEST(discovery_log, entry_text_padding) {
  discovery_log_entry e{};
  EXPECT_TRUE(set_discovery_entry_text(e, "nqn.2016-06.io.spdk:cnode1", "10.0.0.1", "4420"));
  EXPECT_EQ(e.traddr[8], ' ');
  EXPECT_EQ(e.traddr[255], ' ');
  EXPECT_EQ(e.trsvcid[4], ' ');
  EXPECT_EQ(e.trsvcid[31], ' ');
  EXPECT_EQ(e.subnqn[26], '\0');
  EXPECT_EQ(e.subnqn[255], '\0');
  EXPECT_EQ(e.traddr_text(), "10.0.0.1");
  EXPECT_EQ(e.trsvcid_text(), "4420");
  EXPECT_EQ(e.subnqn_text(), "nqn.2016-06.io.spdk:cnode1");

  // NUL padding, as Linux nvmet sends it, reads the same.
  EXPECT_TRUE(set_discovery_entry_text(e, "nqn.x", "fe80::1", "8009", '\0'));
  EXPECT_EQ(e.traddr[7], '\0');
  EXPECT_EQ(e.traddr_text(), "fe80::1");
  EXPECT_EQ(e.trsvcid_text(), "8009");

  // Too long: truncated, subnqn keeps its terminating NUL.
  EXPECT_FALSE(set_discovery_entry_text(e, std::string(300, 'a'), "a", "1"));
  EXPECT_EQ(e.subnqn[255], '\0');
  EXPECT_EQ(e.subnqn_text().size(), 255u);
  EXPECT_FALSE(set_discovery_entry_text(e, "n", "a", std::string(33, '1')));
  EXPECT_EQ(e.trsvcid_text().size(), 32u);
}

TEST(discovery_log, layout) {
  EXPECT_EQ(discovery_log_size(0), 1024u);
  EXPECT_EQ(discovery_log_size(3), 4096u);
  EXPECT_EQ(discovery_entry_offset(1), 2048u);
  discovery_log_entry e{};
  e.trtype = static_cast<uint8_t>(transport_type::tcp);
  e.adrfam = static_cast<uint8_t>(address_family::ipv4);
  e.subtype = static_cast<uint8_t>(subsystem_type::nvme);
  e.treq = treq_bits::secure_channel_not_required;
  e.portid = 1;
  e.cntlid = cntlid_dynamic;
  e.asqsz = 32;
  e.tsas[0] = static_cast<uint8_t>(tcp_sectype::none);
  auto b = wire_bytes(e);
  EXPECT_EQ(b[0], std::byte{3});
  EXPECT_EQ(b[1], std::byte{1});
  EXPECT_EQ(b[2], std::byte{2});
  EXPECT_EQ(b[3], std::byte{2});
  EXPECT_EQ(b[6], std::byte{0xff});
  EXPECT_EQ(b[8], std::byte{32});
}

TEST(discovery_log, decode_truncation) {
  discovery_log_entry e{};
  set_discovery_entry_text(e, "nqn.2016-06.io.spdk:cnode1", "10.0.0.1", "4420");
  std::vector<std::byte> buf(sizeof e);
  encode_wire(e, buf);
  for (size_t len = 0; len < buf.size(); ++len)
    EXPECT_FALSE(decode_wire<discovery_log_entry>(std::span<const std::byte>(buf).first(len)));
  auto d = decode_wire<discovery_log_entry>(buf);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->traddr_text(), "10.0.0.1");

  discovery_log_header h{};
  h.genctr = 7;
  h.numrec = 2;
  std::vector<std::byte> hb(sizeof h);
  encode_wire(h, hb);
  for (size_t len = 0; len < hb.size(); ++len)
    EXPECT_FALSE(decode_wire<discovery_log_header>(std::span<const std::byte>(hb).first(len)));
  EXPECT_EQ(decode_wire<discovery_log_header>(hb)->numrec.get(), 2u);
}

TEST(ana_log, layout) {
  EXPECT_EQ(ana_log_size(2, 3), 16u + 64 + 12);
  ana_group_descriptor g{};
  g.state = 0xf2;  // high nibble reserved
  EXPECT_EQ(g.ana(), ana_state::non_optimized);
  g.grpid = 5;
  g.nnsids = 1;
  auto b = wire_bytes(g);
  EXPECT_EQ(b[0], std::byte{5});
  EXPECT_EQ(b[4], std::byte{1});
  EXPECT_EQ(b[16], std::byte{0xf2});
}

TEST(log_pages, error_entry_layout) {
  error_information_entry e{};
  e.status = nvme_status::generic(sc_generic::invalid_field).encode();
  e.parameter_error_location = 0xffff;
  auto b = wire_bytes(e);
  EXPECT_EQ(b[12], std::byte{0x04});  // SC 02h in bits 8:1
  EXPECT_EQ(b[13], std::byte{0x80});  // DNR
  EXPECT_EQ(b[14], std::byte{0xff});
}

}  // namespace
}  // namespace nvmfd
