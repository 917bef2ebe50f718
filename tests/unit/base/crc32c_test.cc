#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <string_view>

namespace nvmfd {

TEST(crc32c, known_vector) {
  std::string_view s = "123456789";
  EXPECT_EQ(crc32c(s.data(), s.size()), 0xE3069283u);
}

TEST(crc32c, incremental_equals_one_shot) {
  std::string_view s = "The quick brown fox jumps over the lazy dog";
  uint32_t st = crc32c_init;
  st = crc32c_update(st, s.data(), 10);
  st = crc32c_update(st, s.data() + 10, s.size() - 10);
  EXPECT_EQ(crc32c_final(st), crc32c(s.data(), s.size()));
}

TEST(crc32c, empty) { EXPECT_EQ(crc32c("", 0), 0u); }

}  // namespace nvmfd
