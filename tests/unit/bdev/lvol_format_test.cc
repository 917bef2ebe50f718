// The lvol store's on-disk format: round trips, and damage of any kind is an error, never a
// crash or a store built from garbage.
#include <gtest/gtest.h>

#include <cstring>

#include "bdev/lvol/lvol_format.h"

namespace nvmfd::lvol {
namespace {

superblock test_sb() {
  uuid id = uuid::random_v4();
  return plan_layout(id, 512, 1 << 20, 64ull << 20);
}

metadata test_md() {
  metadata md;
  md.generation = 7;
  md.name = "lvs0";
  md.total_clusters = 64;
  md.next_volume_id = 4;
  volume_record a;
  a.id = 1;
  a.vid = uuid::random_v4();
  a.name = "snap";
  a.snapshot = a.read_only = true;
  a.size_clusters = 8;
  a.allocated = {{0, 10}, {3, 11}};
  volume_record b;
  b.id = 3;
  b.parent_id = 1;
  b.vid = uuid::random_v4();
  b.name = "clone";
  b.thin = true;
  b.size_clusters = 8;
  b.allocated = {{1, 12}};
  md.volumes = {a, b};
  return md;
}

TEST(lvol_format, superblock_round_trip_and_damage) {
  superblock sb = test_sb();
  EXPECT_EQ(sb.slot_offset[0], 4096u);
  EXPECT_GE(sb.first_data_cluster * (1 << 20), 4096 + 2 * sb.slot_size);
  auto enc = encode_superblock(sb);
  ASSERT_EQ(enc.size(), superblock_size);
  auto dec = decode_superblock(enc);
  ASSERT_TRUE(dec.ok()) << dec.err().message;
  EXPECT_EQ(dec->id, sb.id);
  EXPECT_EQ(dec->cluster_size, sb.cluster_size);
  EXPECT_EQ(dec->slot_size, sb.slot_size);
  EXPECT_EQ(dec->first_data_cluster, sb.first_data_cluster);
  std::vector<std::byte> zero(superblock_size);
  EXPECT_EQ(decode_superblock(zero).err().code, errc::not_found);
  for (std::size_t i = 8; i < superblock_size; i += 97) {
    auto bad = enc;
    bad[i] ^= std::byte{0x40};
    auto r = decode_superblock(bad);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.err().code, errc::invalid_argument);
  }
  EXPECT_FALSE(decode_superblock(std::span(enc).first(100)).ok());
}

TEST(lvol_format, metadata_round_trip) {
  superblock sb = test_sb();
  metadata md = test_md();
  auto enc = encode_metadata(sb, md);
  ASSERT_TRUE(enc.ok()) << enc.err().message;
  auto dec = decode_metadata(sb, *enc);
  ASSERT_TRUE(dec.ok()) << dec.err().message;
  EXPECT_EQ(dec->generation, 7u);
  EXPECT_EQ(dec->name, "lvs0");
  ASSERT_EQ(dec->volumes.size(), 2u);
  EXPECT_EQ(dec->volumes[0].allocated, md.volumes[0].allocated);
  EXPECT_TRUE(dec->volumes[0].snapshot);
  EXPECT_EQ(dec->volumes[1].parent_id, 1u);
  EXPECT_TRUE(dec->volumes[1].thin);
  EXPECT_EQ(dec->volumes[1].vid, md.volumes[1].vid);
}

TEST(lvol_format, torn_or_damaged_metadata_is_refused) {
  superblock sb = test_sb();
  auto enc = encode_metadata(sb, test_md());
  ASSERT_TRUE(enc.ok());
  uint64_t payload = 0;
  std::memcpy(&payload, enc->data() + 24, 8);
  const std::size_t used = 64 + payload;  // header and payload; the rest is padding
  // Every byte of the header and payload flipped: an error each time.
  for (std::size_t i = 0; i < used; ++i) {
    auto bad = *enc;
    bad[i] ^= std::byte{0x01};
    EXPECT_FALSE(decode_metadata(sb, bad).ok()) << "byte " << i;
  }
  // Torn: only a prefix made it (the rest still zero).
  for (std::size_t n = 0; n < used; ++n) {
    std::vector<std::byte> torn(enc->size());
    std::copy(enc->begin(), enc->begin() + static_cast<long>(n), torn.begin());
    if (torn == *enc) continue;  // the missing tail was zeroes anyway
    EXPECT_FALSE(decode_metadata(sb, torn).ok()) << n;
  }
  // Another store's slot.
  superblock other = sb;
  other.id = uuid::random_v4();
  EXPECT_FALSE(decode_metadata(other, *enc).ok());
}

TEST(lvol_format, inconsistent_maps_are_refused_even_with_good_checksums) {
  superblock sb = test_sb();
  auto twice = test_md();
  twice.volumes[1].allocated = {{1, 10}};  // cluster 10 owned twice
  EXPECT_FALSE(decode_metadata(sb, *encode_metadata(sb, twice)).ok());
  auto outside = test_md();
  outside.volumes[1].allocated = {{1, 1000}};
  EXPECT_FALSE(decode_metadata(sb, *encode_metadata(sb, outside)).ok());
  auto in_md = test_md();
  in_md.volumes[1].allocated = {{1, 0}};  // a metadata cluster
  EXPECT_FALSE(decode_metadata(sb, *encode_metadata(sb, in_md)).ok());
  auto orphan = test_md();
  orphan.volumes[1].parent_id = 9;
  EXPECT_FALSE(decode_metadata(sb, *encode_metadata(sb, orphan)).ok());
  auto cycle = test_md();  // each the other's parent: a read would walk forever
  cycle.volumes[0].parent_id = 3;
  EXPECT_FALSE(decode_metadata(sb, *encode_metadata(sb, cycle)).ok());
  auto empty = test_md();
  empty.volumes[1].size_clusters = 0;
  empty.volumes[1].allocated.clear();
  EXPECT_FALSE(decode_metadata(sb, *encode_metadata(sb, empty)).ok());
}

}  // namespace
}  // namespace nvmfd::lvol
