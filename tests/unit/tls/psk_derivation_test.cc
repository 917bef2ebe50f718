// The NVMe/TCP PSK derivations against vectors computed independently (RFC 5869/8446 in
// Python's hmac module, with the labels and contexts SPDK v26.05 and Linux use); interop with
// SPDK's own target and host (tests/spdk/spdk_tls_test.sh) is the proof that they agree.
#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "tls/psk_derivation.h"

namespace nvmfd::tls {
namespace {

constexpr std::string_view host = "nqn.2016-06.io.spdk:host1";
constexpr std::string_view sub = "nqn.2016-06.io.spdk:cnode1";

configured_psk key_of(size_t len, retained_hash h) {
  configured_psk k;
  k.key = secret_bytes(len);
  for (size_t i = 0; i < len; ++i) k.key.data()[i] = static_cast<uint8_t>(i);
  k.hash = h;
  return k;
}

std::string hex(std::span<const uint8_t> b) {
  std::string s;
  for (uint8_t c : b) s += fmt::format("{:02x}", c);
  return s;
}

TEST(psk_derivation, retained_psk_sha256) {
  auto r = derive_retained_psk(key_of(32, retained_hash::sha256), host);
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(hex(r->view()), "191bcae9c003521d7de7e3da54bb74b08e7b2762ec5809606507eacc676c6cf9");
}

TEST(psk_derivation, retained_psk_sha384) {
  auto r = derive_retained_psk(key_of(48, retained_hash::sha384), host);
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(hex(r->view()),
            "f5ea5a564fe603263adfa29f56413f0ccfef77253f5f9453f3b1cbd713647df6c12a219bf584377651a9281aa441b7b3");
}

TEST(psk_derivation, retained_psk_without_hash_is_the_configured_psk) {
  auto k = key_of(32, retained_hash::none);
  auto r = derive_retained_psk(k, host);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, k.key);
}

TEST(psk_derivation, host_version0_sha256_as_spdk) {
  auto p = host_tls_psk(key_of(32, retained_hash::sha256), host, sub);
  ASSERT_TRUE(p) << p.err().message;
  EXPECT_EQ(p->identity, "NVMe0R01 nqn.2016-06.io.spdk:host1 nqn.2016-06.io.spdk:cnode1");
  EXPECT_EQ(p->hash, tls_hash::sha256);
  EXPECT_EQ(hex(p->key.view()), "495a9eb556674f4b8dee2445fcb7425b27be9ab972dd0c25307970cb37e6e84f");
}

TEST(psk_derivation, host_version0_sha384) {
  auto p = host_tls_psk(key_of(48, retained_hash::sha384), host, sub);
  ASSERT_TRUE(p) << p.err().message;
  EXPECT_EQ(p->identity, "NVMe0R02 nqn.2016-06.io.spdk:host1 nqn.2016-06.io.spdk:cnode1");
  EXPECT_EQ(hex(p->key.view()),
            "20efe643239f00f8e8bcc2b6899c2799127f10c8c9cb11ecf0996b5a56e5b38786e2899a275ea73968ef20008662bae6");
}

TEST(psk_derivation, host_version0_unhashed_key) {
  auto p = host_tls_psk(key_of(32, retained_hash::none), host, sub);
  ASSERT_TRUE(p);
  EXPECT_EQ(hex(p->key.view()), "4e2f25d0b1292f7c65298037dfe013fa75e4a9da706e0d948e3f2382c7493fd8");
}

TEST(psk_derivation, host_version1_carries_the_digest) {
  auto p = host_tls_psk(key_of(32, retained_hash::sha256), host, sub, 1);
  ASSERT_TRUE(p) << p.err().message;
  EXPECT_EQ(p->identity, "NVMe1R01 nqn.2016-06.io.spdk:host1 nqn.2016-06.io.spdk:cnode1 "
                         "pvIjOd5Zst7XeGNipeYecCoQwm54r4JuLSnoaNXKA0Y=");
  EXPECT_EQ(hex(p->key.view()), "97664fb16a99f6e46993eaf45dc78b3cdb43b1b08d050bc5933cb2c2816e6b42");
  auto p384 = host_tls_psk(key_of(48, retained_hash::sha384), host, sub, 1);
  ASSERT_TRUE(p384);
  EXPECT_EQ(hex(p384->key.view()),
            "565d94312e822b56f813ca60be327459085e7f45a38266fbd580f0b735a8f6f5c7d6a63b754ef23577f44490e34fe48d");
}

TEST(psk_derivation, target_derives_what_the_host_offers) {
  for (uint8_t version : {0, 1}) {
    for (auto [len, h] : {std::pair{32u, retained_hash::sha256}, std::pair{48u, retained_hash::sha384},
                          std::pair{32u, retained_hash::none}, std::pair{48u, retained_hash::sha256}}) {
      auto k = key_of(len, h);
      auto offered = host_tls_psk(k, host, sub, version);
      ASSERT_TRUE(offered);
      auto id = parse_psk_identity(offered->identity);
      ASSERT_TRUE(id) << id.err().message;
      auto accepted = target_tls_psk(k, *id);
      ASSERT_TRUE(accepted) << accepted.err().message;
      EXPECT_EQ(accepted->key, offered->key);
      EXPECT_EQ(accepted->identity, offered->identity);
    }
  }
}

TEST(psk_derivation, target_refuses_a_mismatched_digest_or_hash) {
  auto k = key_of(32, retained_hash::sha256);
  auto offered = host_tls_psk(k, host, sub, 1);
  ASSERT_TRUE(offered);
  auto id = parse_psk_identity(offered->identity);
  ASSERT_TRUE(id);
  id->digest[0] = id->digest[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(target_tls_psk(k, *id));
  auto id384 = parse_psk_identity("NVMe0R02 nqn.2016-06.io.spdk:host1 nqn.2016-06.io.spdk:cnode1");
  ASSERT_TRUE(id384);
  EXPECT_FALSE(target_tls_psk(k, *id384));  // a 32-byte key is for SHA-256 only
}

TEST(psk_derivation, bad_keys_are_refused) {
  EXPECT_FALSE(host_tls_psk(key_of(16, retained_hash::sha256), host, sub));
  EXPECT_FALSE(host_tls_psk(key_of(0, retained_hash::none), host, sub));
  EXPECT_FALSE(host_tls_psk(key_of(32, retained_hash::sha256), host, sub, 2));
  // Identity longer than an HKDF context may be (255 bytes).
  EXPECT_FALSE(host_tls_psk(key_of(32, retained_hash::sha256), std::string(200, 'h'), std::string(200, 's')));
}

}  // namespace
}  // namespace nvmfd::tls
