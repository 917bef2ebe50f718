// ram_bdev specifics: creation rules, identity, sparse allocation and page release.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "bdev/ram_bdev.h"
#include "bdev_harness.h"

namespace nvmfd::test {
namespace {

// This process's resident set in KiB (VmRSS).
long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 10, '\n');
  }
  return -1;
}

TEST(ram_bdev, accepts_power_of_two_block_sizes_from_512_to_64k) {
  for (uint32_t bs : {512u, 1024u, 2048u, 4096u, 8192u, 65536u}) {
    auto b = ram_bdev::create("r", bs, 16, std::nullopt);
    ASSERT_TRUE(b.ok()) << bs;
    EXPECT_EQ((*b)->block_size(), bs);
    EXPECT_EQ((*b)->num_blocks(), 16u);
  }
}

TEST(ram_bdev, rejects_bad_geometry) {
  for (uint32_t bs : {0u, 1u, 256u, 511u, 520u, 1536u, 4097u, 131072u}) {
    auto b = ram_bdev::create("r", bs, 16, std::nullopt);
    ASSERT_FALSE(b.ok()) << bs;
    EXPECT_EQ(b.err().code, errc::invalid_argument) << bs;
  }
  auto zero = ram_bdev::create("r", 512, 0, std::nullopt);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.err().code, errc::invalid_argument);
  auto overflow = ram_bdev::create("r", 4096, uint64_t{1} << 53, std::nullopt);
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.err().code, errc::invalid_argument);
}

TEST(ram_bdev, an_impossible_size_fails_with_no_memory) {
  // 2^56 bytes: beyond any user address space.
  auto b = ram_bdev::create("r", 4096, uint64_t{1} << 44, std::nullopt);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.err().code, errc::no_memory);
}

TEST(ram_bdev, identity) {
  auto id = uuid::parse("6f1c1a8e-33a1-4c55-9d5e-2d8f0c1b7a10");
  auto b = ram_bdev::create("Malloc0", 512, 8, id);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->name(), "Malloc0");
  EXPECT_EQ((*b)->id(), *id);
  EXPECT_EQ((*b)->product_name(), "Malloc disk");
  EXPECT_FALSE((*b)->has_volatile_cache());
  EXPECT_FALSE((*b)->read_only());
  EXPECT_EQ((*b)->buf_align(), 1u);
  for (auto op : {bdev_op::read, bdev_op::write, bdev_op::flush, bdev_op::write_zeroes, bdev_op::unmap})
    EXPECT_TRUE((*b)->supports(op));

  auto r1 = ram_bdev::create("a", 512, 8, std::nullopt);
  auto r2 = ram_bdev::create("b", 512, 8, uuid{});  // nil: generate one, as SPDK does
  EXPECT_FALSE((*r1)->id().is_zero());
  EXPECT_FALSE((*r2)->id().is_zero());
  EXPECT_NE((*r1)->id(), (*r2)->id());
}

TEST(ram_bdev, a_large_disk_costs_only_what_is_written) {
  // 1 TiB of address space; a write at each end touches two pages.
  auto b = ram_bdev::create("big", 4096, uint64_t{1} << 28, std::nullopt);
  ASSERT_TRUE(b.ok()) << b.err().message;
  bdev_harness h;
  aligned_buffer w(4096), r(4096);
  fill_pattern(w.span(), 5);
  long before = rss_kib();
  ASSERT_EQ(h.write(**b, (*b)->num_blocks() - 1, 1, w.data()), 0);
  ASSERT_EQ(h.write(**b, 0, 1, w.data()), 0);
  ASSERT_EQ(h.read(**b, (*b)->num_blocks() - 1, 1, r.data()), 0);
  EXPECT_EQ(std::memcmp(w.data(), r.data(), 4096), 0);
  ASSERT_EQ(h.read(**b, 12345678, 1, r.data()), 0);
  EXPECT_TRUE(all_zero(r.span()));
  // Zeroing the whole terabyte must drop pages, not memset them.
  ASSERT_EQ(h.unmap(**b, 0, (*b)->num_blocks()), 0);
  ASSERT_EQ(h.write_zeroes(**b, 0, (*b)->num_blocks()), 0);
  ASSERT_EQ(h.read(**b, 0, 1, r.data()), 0);
  EXPECT_TRUE(all_zero(r.span()));
  EXPECT_LT(rss_kib() - before, 64 * 1024);
}

TEST(ram_bdev, unmap_gives_pages_back) {
  constexpr uint64_t blocks = 64 * 1024;  // 32 MiB of 512-byte blocks
  auto b = ram_bdev::create("r", 512, blocks, std::nullopt);
  ASSERT_TRUE(b.ok());
  bdev_harness h;
  aligned_buffer w(blocks * 512);
  fill_pattern(w.span(), 9);
  ASSERT_EQ(h.write(**b, 0, blocks, w.data()), 0);
  long written = rss_kib();
  // A range that starts and ends mid-page: the partial pages keep their other blocks.
  ASSERT_EQ(h.unmap(**b, 3, blocks - 6), 0);
  EXPECT_LT(rss_kib(), written - 16 * 1024);
  aligned_buffer r(blocks * 512);
  ASSERT_EQ(h.read(**b, 0, blocks, r.data()), 0);
  EXPECT_EQ(std::memcmp(r.data(), w.data(), 3 * 512), 0);
  EXPECT_TRUE(all_zero(r.span().subspan(3 * 512, (blocks - 6) * 512)));
  EXPECT_EQ(std::memcmp(r.data() + (blocks - 3) * 512, w.data() + (blocks - 3) * 512, 3 * 512), 0);
  EXPECT_EQ(h.inline_completions(), 0);
}

}  // namespace
}  // namespace nvmfd::test
