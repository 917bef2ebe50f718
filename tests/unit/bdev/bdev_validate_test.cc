// The shared creation and per-I/O checks.
#include <gtest/gtest.h>

#include <cerrno>

#include "bdev/bdev_validate.h"
#include "bdev/null_bdev.h"
#include "bdev/ram_bdev.h"
#include "bdev/zero_region.h"

namespace nvmfd::test {
namespace {

TEST(bdev_validate, block_sizes) {
  for (uint32_t bs = 512; bs <= 65536; bs *= 2) EXPECT_TRUE(check_block_size(bs).ok()) << bs;
  for (uint32_t bs : {0u, 256u, 768u, 4095u, 131072u, 0x80000000u})
    EXPECT_FALSE(check_block_size(bs).ok()) << bs;
}

TEST(bdev_validate, geometry) {
  EXPECT_EQ(*check_geometry(4096, 10), 40960u);
  EXPECT_FALSE(check_geometry(4096, 0).ok());
  EXPECT_TRUE(check_geometry(512, ~uint64_t{0} / 512).ok());
  EXPECT_FALSE(check_geometry(512, ~uint64_t{0} / 512 + 1).ok());
}

TEST(bdev_validate, a_null_disk_reads_in_place_up_to_its_zero_region) {
  auto b = *null_bdev::create("n", 4096, 1 << 20, std::nullopt);
  bdev_io io;
  io.op = bdev_op::read;
  io.num_blocks = zero_region_size / 4096;
  EXPECT_EQ(validate_io(*b, io), 0);
  io.num_blocks += 1;  // larger than the region: needs a buffer of its own
  EXPECT_EQ(validate_io(*b, io), -EINVAL);
}

TEST(bdev_validate, io_checks) {
  auto b = *ram_bdev::create("r", 512, 100, std::nullopt);
  alignas(16) std::byte buf[512];
  bdev_io io;
  io.op = bdev_op::read;
  io.offset_blocks = 99;
  io.num_blocks = 1;
  io.buf = buf;
  EXPECT_EQ(validate_io(*b, io), 0);
  io.num_blocks = 2;
  EXPECT_EQ(validate_io(*b, io), -EINVAL);
  io.num_blocks = 1;
  io.buf = nullptr;
  EXPECT_EQ(validate_io(*b, io), 0);  // a RAM disk reads in place
  io.op = bdev_op::write;
  EXPECT_EQ(validate_io(*b, io), -EINVAL);
  io.op = bdev_op::flush;  // no range, no buffer
  io.offset_blocks = 1000;
  EXPECT_EQ(validate_io(*b, io), 0);
  io.op = bdev_op::unmap;
  EXPECT_EQ(validate_io(*b, io), -EINVAL);
  io.offset_blocks = 0;
  io.num_blocks = 100;
  EXPECT_EQ(validate_io(*b, io), 0);
}

TEST(bdev_io, backend_ctx_holds_backend_state) {
  struct state {
    uint64_t a;
    int b;
  };
  bdev_io io;
  io.emplace_backend_ctx<state>(state{7, 9});
  EXPECT_EQ(io.backend_ctx_as<state>().a, 7u);
  EXPECT_EQ(io.backend_ctx_as<state>().b, 9);
}

}  // namespace
}  // namespace nvmfd::test
