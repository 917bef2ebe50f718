#include "base/buffer_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace nvmfd {

TEST(buffer_pool, buffers_are_aligned_and_recycled) {
  buffer_pool pool;
  std::byte* a = pool.take(4096);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 4096, 0u);
  std::memset(a, 0xab, 4096);
  pool.give(a, 4096);
  EXPECT_EQ(pool.take(100), a);  // same size class (4 KiB) comes back
}

TEST(buffer_pool, size_classes_hold_the_requested_length) {
  buffer_pool pool;
  for (size_t len : {1ul, 4096ul, 4097ul, 65536ul, 131072ul, 131073ul, 1ul << 20, buffer_pool::max_size}) {
    std::byte* b = pool.take(len);
    ASSERT_NE(b, nullptr) << len;
    std::memset(b, 1, len);  // ASan catches a class smaller than len
    pool.give(b, len);
  }
}

TEST(buffer_pool, distinct_buffers_while_held) {
  buffer_pool pool;
  std::byte* a = pool.take(8192);
  std::byte* b = pool.take(8192);
  EXPECT_NE(a, b);
  pool.give(a, 8192);
  pool.give(b, 8192);
}

}  // namespace nvmfd
