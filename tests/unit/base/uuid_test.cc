#include "base/uuid.h"

#include <gtest/gtest.h>

namespace nvmfd {

TEST(uuid, parse_format_round_trip) {
  auto u = uuid::parse("da525577-5e58-4e7c-b17e-594b51856c17");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->to_string(), "da525577-5e58-4e7c-b17e-594b51856c17");
  EXPECT_EQ(u->to_hex_upper(), "DA5255775E584E7CB17E594B51856C17");
  auto n = uuid::parse("DA5255775E584E7CB17E594B51856C17");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, *u);
}

TEST(uuid, rejects_malformed) {
  EXPECT_FALSE(uuid::parse(""));
  EXPECT_FALSE(uuid::parse("da525577-5e58-4e7c-b17e-594b51856c1"));
  EXPECT_FALSE(uuid::parse("da525577x5e58-4e7c-b17e-594b51856c17"));
  EXPECT_FALSE(uuid::parse("ga525577-5e58-4e7c-b17e-594b51856c17"));
}

TEST(uuid, random_is_v4_and_distinct) {
  auto a = uuid::random_v4(), b = uuid::random_v4();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.bytes[6] >> 4, 4);
  EXPECT_EQ(a.bytes[8] >> 6, 2);
}

}  // namespace nvmfd
