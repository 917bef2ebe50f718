// The NVMe/RDMA wire formats: keyed SGL descriptors (24-bit length, 32-bit key, the
// invalidate subtype) and the CM private data layouts.
#include "proto/nvme_rdma.h"

#include <gtest/gtest.h>

#include <cstring>

namespace nvmfd {
namespace {

TEST(nvme_rdma, keyed_sgl_fields_sit_where_the_spec_puts_them) {
  sgl_descriptor d{};
  encode_keyed_sgl(d, {0x1122334455667788ull, 0xabcdef, 0x01020304, false});
  uint8_t raw[16];
  std::memcpy(raw, &d, sizeof(raw));
  EXPECT_EQ(raw[0], 0x88);
  EXPECT_EQ(raw[7], 0x11);
  EXPECT_EQ(raw[8], 0xef);   // length, 3 bytes little endian
  EXPECT_EQ(raw[10], 0xab);
  EXPECT_EQ(raw[11], 0x04);  // key, 4 bytes little endian
  EXPECT_EQ(raw[14], 0x01);
  EXPECT_EQ(raw[15], sgl_id::keyed_data_block);
  auto k = decode_keyed_sgl(d);
  EXPECT_EQ(k.address, 0x1122334455667788ull);
  EXPECT_EQ(k.length, 0xabcdefu);
  EXPECT_EQ(k.key, 0x01020304u);
  EXPECT_FALSE(k.invalidate);
}

TEST(nvme_rdma, invalidate_subtype_round_trips) {
  sgl_descriptor d{};
  encode_keyed_sgl(d, {4096, keyed_sgl_max_length, 0xffffffff, true});
  EXPECT_EQ(d.sgl_identifier, sgl_id::keyed_data_block_invalidate);
  EXPECT_TRUE(is_keyed_sgl(d.sgl_identifier));
  auto k = decode_keyed_sgl(d);
  EXPECT_TRUE(k.invalidate);
  EXPECT_EQ(k.length, keyed_sgl_max_length);
  EXPECT_EQ(k.key, 0xffffffffu);
}

TEST(nvme_rdma, other_descriptors_are_not_keyed) {
  EXPECT_FALSE(is_keyed_sgl(sgl_id::data_block_offset));
  EXPECT_FALSE(is_keyed_sgl(sgl_id::transport_data_block));
  EXPECT_FALSE(is_keyed_sgl(0x41));
}

TEST(nvme_rdma, private_data_layouts) {
  rdma_cm_request r{};
  r.qid = 3;
  r.hrqsize = 128;
  r.hsqsize = 127;
  r.cntlid = 0xffff;
  uint8_t raw[32];
  std::memcpy(raw, &r, sizeof(raw));
  EXPECT_EQ(raw[2], 3);
  EXPECT_EQ(raw[4], 128);
  EXPECT_EQ(raw[6], 127);
  EXPECT_EQ(raw[8], 0xff);
  EXPECT_STREQ(to_string(rdma_cm_reject_status::invalid_hsqsize), "invalid HSQSIZE");
}

}  // namespace
}  // namespace nvmfd
