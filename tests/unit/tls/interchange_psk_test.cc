#include <gtest/gtest.h>

#include "tls/interchange_psk.h"

namespace nvmfd::tls {
namespace {

// Keys 00 01 02 ... with their CRC-32, encoded by Python's base64 and zlib.crc32.
constexpr std::string_view key32 = "NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";
constexpr std::string_view key48 =
    "NVMeTLSkey-1:02:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vcSEgBQ==:";

TEST(interchange_psk, parses_both_lengths) {
  auto k = parse_interchange_psk(key32);
  ASSERT_TRUE(k) << k.err().message;
  EXPECT_EQ(k->hash, retained_hash::sha256);
  ASSERT_EQ(k->key.size(), 32u);
  for (size_t i = 0; i < 32; ++i) EXPECT_EQ(k->key.view()[i], i);
  auto k48 = parse_interchange_psk(std::string(key48) + "\n");
  ASSERT_TRUE(k48) << k48.err().message;
  EXPECT_EQ(k48->hash, retained_hash::sha384);
  EXPECT_EQ(k48->key.size(), 48u);
}

TEST(interchange_psk, refuses_bad_crc_hash_and_every_truncation) {
  std::string bad_crc(key32);
  bad_crc[bad_crc.size() - 3] = bad_crc[bad_crc.size() - 3] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(parse_interchange_psk(bad_crc));
  std::string bad_hash(key32);
  bad_hash[14] = '3';
  EXPECT_FALSE(parse_interchange_psk(bad_hash));
  for (size_t n = 0; n < key32.size(); ++n) EXPECT_FALSE(parse_interchange_psk(key32.substr(0, n))) << n;
  auto e = parse_interchange_psk(bad_crc);
  EXPECT_EQ(e.err().message.find("AAEC"), std::string::npos);  // never echoes the key
}

}  // namespace
}  // namespace nvmfd::tls
