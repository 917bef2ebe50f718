#include "proto/identify.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "proto/wire.h"

namespace nvmfd {
namespace {

TEST(identify, decode_fields) {
  nvme_sqe sqe{};
  sqe.nsid = 0x11223344;
  sqe.cdw10 = 0xabcd0003;  // CNTID abcd, CNS 03
  sqe.cdw11 = 0x02001234;  // CSI 02, CNSSID 1234
  sqe.cdw14 = 0xffffff85;  // UUID index in bits 6:0
  const auto f = decode_identify(sqe);
  EXPECT_EQ(f.cns, 0x03);
  EXPECT_EQ(f.cntid, 0xabcd);
  EXPECT_EQ(f.cnssid, 0x1234);
  EXPECT_EQ(f.csi, 0x02);
  EXPECT_EQ(f.uuid_index, 0x05);
  EXPECT_EQ(f.nsid, 0x11223344u);
  EXPECT_EQ(static_cast<identify_cns>(f.cns), identify_cns::namespace_id_descriptors);
}

TEST(identify, flbas_index_round_trip) {
  for (uint8_t i = 0; i < 64; ++i) {
    for (bool ext : {false, true}) {
      identify_namespace ns{};
      ns.flbas = identify_namespace::make_flbas(i, ext);
      EXPECT_EQ(ns.flbas_format_index(), i);
      EXPECT_EQ(ns.flbas_extended_metadata(), ext);
      EXPECT_EQ(ns.flbas & 0x80, 0);
    }
  }
  identify_namespace ns{};
  ns.flbas = 0x21;  // bits 6:5 = 01b -> index 0x11
  EXPECT_EQ(ns.flbas_format_index(), 0x11);
  ns.lbaf[0x11].lbads = 12;
  EXPECT_EQ(ns.current_format().lba_size_bytes(), 4096u);
}

TEST(identify, controller_ascii_and_type) {
  identify_controller id{};
  EXPECT_TRUE(set_padded(id.sn, "SN1", ' '));
  EXPECT_EQ(std::string_view(id.sn.data(), id.sn.size()), "SN1                 ");
  EXPECT_EQ(read_padded(id.sn), "SN1");
  EXPECT_FALSE(set_padded(id.fr, "123456789", ' '));
  EXPECT_EQ(std::string_view(id.fr.data(), 8), "12345678");
  id.cntrltype = 2;
  EXPECT_EQ(id.type(), controller_type::discovery);
  // The static_asserts check every offset; spot-check through the byte image too.
  id.kas = 0x1234;
  id.subnqn[0] = 'n';
  auto bytes = wire_bytes(id);
  EXPECT_EQ(bytes[320], std::byte{0x34});
  EXPECT_EQ(bytes[321], std::byte{0x12});
  EXPECT_EQ(bytes[768], std::byte{'n'});
}

std::array<uint8_t, 8> eui{1, 2, 3, 4, 5, 6, 7, 8};
std::array<uint8_t, 16> guid{0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                             0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
std::array<uint8_t, 16> uid{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                            0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};

TEST(ns_id_descriptors, round_trip_all) {
  std::vector<std::byte> buf(identify_data_size, std::byte{0xaa});
  const size_t used = build_ns_id_descriptors(buf, eui.data(), guid.data(), uid.data(), true);
  EXPECT_EQ(used, 4u + 8 + 4 + 16 + 4 + 16 + 4 + 1);
  for (size_t i = used; i < buf.size(); ++i) ASSERT_EQ(buf[i], std::byte{0}) << i;
  EXPECT_EQ(buf[0], std::byte{1});   // NIDT eui64
  EXPECT_EQ(buf[1], std::byte{8});   // NIDL
  auto r = parse_ns_id_descriptors(buf);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->eui64, eui);
  EXPECT_EQ(r->nguid, guid);
  EXPECT_EQ(r->uuid, uid);
  EXPECT_EQ(r->csi, uint8_t{0});
}

TEST(ns_id_descriptors, subsets) {
  std::vector<std::byte> buf(identify_data_size);
  EXPECT_EQ(build_ns_id_descriptors(buf, nullptr, nullptr, nullptr, false), 0u);
  auto r = parse_ns_id_descriptors(buf);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->eui64 || r->nguid || r->uuid || r->csi);

  EXPECT_EQ(build_ns_id_descriptors(buf, nullptr, nullptr, uid.data(), false), 20u);
  r = parse_ns_id_descriptors(buf);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->eui64 || r->nguid || r->csi);
  EXPECT_EQ(r->uuid, uid);
}

TEST(ns_id_descriptors, truncation_fails_cleanly) {
  std::vector<std::byte> buf(identify_data_size);
  const size_t used = build_ns_id_descriptors(buf, eui.data(), guid.data(), uid.data(), true);
  const std::vector<size_t> boundaries{0, 12, 32, 52, used};
  for (size_t len = 0; len <= used; ++len) {
    auto r = parse_ns_id_descriptors(std::span<const std::byte>(buf).first(len));
    const bool boundary = std::find(boundaries.begin(), boundaries.end(), len) != boundaries.end();
    EXPECT_EQ(r.ok(), boundary) << "len " << len;
  }
}

TEST(ns_id_descriptors, malformed) {
  std::vector<std::byte> buf(identify_data_size);
  build_ns_id_descriptors(buf, eui.data(), nullptr, nullptr, false);
  buf[1] = std::byte{16};  // EUI64 with NIDL 16
  EXPECT_FALSE(parse_ns_id_descriptors(buf).ok());

  // A UUID descriptor whose 16 bytes run past the end of the 4096-byte list.
  std::fill(buf.begin(), buf.end(), std::byte{0});
  for (size_t at = 0; at + 19 < 4092; at += 19) {  // unknown type 0x7f, 15 bytes each
    buf[at] = std::byte{0x7f};
    buf[at + 1] = std::byte{15};
  }
  buf[4085] = std::byte{3};
  buf[4086] = std::byte{16};
  EXPECT_FALSE(parse_ns_id_descriptors(buf).ok());
  std::vector<std::byte> tail(buf.begin() + 4085, buf.end());
  EXPECT_FALSE(parse_ns_id_descriptors(tail).ok());

  std::vector<std::byte> half_header{std::byte{1}, std::byte{8}};
  EXPECT_FALSE(parse_ns_id_descriptors(half_header).ok());

  // Duplicate NGUID.
  std::fill(buf.begin(), buf.end(), std::byte{0});
  build_ns_id_descriptors(buf, nullptr, guid.data(), nullptr, false);
  std::memcpy(buf.data() + 20, buf.data(), 20);
  EXPECT_FALSE(parse_ns_id_descriptors(buf).ok());

  // Wrong NIDL for CSI.
  std::fill(buf.begin(), buf.end(), std::byte{0});
  build_ns_id_descriptors(buf, nullptr, nullptr, nullptr, true);
  buf[1] = std::byte{2};
  EXPECT_FALSE(parse_ns_id_descriptors(buf).ok());
}

TEST(ns_id_descriptors, unknown_type_skipped) {
  std::vector<std::byte> buf(identify_data_size);
  buf[0] = std::byte{0x20};  // a type from a later revision, 3 bytes
  buf[1] = std::byte{3};
  const size_t used = build_ns_id_descriptors(
      std::span<std::byte>(buf).subspan(0), nullptr, nullptr, nullptr, false);
  EXPECT_EQ(used, 0u);  // the builder zeroed it again
  buf[0] = std::byte{0x20};
  buf[1] = std::byte{3};
  buf[7] = std::byte{1};  // EUI64 descriptor at 7
  buf[8] = std::byte{8};
  for (int i = 0; i < 8; ++i) buf[11 + i] = std::byte(eui[i]);
  auto r = parse_ns_id_descriptors(buf);
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->eui64, eui);
}

}  // namespace
}  // namespace nvmfd
