#include "keys/tls_psk.h"

#include <gtest/gtest.h>

#include "tests/unit/keys/test_keys.h"

namespace nvmfd::keys {
namespace {

using test::counting;
using test::mentions;

TEST(tls_psk, parses_the_key_of_spdk_and_opi_tests) {
  // The configured PSK "00112233445566778899aabbccddeeff" (as ASCII), SHA-256, used by SPDK's
  // and the OPI project's TLS tests; nvme check-tls-key accepts it.
  auto k = parse_tls_psk("NVMeTLSkey-1:01:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:");
  ASSERT_TRUE(k) << k.err().message;
  EXPECT_EQ(k->hash, 1);
  std::string_view ascii = "00112233445566778899aabbccddeeff";
  EXPECT_EQ(k->key, std::vector<uint8_t>(ascii.begin(), ascii.end()));
  EXPECT_EQ(format_tls_psk(*k), "NVMeTLSkey-1:01:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:");
}

TEST(tls_psk, parses_keys_nvme_cli_accepts) {
  // Checked with nvme check-tls-key (nvme-cli 2.3).
  auto a = parse_tls_psk("NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:");
  ASSERT_TRUE(a) << a.err().message;
  EXPECT_EQ(a->key, counting(32));
  auto b = parse_tls_psk(
      "NVMeTLSkey-1:02:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vcSEgBQ==:\n");
  ASSERT_TRUE(b) << b.err().message;
  EXPECT_EQ(b->hash, 2);
  EXPECT_EQ(b->key, counting(48));
}

TEST(tls_psk, hash_00_takes_32_or_48_bytes_as_spdk_does) {
  auto a = parse_tls_psk("NVMeTLSkey-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:");
  ASSERT_TRUE(a) << a.err().message;
  EXPECT_EQ(a->hash, 0);
  auto b = parse_tls_psk(
      "NVMeTLSkey-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vcSEgBQ==:");
  ASSERT_TRUE(b) << b.err().message;
  EXPECT_EQ(b->key.size(), 48u);
}

TEST(tls_psk, refuses_bad_input_with_a_clear_message) {
  auto why = [](std::string_view text) { return test::refusal(parse_tls_psk(text), text); };
  EXPECT_TRUE(mentions(why("DHHC-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"),
                       "must start with \"NVMeTLSkey-1:\""));
  EXPECT_TRUE(mentions(why("NVMeTLSkey-1:01:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiR:"),
                       "CRC-32"));
  EXPECT_TRUE(mentions(why("NVMeTLSkey-1:01:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJE?Q:"),
                       "base64"));
  // A 48-byte key tagged SHA-256, a 32-byte key tagged SHA-384, a 64-byte key, hash 03.
  EXPECT_TRUE(mentions(
      why("NVMeTLSkey-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vcSEgBQ==:"),
      "needs 32 bytes"));
  EXPECT_TRUE(mentions(why("NVMeTLSkey-1:02:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"),
                       "needs 48 bytes"));
  EXPECT_TRUE(mentions(why("NVMeTLSkey-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygp"
                           "KissLS4vMDEyMzQ1Njc4OTo7PD0+P4zODhA=:"),
                       "64 bytes"));
  EXPECT_TRUE(mentions(why("NVMeTLSkey-1:03:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"),
                       "hash identifier 03"));
  for (std::string_view text : {"NVMeTLSkey-1:01:", "NVMeTLSkey-1:",
                                "NVMeTLSkey-2:01:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:"})
    why(text);
}

TEST(tls_psk, generate_round_trips) {
  for (uint8_t hash : {1, 2}) {
    auto k = generate_tls_psk(hash);
    ASSERT_TRUE(k) << k.err().message;
    EXPECT_EQ(k->key.size(), hash == 1 ? 32u : 48u);
    auto back = parse_tls_psk(format_tls_psk(*k));
    ASSERT_TRUE(back) << back.err().message;
    EXPECT_EQ(back->hash, hash);
    EXPECT_EQ(back->key, k->key);
  }
  EXPECT_FALSE(generate_tls_psk(0));
  EXPECT_FALSE(generate_tls_psk(3));
}

}  // namespace
}  // namespace nvmfd::keys
