#include "proto/fabrics.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace nvmfd {
namespace {

nvme_sqe fabrics_sqe(fabrics_type t) {
  nvme_sqe sqe{};
  sqe.opcode = static_cast<uint8_t>(admin_opcode::fabrics);
  sqe.nsid.raw[0] = static_cast<uint8_t>(t);
  return sqe;
}

TEST(connect, decode_from_dwords) {
  auto sqe = fabrics_sqe(fabrics_type::connect);
  sqe.cdw10 = 0x0005u << 16 | 0x0000;       // QID 5, RECFMT 0
  sqe.cdw11 = 0x04u << 16 | 0x007f;          // CATTR 04h, SQSIZE 127
  sqe.cdw12 = 15000;                         // KATO
  const auto f = decode_connect(sqe);
  EXPECT_EQ(sqe.fctype(), static_cast<uint8_t>(fabrics_type::connect));
  EXPECT_EQ(f.recfmt, 0);
  EXPECT_EQ(f.qid, qid_t{5});
  EXPECT_EQ(f.sqsize, 127);
  EXPECT_EQ(f.cattr, 0x04);
  EXPECT_TRUE(f.sq_flow_control_disabled());
  EXPECT_EQ(f.kato_ms, 15000u);

  sqe.cdw10 = 0x0000u << 16 | 0x0001;
  sqe.cdw11 = 0xffff;
  EXPECT_EQ(decode_connect(sqe).recfmt, 1);
  EXPECT_EQ(decode_connect(sqe).sqsize, 0xffff);
  EXPECT_FALSE(decode_connect(sqe).sq_flow_control_disabled());
}

TEST(connect, offsets_for_ipo) {
  EXPECT_EQ(connect_sqe_offset::recfmt, 40);
  EXPECT_EQ(connect_sqe_offset::qid, 42);
  EXPECT_EQ(connect_sqe_offset::sqsize, 44);
  EXPECT_EQ(connect_sqe_offset::cattr, 46);
  EXPECT_EQ(connect_sqe_offset::kato, 48);
  EXPECT_EQ(connect_data_offset::hostid, 0);
  EXPECT_EQ(connect_data_offset::cntlid, 16);
  EXPECT_EQ(connect_data_offset::subnqn, 256);
  EXPECT_EQ(connect_data_offset::hostnqn, 512);
  EXPECT_EQ(connect_response_invalid_param(true, connect_data_offset::hostnqn), 0x10200u);
  EXPECT_EQ(connect_response_invalid_param(false, connect_sqe_offset::sqsize), 44u);
  EXPECT_EQ(connect_response_success(cntlid_t{0x1234}), 0x1234u);
  EXPECT_EQ(connect_response_success(cntlid_t{1}, authreq_bits::atr), 0x20001u);  // Linux: AUTHREQ_ATR = 1 << 17
}

TEST(connect, data_round_trip_and_truncation) {
  connect_data d{};
  for (int i = 0; i < 16; ++i) d.hostid[i] = static_cast<uint8_t>(i + 1);
  d.cntlid = 0xffff;
  set_padded(d.subnqn, "nqn.2016-06.io.spdk:cnode1", '\0');
  set_padded(d.hostnqn, "nqn.2014-08.org.nvmexpress:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
             '\0');
  std::vector<std::byte> buf(sizeof d);
  encode_wire(d, buf);
  EXPECT_EQ(buf[16], std::byte{0xff});
  EXPECT_EQ(buf[256], std::byte{'n'});
  for (size_t len = 0; len < buf.size(); ++len)
    EXPECT_FALSE(decode_connect_data(std::span<const std::byte>(buf).first(len))) << len;
  auto r = decode_connect_data(buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->hostid[15], 16);
  EXPECT_EQ(r->cntlid.get(), 0xffff);
  EXPECT_EQ(nqn_from_field(r->subnqn), "nqn.2016-06.io.spdk:cnode1");
  EXPECT_TRUE(validate_nqn(nqn_from_field(r->hostnqn)).ok());
}

TEST(nqn, from_field_without_nul) {
  std::array<char, nqn_field_size> f;
  f.fill('a');
  EXPECT_EQ(nqn_from_field(f).size(), 256u);
  EXPECT_FALSE(validate_nqn(nqn_from_field(f)).ok());
  f[3] = '\0';
  EXPECT_EQ(nqn_from_field(f), "aaa");
}

TEST(nqn, validation_table) {
  struct row {
    std::string nqn;
    bool ok;
  };
  const std::string long_ok = "nqn.2016-06.io.spdk:" + std::string(223 - 20, 'x');
  const std::vector<row> rows{
      {"nqn.2016-06.io.spdk:cnode1", true},
      {"nqn.2014-08.org.nvmexpress:uuid:0f8fad5b-d9cb-469f-a165-70867728950e", true},
      {"nqn.2014-08.org.nvmexpress:uuid:0F8FAD5B-D9CB-469F-A165-70867728950E", true},
      {"nqn.2014-08.org.nvmexpress.discovery", true},
      {"nqn.2014-08.com.example:nvme:nvm-subsystem-sn-d78432", true},
      {"nqn.2016-06.io.spdk", true},                  // Linux nvmet accepts names without ':'
      {"nqn.2019-10.com.ex-ample.a1:x y/z", true},
      {long_ok, true},
      {long_ok + "x", false},                         // 224 bytes
      {"", false},
      {"foo", false},
      {"nqn.", false},
      {"nqn.2016-6.io:x", false},
      {"nqn.2016-06io.spdk:x", false},
      {"nqn.16-06.io.spdk:x", false},
      {"nqn.2016-06.:x", false},                       // empty domain
      {"nqn.2016-06.io..spdk:x", false},               // empty label
      {"nqn.2016-06.io.spdk.:x", false},
      {"nqn.2016-06.io_spdk:x", false},
      {"nqn.2016-06.io.spdk:", false},                  // empty user string
      {"nqn.2014-08.org.nvmexpress:uuid:", false},
      {"nqn.2014-08.org.nvmexpress:uuid:0f8fad5b-d9cb-469f-a165-70867728950", false},
      {"nqn.2014-08.org.nvmexpress:uuid:0f8fad5bXd9cb-469f-a165-70867728950e", false},
      {"nqn.2014-08.org.nvmexpress:uuid:0f8fad5b-d9cb-469f-a165-70867728950g", false},
      {std::string("nqn.2016-06.io.spdk:a\nb"), false},
      {std::string("nqn.2016-06.io.spdk:a\0b", 23), false},
      {"NQN.2016-06.io.spdk:x", false},
  };
  for (const auto& r : rows) {
    auto v = validate_nqn(r.nqn);
    EXPECT_EQ(v.ok(), r.ok) << "'" << r.nqn << "'";
    if (!v.ok()) {
      EXPECT_EQ(v.err().code, errc::invalid_argument);
    }
  }
  EXPECT_TRUE(is_discovery_nqn(discovery_nqn));
  EXPECT_FALSE(is_discovery_nqn("nqn.2016-06.io.spdk:cnode1"));
}

TEST(property, decode_from_dwords) {
  auto sqe = fabrics_sqe(fabrics_type::property_set);
  sqe.cdw10 = 0xffffff01;  // ATTRIB: size code 1 in bits 2:0; bytes 41..43 reserved
  sqe.cdw11 = property_offset::cc;
  sqe.cdw12 = 0x00460001;
  sqe.cdw13 = 0x12345678;
  const auto f = decode_property(sqe);
  EXPECT_EQ(f.size_code, 1);
  EXPECT_EQ(f.size_bytes(), 8);
  EXPECT_EQ(f.offset, 0x14u);
  EXPECT_EQ(f.value, 0x1234567800460001ull);
  sqe.cdw10 = 0;
  EXPECT_EQ(decode_property(sqe).size_bytes(), 4);
  sqe.cdw10 = 2;
  EXPECT_EQ(decode_property(sqe).size_bytes(), 0);
  EXPECT_EQ(property_sqe_offset::attrib, 40);
  EXPECT_EQ(property_sqe_offset::ofst, 44);
  EXPECT_EQ(property_sqe_offset::value, 48);
}

TEST(properties, widths) {
  EXPECT_EQ(property_width(property_offset::cap), 8);
  EXPECT_EQ(property_width(property_offset::vs), 4);
  EXPECT_EQ(property_width(property_offset::cc), 4);
  EXPECT_EQ(property_width(property_offset::csts), 4);
  EXPECT_EQ(property_width(property_offset::nssr), 4);
}

TEST(properties, cap_round_trip_and_positions) {
  cap_fields c;
  c.mqes = 127;
  c.cqr = true;
  c.to = 30;
  c.css = cap_css::nvm;
  c.mpsmin = 0;
  c.mpsmax = 4;
  c.nssrs = false;
  const uint64_t v = c.encode();
  EXPECT_EQ(v & 0xffff, 127u);
  EXPECT_EQ((v >> 16) & 1, 1u);
  EXPECT_EQ((v >> 24) & 0xff, 30u);
  EXPECT_EQ(v >> 37 & 1, 1u);  // CSS bit 37: NVM command set
  EXPECT_EQ((v >> 52) & 0xf, 4u);
  EXPECT_EQ(cap_fields::decode(v), c);

  cap_fields all;
  all.mqes = 0xffff;
  all.cqr = all.nssrs = all.bps = all.pmrs = all.cmbs = all.nsss = true;
  all.ams = 3;
  all.to = 0xff;
  all.dstrd = 0xf;
  all.css = 0xff;
  all.cps = 3;
  all.mpsmin = all.mpsmax = 0xf;
  all.crms = 3;
  EXPECT_EQ(cap_fields::decode(all.encode()), all);
  EXPECT_EQ(all.encode(), 0x1fffffffff07ffffull);  // bits 23:19 and 63:61 reserved
}

TEST(properties, cc_csts_vs) {
  const auto cc = cc_register::make(true, cc_css_nvm, 0, 0, shutdown_notification::normal, 6, 4);
  EXPECT_EQ(cc.raw, 0x00464001u);
  EXPECT_TRUE(cc.en());
  EXPECT_EQ(cc.css(), 0);
  EXPECT_EQ(cc.mps(), 0);
  EXPECT_EQ(cc.shn(), shutdown_notification::normal);
  EXPECT_EQ(cc.iosqes(), 6);
  EXPECT_EQ(cc.iocqes(), 4);
  EXPECT_FALSE(cc.crime());
  const cc_register other{0x0000c000u | (6u << 4) | (3u << 7) | (1u << 11) | (1u << 24)};
  EXPECT_FALSE(other.en());
  EXPECT_EQ(other.css(), cc_css_all_io_sets);
  EXPECT_EQ(other.mps(), 3);
  EXPECT_EQ(other.ams(), 1);
  EXPECT_EQ(static_cast<int>(other.shn()), 3);
  EXPECT_TRUE(other.crime());

  EXPECT_EQ(make_csts(true, false, shutdown_status::normal), 0x1u);
  EXPECT_EQ(make_csts(true, false, shutdown_status::complete), 0x9u);
  EXPECT_EQ(make_csts(false, true, shutdown_status::occurring), 0x6u);
  EXPECT_EQ(csts_shst(0x9), shutdown_status::complete);
  EXPECT_EQ(nvme_version(1, 4), 0x00010400u);
}

}  // namespace
}  // namespace nvmfd

namespace nvmfd {
namespace {

TEST(auth_command, decode_from_dwords) {
  nvme_sqe sqe{};
  sqe.opcode = static_cast<uint8_t>(admin_opcode::fabrics);
  sqe.nsid.raw[0] = static_cast<uint8_t>(fabrics_type::authentication_send);
  sqe.cdw10 = 0xe9u << 24 | 0x01u << 16 | 0x02u << 8;  // SECP E9h, SPSP1 01h, SPSP0 02h
  sqe.cdw11 = 1100;                                   // TL
  const auto f = decode_auth_command(sqe);
  EXPECT_EQ(f.secp, 0xe9);
  EXPECT_EQ(f.spsp1, 0x01);
  EXPECT_EQ(f.spsp0, 0x02);
  EXPECT_EQ(f.length, 1100u);
  EXPECT_EQ(auth_sqe_offset::secp, 43);
  EXPECT_EQ(auth_sqe_offset::length, 44);
}

}  // namespace
}  // namespace nvmfd
