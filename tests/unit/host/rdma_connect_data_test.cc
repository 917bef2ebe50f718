// The host's NVMe/RDMA CM private data: the connect request a queue sends, and the text made
// of a controller's reject.
#include "host/rdma_connect_data.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace nvmfd {
namespace {

TEST(rdma_connect_data, request_names_queue_sizes_and_controller) {
  auto r = make_rdma_cm_request(qid_t{3}, 128, 0x0102);
  uint8_t raw[32];
  std::memcpy(raw, &r, sizeof(raw));
  EXPECT_EQ(raw[0] | raw[1] << 8, 0);      // RECFMT 0
  EXPECT_EQ(raw[2] | raw[3] << 8, 3);      // QID
  EXPECT_EQ(raw[4] | raw[5] << 8, 128);    // HRQSIZE, 1's based
  EXPECT_EQ(raw[6] | raw[7] << 8, 127);    // HSQSIZE, 0's based
  EXPECT_EQ(raw[8] | raw[9] << 8, 0x0102); // CNTLID
  for (int i = 10; i < 32; ++i) EXPECT_EQ(raw[i], 0) << i;
}

TEST(rdma_connect_data, admin_request_carries_the_wildcard_cntlid) {
  auto r = make_rdma_cm_request(admin_qid, 32, 0xffff);
  EXPECT_EQ(r.qid.get(), 0);
  EXPECT_EQ(r.hsqsize.get(), 31);
  EXPECT_EQ(r.cntlid.get(), 0xffff);
}

std::vector<std::byte> reject_bytes(uint16_t recfmt, uint16_t sts) {
  std::vector<std::byte> v(4);
  v[0] = std::byte(recfmt & 0xff);
  v[1] = std::byte(recfmt >> 8);
  v[2] = std::byte(sts & 0xff);
  v[3] = std::byte(sts >> 8);
  return v;
}

TEST(rdma_connect_data, reject_status_is_named) {
  auto v = reject_bytes(0, 0x04);
  auto text = describe_rdma_reject(v, 28);
  EXPECT_NE(text.find("invalid HSQSIZE"), std::string::npos) << text;
  EXPECT_NE(text.find("0x4"), std::string::npos) << text;
  v = reject_bytes(0, 0x06);
  EXPECT_NE(describe_rdma_reject(v, 28).find("no resources"), std::string::npos);
  v = reject_bytes(0, 0x99);
  EXPECT_NE(describe_rdma_reject(v, 28).find("unknown reject status"), std::string::npos);
}

TEST(rdma_connect_data, reject_without_nvme_data_says_so_at_every_short_length) {
  auto v = reject_bytes(0, 0x04);
  for (size_t n = 0; n < v.size(); ++n) {
    auto text = describe_rdma_reject(std::span(v.data(), n), 8);
    EXPECT_NE(text.find("no NVMe reject status"), std::string::npos) << n << ": " << text;
    EXPECT_NE(text.find("CM status 8"), std::string::npos) << text;
  }
}

TEST(rdma_connect_data, zeroed_private_data_is_a_cm_reject_not_an_nvme_one) {
  std::vector<std::byte> zeros(148);  // an IB CM reject with no consumer data
  auto text = describe_rdma_reject(zeros, 28);
  EXPECT_NE(text.find("no NVMe reject status"), std::string::npos) << text;
}

TEST(rdma_connect_data, reject_with_another_record_format_is_reported_raw) {
  auto v = reject_bytes(1, 0x04);
  auto text = describe_rdma_reject(v, 28);
  EXPECT_NE(text.find("RECFMT 1"), std::string::npos) << text;
}

}  // namespace
}  // namespace nvmfd
