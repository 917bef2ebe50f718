#include "base/buffer_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

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

TEST(buffer_pool, free_buffers_beyond_the_cache_limit_go_back_to_the_system) {
  buffer_pool pool;
  pool.set_cache_limit(2 * 4096);
  std::vector<std::byte*> held;
  for (int i = 0; i < 4; ++i) held.push_back(pool.take(4096));
  for (auto* b : held) pool.give(b, 4096);
  EXPECT_EQ(pool.cached_bytes(), 2u * 4096) << "the pool kept more than its cache limit";
  // The cached ones are reused first.
  std::byte* again = pool.take(4096);
  EXPECT_TRUE(again == held[0] || again == held[1]);
  EXPECT_EQ(pool.cached_bytes(), 4096u);
  pool.give(again, 4096);
}

TEST(buffer_pool, class_bytes_is_the_size_class) {
  EXPECT_EQ(buffer_pool::class_bytes(1), 4096u);
  EXPECT_EQ(buffer_pool::class_bytes(4097), 8192u);
  EXPECT_EQ(buffer_pool::class_bytes(131072), 131072u);
}

}  // namespace nvmfd
