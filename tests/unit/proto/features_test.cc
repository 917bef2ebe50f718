#include "proto/features.h"

#include <gtest/gtest.h>

namespace nvmfd {
namespace {

TEST(features, decode_get) {
  nvme_sqe sqe{};
  sqe.nsid = 1;
  sqe.cdw10 = 0xfffff800u | (3u << 8) | 0x07;  // SEL 3 in bits 10:8; bits above ignored
  sqe.cdw11 = 0xdeadbeef;
  sqe.cdw14 = 0x81;
  const auto f = decode_get_features(sqe);
  EXPECT_EQ(f.fid, 0x07);
  EXPECT_EQ(static_cast<feature_id>(f.fid), feature_id::number_of_queues);
  EXPECT_EQ(f.sel, 3);
  EXPECT_EQ(static_cast<feature_select>(f.sel), feature_select::supported_capabilities);
  EXPECT_EQ(f.cdw11, 0xdeadbeefu);
  EXPECT_EQ(f.uuid_index, 1);
  EXPECT_EQ(f.nsid, 1u);
}

TEST(features, decode_set) {
  nvme_sqe sqe{};
  sqe.cdw10 = (1u << 31) | 0x0f;
  sqe.cdw11 = 120000;
  sqe.cdw12 = 7;
  auto f = decode_set_features(sqe);
  EXPECT_EQ(static_cast<feature_id>(f.fid), feature_id::keep_alive_timer);
  EXPECT_TRUE(f.sv);
  EXPECT_EQ(f.cdw11, 120000u);
  EXPECT_EQ(f.cdw12, 7u);
  sqe.cdw10 = 0x81;
  f = decode_set_features(sqe);
  EXPECT_FALSE(f.sv);
  EXPECT_EQ(static_cast<feature_id>(f.fid), feature_id::host_identifier);
}

TEST(features, number_of_queues) {
  const auto q = queue_counts::decode(0x001f0003);
  EXPECT_EQ(q.nsq, 3);
  EXPECT_EQ(q.ncq, 0x1f);
  EXPECT_TRUE(q.valid_request());
  EXPECT_EQ(q.encode(), 0x001f0003u);
  EXPECT_FALSE(queue_counts::decode(0x0000ffff).valid_request());
  EXPECT_FALSE(queue_counts::decode(0xffff0000).valid_request());
}

TEST(features, aer_results) {
  EXPECT_EQ(aer_notice_result(aer_notice::ana_change, 0x0c), 0x000c0302u);
  EXPECT_EQ(aer_notice_result(aer_notice::discovery_log_change, 0x70), 0x0070f002u);
  EXPECT_EQ(aer_notice_result(aer_notice::namespace_attribute_changed, 0x04), 0x00040002u);
  EXPECT_EQ(aer_result(aer_type::smart, 0x01, 0x02), 0x00020101u);
  EXPECT_EQ(aer_result(uint8_t{0xff}, 0, 0), 0x7u);  // type is 3 bits
  const auto a = aer_fields::decode(0x000c0302);
  EXPECT_EQ(a.type, static_cast<uint8_t>(aer_type::notice));
  EXPECT_EQ(a.info, static_cast<uint8_t>(aer_notice::ana_change));
  EXPECT_EQ(a.log_page_id, 0x0c);
}

TEST(features, aec_bits) {
  EXPECT_EQ(aec_bits::namespace_attribute, 0x100u);
  EXPECT_EQ(aec_bits::firmware_activation, 0x200u);
  EXPECT_EQ(aec_bits::ana_change, 0x800u);
  EXPECT_EQ(aec_bits::discovery_log_change, 0x80000000u);
}

}  // namespace
}  // namespace nvmfd
