// The DH-HMAC-CHAP computations: HMAC against RFC 4231, the secret transformation and the
// responses against their definitions written out, and the FFDHE key agreement.
#include "auth/dhchap_crypto.h"

#include <gtest/gtest.h>

#include <string>

#include "auth/dh_keypair.h"

namespace nvmfd::auth {
namespace {

std::span<const uint8_t> text(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::string hex(std::span<const uint8_t> b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

// RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
TEST(auth_crypto, hmac_matches_rfc4231) {
  auto h256 = hmac(hash_id::sha256, text("Jefe"), {text("what do ya "), text("want for nothing?")});
  ASSERT_TRUE(h256);
  EXPECT_EQ(hex(h256->view()), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  auto h384 = hmac(hash_id::sha384, text("Jefe"), {text("what do ya want for nothing?")});
  ASSERT_TRUE(h384);
  EXPECT_EQ(hex(h384->view()),
            "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
            "8e2240ca5e69e2c78b3239ecfab21649");
  auto h512 = hmac(hash_id::sha512, text("Jefe"), {text("what do ya want for nothing?")});
  ASSERT_TRUE(h512);
  EXPECT_EQ(hex(h512->view()),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

TEST(auth_crypto, transform_is_hmac_with_the_keys_own_hash_over_nqn_and_fixed_string) {
  std::vector<uint8_t> raw(32, 0x11);
  dhchap_key none{0, secret_bytes(raw)};
  auto t0 = transform_secret(none, "nqn.2014-08.org.nvmexpress:uuid:host");
  ASSERT_TRUE(t0);
  EXPECT_EQ(*t0, none.secret);  // transform 0: the secret as it is

  dhchap_key k{2, secret_bytes(raw)};  // SHA-384 transform of a 32-byte secret
  auto t = transform_secret(k, "nqn.host");
  auto want = hmac(hash_id::sha384, raw, {text("nqn.hostNVMe-over-Fabrics")});
  ASSERT_TRUE(t && want);
  EXPECT_EQ(t->size(), 48u);
  EXPECT_EQ(*t, *want);
  EXPECT_FALSE(transform_secret(dhchap_key{4, secret_bytes(raw)}, "nqn.host"));
}

TEST(auth_crypto, responses_follow_their_definitions) {
  std::vector<uint8_t> key(32, 7), c(32, 3);
  auto r1 = host_response(hash_id::sha256, key, c, 0x01020304, 0x0506, "nqn.h", "nqn.s");
  std::vector<uint8_t> msg(c);
  for (uint8_t b : {0x04, 0x03, 0x02, 0x01, 0x06, 0x05, 0x00}) msg.push_back(b);
  for (char ch : std::string("HostHostnqn.h")) msg.push_back(uint8_t(ch));
  msg.push_back(0);
  for (char ch : std::string("nqn.s")) msg.push_back(uint8_t(ch));
  auto want1 = hmac(hash_id::sha256, key, {msg});
  ASSERT_TRUE(r1 && want1);
  EXPECT_EQ(*r1, *want1);

  auto r2 = controller_response(hash_id::sha256, key, c, 0x01020304, 0x0506, "nqn.h", "nqn.s");
  msg.assign(c.begin(), c.end());
  for (uint8_t b : {0x04, 0x03, 0x02, 0x01, 0x06, 0x05, 0x00}) msg.push_back(b);
  for (char ch : std::string("Controllernqn.s")) msg.push_back(uint8_t(ch));
  msg.push_back(0);
  for (char ch : std::string("nqn.h")) msg.push_back(uint8_t(ch));
  auto want2 = hmac(hash_id::sha256, key, {msg});
  ASSERT_TRUE(r2 && want2);
  EXPECT_EQ(*r2, *want2);
  EXPECT_FALSE(host_response(hash_id::sha512, key, c, 1, 1, "h", "s"));  // C of the wrong length
}

TEST(auth_crypto, augmented_challenge_is_hmac_keyed_by_the_hashed_session_key) {
  std::vector<uint8_t> skey(256, 0x5a), c(64, 1);
  auto a = augmented_challenge(hash_id::sha512, skey, c);
  auto hk = digest(hash_id::sha512, skey);
  ASSERT_TRUE(a && hk);
  auto want = hmac(hash_id::sha512, hk->view(), {c});
  ASSERT_TRUE(want);
  EXPECT_EQ(*a, *want);
}

TEST(auth_crypto, seqnums_are_never_zero_and_change) {
  uint32_t a = next_seqnum(), b = next_seqnum();
  EXPECT_NE(a, 0u);
  EXPECT_NE(b, 0u);
  EXPECT_NE(a, b);
}

class dh_groups : public testing::TestWithParam<dh_group> {};

TEST_P(dh_groups, both_sides_derive_the_same_padded_secret) {
  auto a = dh_keypair::generate(GetParam());
  auto b = dh_keypair::generate(GetParam());
  ASSERT_TRUE(a && b);
  const size_t bytes = GetParam() == dh_group::ffdhe2048   ? 256
                       : GetParam() == dh_group::ffdhe3072 ? 384
                       : GetParam() == dh_group::ffdhe4096 ? 512
                       : GetParam() == dh_group::ffdhe6144 ? 768
                                                           : 1024;
  EXPECT_EQ(a->value_size(), bytes);
  EXPECT_EQ(a->public_value().size(), bytes);
  auto sa = a->shared_secret(b->public_value());
  auto sb = b->shared_secret(a->public_value());
  ASSERT_TRUE(sa && sb) << (sa ? sb.err().message : sa.err().message);
  EXPECT_EQ(sa->size(), bytes);
  EXPECT_EQ(*sa, *sb);
}

TEST_P(dh_groups, invalid_peer_values_are_refused) {
  auto a = dh_keypair::generate(GetParam());
  ASSERT_TRUE(a);
  const size_t n = a->value_size();
  std::vector<uint8_t> zero(n, 0), one(n, 0), ones(n, 0xff), longer(n + 1, 1);
  one.back() = 1;
  EXPECT_FALSE(a->shared_secret(zero));
  EXPECT_FALSE(a->shared_secret(one));
  EXPECT_FALSE(a->shared_secret(ones));  // >= p
  EXPECT_FALSE(a->shared_secret(longer));
  EXPECT_FALSE(a->shared_secret({}));
}

INSTANTIATE_TEST_SUITE_P(ffdhe, dh_groups,
                         testing::Values(dh_group::ffdhe2048, dh_group::ffdhe3072, dh_group::ffdhe4096,
                                         dh_group::ffdhe6144, dh_group::ffdhe8192),
                         [](const auto& info) { return std::string(name(info.param)); });

TEST(auth_ids, names_round_trip) {
  for (hash_id h : all_hashes) EXPECT_EQ(parse_hash(name(h)), h);
  for (dh_group g : all_dh_groups) EXPECT_EQ(parse_dh_group(name(g)), g);
  EXPECT_FALSE(parse_hash("md5"));
  EXPECT_FALSE(parse_dh_group("ffdhe1024"));
  EXPECT_FALSE(hash_from_wire(0));
  EXPECT_FALSE(hash_from_wire(4));
  EXPECT_FALSE(dh_group_from_wire(6));
}

}  // namespace
}  // namespace nvmfd::auth
