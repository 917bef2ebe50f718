// null_bdev: every op in range succeeds, writes vanish, reads return zeroes.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "bdev/null_bdev.h"
#include "bdev_harness.h"

namespace nvmfd::test {
namespace {

TEST(null_bdev, create_checks_geometry) {
  auto ok = null_bdev::create("Null0", 4096, uint64_t{1} << 40, std::nullopt);  // 4 PiB: free
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)->product_name(), "Null disk");
  EXPECT_FALSE((*ok)->has_volatile_cache());
  EXPECT_FALSE((*ok)->id().is_zero());
  for (uint32_t bs : {0u, 100u, 520u, 3000u, 1u << 17}) {
    auto b = null_bdev::create("n", bs, 8, std::nullopt);
    ASSERT_FALSE(b.ok()) << bs;
    EXPECT_EQ(b.err().code, errc::invalid_argument);
  }
  EXPECT_FALSE(null_bdev::create("n", 512, 0, std::nullopt).ok());
  EXPECT_FALSE(null_bdev::create("n", 512, ~uint64_t{0}, std::nullopt).ok());
  auto id = uuid::random_v4();
  EXPECT_EQ((*null_bdev::create("n", 512, 8, id))->id(), id);
}

TEST(null_bdev, reads_are_zero_whatever_was_written) {
  auto b = *null_bdev::create("n", 512, 1024, std::nullopt);
  bdev_harness h;
  aligned_buffer w(8 * 512), r(8 * 512);
  fill_pattern(w.span(), 1);
  ASSERT_EQ(h.write(*b, 16, 8, w.data()), 0);
  std::memset(r.data(), 0xEE, r.size());
  ASSERT_EQ(h.read(*b, 16, 8, r.data()), 0);
  EXPECT_TRUE(all_zero(r.span()));
  EXPECT_EQ(h.write_zeroes(*b, 0, 1024), 0);
  EXPECT_EQ(h.unmap(*b, 0, 1024), 0);
  EXPECT_EQ(h.flush(*b), 0);
  EXPECT_EQ(h.write(*b, 0, 1, w.data(), true), 0);
  EXPECT_EQ(h.read(*b, 1024, 1, r.data()), -EINVAL);
  EXPECT_EQ(h.write(*b, 1023, 2, w.data()), -EINVAL);
  EXPECT_EQ(h.unmap(*b, 1025, 0), -EINVAL);
  EXPECT_EQ(h.inline_completions(), 0);
  EXPECT_EQ(h.wrong_thread_completions(), 0);
}

TEST(null_bdev, reads_in_place_come_from_one_shared_region_of_zeroes) {
  auto b = *null_bdev::create("n", 4096, 1 << 20, std::nullopt);
  bdev_harness h;
  bdev_io a = h.make(bdev_op::read, 0, 32, nullptr), c = h.make(bdev_op::read, 5000, 1024, nullptr);
  ASSERT_EQ(h.run(*b, a), 0);
  ASSERT_EQ(h.run(*b, c), 0);
  EXPECT_EQ(a.buf, c.buf);  // one region for every read: no memset, no copy
  EXPECT_TRUE(all_zero({a.buf, 32 * 4096}));
  EXPECT_TRUE(all_zero({c.buf, 1024 * 4096}));
  EXPECT_EQ(h.run(*b, h.make(bdev_op::read, (1 << 20) - 1, 2, nullptr)), -EINVAL);
}

TEST(null_bdev, many_ios_in_flight) {
  auto b = *null_bdev::create("n", 4096, 1 << 20, std::nullopt);
  bdev_harness h;
  std::vector<aligned_buffer> bufs;
  std::vector<bdev_io> ios(128);
  for (size_t i = 0; i < ios.size(); ++i) {
    bufs.emplace_back(4096);
    std::memset(bufs.back().data(), 0x11, 4096);
    ios[i] = h.make(i % 2 ? bdev_op::read : bdev_op::write, i * 977, 1, bufs.back().data());
  }
  ASSERT_TRUE(h.run_all(*b, ios));
  for (size_t i = 0; i < ios.size(); ++i) {
    EXPECT_EQ(ios[i].status, 0);
    if (i % 2) {
      EXPECT_TRUE(all_zero(bufs[i].span()));
    }
  }
  EXPECT_EQ(h.inline_completions(), 0);
}

}  // namespace
}  // namespace nvmfd::test
