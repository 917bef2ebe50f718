#include "keys/dhchap_secret.h"

#include <gtest/gtest.h>

#include "tests/unit/keys/test_keys.h"

namespace nvmfd::keys {
namespace {

using test::counting;
using test::mentions;

// `nvme gen-dhchap-key --secret 000102...` (nvme-cli 2.3) with --hmac 0 and each key length.
constexpr std::string_view nvme_cli_00_32 = "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";
constexpr std::string_view nvme_cli_00_48 =
    "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vcSEgBQ==:";
constexpr std::string_view nvme_cli_00_64 =
    "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7"
    "PD0+P4zODhA=:";
// ... and with --hmac 1/2/3 --nqn nqn.2014-08.org.nvmexpress:uuid:test (the key transformed).
constexpr std::string_view test_nqn = "nqn.2014-08.org.nvmexpress:uuid:test";
constexpr std::string_view nvme_cli_01 = "DHHC-1:01:WulleCBkG4oCs0iIC3Cit9gBDCLWiZ9PNXuhqytWkBIZkvGy:";
constexpr std::string_view nvme_cli_02 =
    "DHHC-1:02:JzC2BNNCN092uBY9oK1bbG/xrkLudbjqzPRjAtH00YqVJN1+2TpCZUPYxrwS09Qxpo/5Jw==:";
constexpr std::string_view nvme_cli_03 =
    "DHHC-1:03:d9FmVEvkZD5WUqUkzVMj3JFzwudZt1EtUNK4zK6+E9Dd42mroGA4ub4Yju0aNPtAr2w0xZFyCxz8d1Q1"
    "2rImDko3x34=:";

TEST(dhchap_secret, parses_nvme_cli_keys) {
  for (auto [text, len] : {std::pair{nvme_cli_00_32, 32}, {nvme_cli_00_48, 48}, {nvme_cli_00_64, 64}}) {
    auto s = parse_dhchap_secret(text);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_EQ(s->hmac, 0);
    EXPECT_EQ(s->key, counting(len));
    EXPECT_EQ(format_dhchap_secret(*s), text);
  }
}

TEST(dhchap_secret, parses_keys_of_other_projects_tests) {
  // ceph-nvmeof's tests (32- and 64-byte keys, hash 00).
  auto a = parse_dhchap_secret("DHHC-1:00:MWPqcx1Ug1debg8fPIGpkqbQhLcYUt39k7UWirkblaKEH1kE:");
  ASSERT_TRUE(a) << a.err().message;
  EXPECT_EQ(a->key.size(), 32u);
  auto b = parse_dhchap_secret(
      "DHHC-1:00:ojmm6ISA2DBpZEldEJqJvA1/cAl1wDmeolS0fCIn2qZpK0b7gpx3qu76yHpjlOOXNyjqf0oFYCWxUqkXGN2"
      "xEBOVxoA=:");
  ASSERT_TRUE(b) << b.err().message;
  EXPECT_EQ(b->key.size(), 64u);
  // blktests' "invalid ctrl key": its CRC does not match (nvme check-dhchap-key agrees).
  auto c = parse_dhchap_secret("DHHC-1:00:Jc/My1o0qtLCWRp+sHhAVafdfaS7YQOMYhk9zSmlatobqB8C:");
  ASSERT_FALSE(c);
  EXPECT_NE(c.err().message.find("CRC-32 mismatch"), std::string::npos);
}

TEST(dhchap_secret, transform_matches_nvme_cli) {
  for (auto [hmac, text] : {std::pair{uint8_t{1}, nvme_cli_01}, {uint8_t{2}, nvme_cli_02},
                            {uint8_t{3}, nvme_cli_03}}) {
    dhchap_secret raw{hmac, counting(dhchap_hmac_length(hmac))};
    auto expected = parse_dhchap_secret(text);
    ASSERT_TRUE(expected) << expected.err().message;
    EXPECT_EQ(expected->hmac, hmac);
    EXPECT_EQ(transform_dhchap_key(raw, test_nqn), expected->key) << int(hmac);
  }
  dhchap_secret none{0, counting(48)};
  EXPECT_EQ(transform_dhchap_key(none, test_nqn), none.key);
}

TEST(dhchap_secret, ignores_surrounding_whitespace) {
  auto s = parse_dhchap_secret(std::string("  ") + std::string(nvme_cli_00_32) + "\n");
  ASSERT_TRUE(s) << s.err().message;
  EXPECT_EQ(s->key, counting(32));
}

TEST(dhchap_secret, refuses_bad_input_with_a_clear_message) {
  auto why = [](std::string_view text) { return test::refusal(parse_dhchap_secret(text), text); };
  // Wrong prefix (a TLS key), bad CRC, bad base64, wrong lengths, unknown hash, no final ':'.
  EXPECT_TRUE(mentions(why("NVMeTLSkey-1:01:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:"),
                       "must start with \"DHHC-1:\""));
  EXPECT_TRUE(mentions(why("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaS:"), "CRC-32"));
  EXPECT_TRUE(mentions(why("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+Kfia!:"), "base64"));
  EXPECT_TRUE(mentions(why("DHHC-1:00:AAECAwQFBgcICQoLDA0OD4jizs4=:"), "16 bytes"));
  // A 48-byte key tagged SHA-256 (nvme check-dhchap-key: "Invalid key length for SHA(256)").
  EXPECT_TRUE(mentions(
      why("DHHC-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vcSEgBQ==:"),
      "needs 32 bytes"));
  EXPECT_TRUE(mentions(why("DHHC-1:04:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"),
                       "hash identifier 04"));
  EXPECT_TRUE(mentions(why("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR"),
                       "end with ':'"));
  for (std::string_view text : {"", "DHHC-1", "DHHC-1:00:", "DHHC-1:00::"}) why(text);
}

TEST(dhchap_secret, messages_never_carry_the_key) {
  auto r = parse_dhchap_secret("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaS:");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().message.find("AAECAw"), std::string::npos);
}

TEST(dhchap_secret, generate_round_trips) {
  for (uint8_t hmac = 0; hmac <= 3; ++hmac) {
    for (size_t len : {32u, 48u, 64u}) {
      auto s = generate_dhchap_secret(hmac, len);
      bool allowed = hmac == 0 || len == dhchap_hmac_length(hmac);
      ASSERT_EQ(s.ok(), allowed) << int(hmac) << " " << len;
      if (!allowed) continue;
      EXPECT_EQ(s->key.size(), len);
      auto back = parse_dhchap_secret(format_dhchap_secret(*s));
      ASSERT_TRUE(back) << back.err().message;
      EXPECT_EQ(back->hmac, hmac);
      EXPECT_EQ(back->key, s->key);
    }
  }
}

TEST(dhchap_secret, generate_defaults_and_refusals) {
  auto d = generate_dhchap_secret(0);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->key.size(), 32u);
  auto d3 = generate_dhchap_secret(3);
  ASSERT_TRUE(d3);
  EXPECT_EQ(d3->key.size(), 64u);
  EXPECT_FALSE(generate_dhchap_secret(4));
  EXPECT_FALSE(generate_dhchap_secret(0, 40));
  auto two = generate_dhchap_secret(0);
  ASSERT_TRUE(two);
  EXPECT_NE(d->key, two->key);
}

}  // namespace
}  // namespace nvmfd::keys
