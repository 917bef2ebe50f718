#include "keys/interchange.h"

#include <gtest/gtest.h>

#include "tests/unit/keys/test_keys.h"

namespace nvmfd::keys {
namespace {

using test::counting;
using test::mentions;

TEST(crc32_ieee, known_vectors) {
  std::string_view s = "123456789";  // the CRC-32 check value of zlib and Ethernet
  EXPECT_EQ(crc32_ieee({reinterpret_cast<const uint8_t*>(s.data()), s.size()}), 0xCBF43926u);
  EXPECT_EQ(crc32_ieee(counting(32)), 0x91267E8Au);  // as nvme check-dhchap-key reports it
  EXPECT_EQ(crc32_ieee({}), 0u);
}

TEST(base64, round_trips_every_length) {
  for (size_t n = 0; n <= 70; ++n) {
    auto bytes = counting(n);
    std::string text = base64_encode(bytes);
    EXPECT_EQ(text.size() % 4, 0u);
    if (n == 0) continue;  // empty text is refused by the decoder (no key is empty)
    auto back = base64_decode(text);
    ASSERT_TRUE(back) << n << ": " << back.err().message;
    EXPECT_EQ(*back, bytes) << n;
  }
}

TEST(base64, known_text) {
  std::vector<uint8_t> foo{'f', 'o', 'o', 'b'};
  EXPECT_EQ(base64_encode(foo), "Zm9vYg==");
  auto back = base64_decode("Zm9vYg==");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, foo);
}

TEST(base64, refuses_malformed_text) {
  for (std::string_view bad : {"", "Zm9", "Zm9vY", "Zm9v!g==", "Zm=vYg==", "Z===", "====",
                               "Zm9vYg= ", " Zm9vYg="}) {
    auto r = base64_decode(bad);
    EXPECT_FALSE(r) << "'" << bad << "'";
    if (!r) {
      EXPECT_EQ(r.err().code, errc::invalid_argument);
    }
  }
}

TEST(interchange, format_then_parse) {
  auto key = counting(48);
  std::string text = format_interchange("TEST-1", 2, key);
  EXPECT_EQ(text.substr(0, 10), "TEST-1:02:");
  EXPECT_EQ(text.back(), ':');
  auto f = parse_interchange(text, "TEST-1", "test key");
  ASSERT_TRUE(f) << f.err().message;
  EXPECT_EQ(f->hash, 2);
  EXPECT_EQ(f->key, key);
}

TEST(interchange, every_truncation_is_refused) {
  std::string text = format_interchange("TEST-1", 1, counting(32));
  for (size_t n = 0; n < text.size(); ++n)
    EXPECT_FALSE(parse_interchange(text.substr(0, n), "TEST-1", "test key")) << n;
}

TEST(interchange, every_flipped_key_bit_is_caught_by_the_crc) {
  auto key = counting(32);
  std::vector<uint8_t> framed = key;
  uint32_t crc = crc32_ieee(key);
  for (int i = 0; i < 4; ++i) framed.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  for (size_t bit = 0; bit < framed.size() * 8; ++bit) {
    auto bad = framed;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    std::string text = "TEST-1:01:" + base64_encode(bad) + ":";
    auto r = parse_interchange(text, "TEST-1", "test key");
    ASSERT_FALSE(r) << bit;
    EXPECT_NE(r.err().message.find("CRC-32"), std::string::npos) << r.err().message;
  }
}

TEST(interchange, messages_name_the_problem) {
  auto why = [](std::string_view text) {
    return test::refusal(parse_interchange(text, "TEST-1", "test key"), text);
  };
  EXPECT_TRUE(mentions(why("OTHER-1:01:AAAA:"), "must start with \"TEST-1:\""));
  EXPECT_TRUE(mentions(why("TEST-1:1:AAAA:"), "two hexadecimal digits"));
  EXPECT_TRUE(mentions(why("TEST-1:zz:AAAA:"), "two hexadecimal digits"));
  EXPECT_TRUE(mentions(why("TEST-1:01:AAAAAAAA"), "must end with ':'"));
  EXPECT_TRUE(mentions(why("TEST-1:01:AAAA:AAAA:"), "too many ':'"));
  EXPECT_TRUE(mentions(why("TEST-1:01:AAAA:"), "cannot be a key and its CRC-32"));
  EXPECT_TRUE(mentions(why("TEST-1:01:A*AA:"), "not base64"));
}

TEST(interchange, hash_field_is_hexadecimal) {
  auto key = counting(32);
  std::string text = format_interchange("TEST-1", 0x1a, key);
  EXPECT_EQ(text.substr(0, 10), "TEST-1:1a:");
  auto f = parse_interchange(text, "TEST-1", "test key");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->hash, 0x1a);
}

TEST(random_bytes, has_the_length_and_differs_between_calls) {
  auto a = random_bytes(32);
  auto b = random_bytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);  // equal only with probability 2^-256
}

}  // namespace
}  // namespace nvmfd::keys
