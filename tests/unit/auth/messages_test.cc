// DH-HMAC-CHAP message codecs: byte layouts at the spec's offsets, round trips, and every
// truncation of every message decoded without reading past the end.
#include "auth/dhchap_messages.h"

#include <gtest/gtest.h>

#include <cstring>

namespace nvmfd::auth {
namespace {

std::vector<uint8_t> filled(size_t n, uint8_t start) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(start + i);
  return v;
}

uint8_t at(const std::vector<std::byte>& b, size_t i) { return static_cast<uint8_t>(b.at(i)); }

TEST(auth_messages, negotiate_layout_and_round_trip) {
  negotiate_message m{0x1234, sc_c_none, {1, 2, 3}, {0, 1, 2, 3, 4, 5}};
  auto b = encode(m);
  ASSERT_EQ(b.size(), 8u + 64u);
  EXPECT_EQ(at(b, 0), 0x00);  // common message
  EXPECT_EQ(at(b, 1), 0x00);  // negotiate
  EXPECT_EQ(at(b, 4), 0x34);
  EXPECT_EQ(at(b, 5), 0x12);
  EXPECT_EQ(at(b, 7), 1);     // NAPD
  EXPECT_EQ(at(b, 8), 0x01);  // AUTHID DH-HMAC-CHAP
  EXPECT_EQ(at(b, 10), 3);    // HALEN
  EXPECT_EQ(at(b, 11), 6);    // DHLEN
  EXPECT_EQ(at(b, 12), 1);    // first hash
  EXPECT_EQ(at(b, 12 + 30), 0);
  EXPECT_EQ(at(b, 12 + 35), 5);
  auto d = decode_negotiate(b);
  ASSERT_TRUE(d) << d.err().message;
  EXPECT_EQ(d->tid, 0x1234);
  EXPECT_EQ(d->hash_ids, m.hash_ids);
  EXPECT_EQ(d->dh_ids, m.dh_ids);
}

TEST(auth_messages, negotiate_refuses_oversized_lists_and_foreign_descriptors) {
  auto b = encode(negotiate_message{1, 0, {1}, {0}});
  auto bad = b;
  bad[10] = std::byte{31};  // HALEN 31
  EXPECT_FALSE(decode_negotiate(bad));
  bad = b;
  bad[8] = std::byte{0x02};  // an AUTHID we do not know, and no other descriptor
  EXPECT_FALSE(decode_negotiate(bad));
  bad = b;
  bad[7] = std::byte{2};  // NAPD 2, with one descriptor's bytes
  EXPECT_FALSE(decode_negotiate(bad));
  bad = b;
  bad[7] = std::byte{0};
  EXPECT_FALSE(decode_negotiate(bad));
}

// Found by the fuzz campaign (UBSan: memcpy from the null data() of an empty list).
TEST(auth_messages, negotiate_with_empty_lists_round_trips) {
  auto b = encode(negotiate_message{7, sc_c_none, {}, {}});
  auto m = decode_negotiate(b);
  ASSERT_TRUE(m) << m.err().message;
  EXPECT_EQ(m->tid, 7);
  EXPECT_TRUE(m->hash_ids.empty());
  EXPECT_TRUE(m->dh_ids.empty());
}

TEST(auth_messages, challenge_layout_and_round_trip) {
  challenge_message m{7, 2, 1, 0xa1b2c3d4, filled(48, 1), filled(256, 100)};
  auto b = encode(m);
  ASSERT_EQ(b.size(), 16u + 48 + 256);
  EXPECT_EQ(at(b, 0), 0x01);
  EXPECT_EQ(at(b, 1), 0x01);
  EXPECT_EQ(at(b, 6), 48);    // HL
  EXPECT_EQ(at(b, 8), 2);     // HASHID
  EXPECT_EQ(at(b, 9), 1);     // DHGID
  EXPECT_EQ(at(b, 10), 0x00);  // DHVLEN 256, little endian
  EXPECT_EQ(at(b, 11), 0x01);
  EXPECT_EQ(at(b, 12), 0xd4);  // SEQNUM
  EXPECT_EQ(at(b, 16), 1);     // C1
  EXPECT_EQ(at(b, 16 + 48), 100);  // DH value
  auto d = decode_challenge(b);
  ASSERT_TRUE(d) << d.err().message;
  EXPECT_EQ(d->seqnum, 0xa1b2c3d4u);
  EXPECT_EQ(d->c1, m.c1);
  EXPECT_EQ(d->dhv, m.dhv);
}

TEST(auth_messages, reply_layout_and_round_trip) {
  reply_message m{9, true, 77, filled(32, 1), filled(32, 50), filled(10, 200)};
  auto b = encode(m);
  ASSERT_EQ(b.size(), 16u + 64 + 10);
  EXPECT_EQ(at(b, 1), 0x02);
  EXPECT_EQ(at(b, 6), 32);
  EXPECT_EQ(at(b, 8), 1);  // CVALID
  EXPECT_EQ(at(b, 10), 10);
  EXPECT_EQ(at(b, 12), 77);
  EXPECT_EQ(at(b, 16 + 32), 50);  // C2 after R1
  EXPECT_EQ(at(b, 16 + 64), 200);
  auto d = decode_reply(b);
  ASSERT_TRUE(d) << d.err().message;
  EXPECT_TRUE(d->cvalid);
  EXPECT_EQ(d->r1, m.r1);
  EXPECT_EQ(d->c2, m.c2);
  EXPECT_EQ(d->dhv, m.dhv);
}

TEST(auth_messages, success_and_failure_layouts) {
  auto s1 = encode(success1_message{3, 32, true, filled(32, 9)});
  ASSERT_EQ(s1.size(), 48u);
  EXPECT_EQ(at(s1, 1), 0x03);
  EXPECT_EQ(at(s1, 8), 1);
  EXPECT_EQ(at(s1, 16), 9);
  auto s1u = encode(success1_message{3, 48, false, {}});
  EXPECT_EQ(s1u.size(), 16u + 48);  // R2 is there, zero, as Linux hosts expect
  auto d1 = decode_success1(s1u);
  ASSERT_TRUE(d1);
  EXPECT_FALSE(d1->rvalid);
  EXPECT_EQ(d1->hl, 48);

  auto s2 = encode(success2_message{3});
  ASSERT_EQ(s2.size(), 16u);
  EXPECT_EQ(at(s2, 1), 0x04);
  EXPECT_TRUE(decode_success2(s2));

  auto f = encode(failure_message{message_id::failure1, 3, rescode_failed, uint8_t(failure_reason::hash_unusable)});
  ASSERT_EQ(f.size(), 8u);
  EXPECT_EQ(at(f, 0), 0x00);
  EXPECT_EQ(at(f, 1), 0xf1);
  EXPECT_EQ(at(f, 6), 0x01);
  EXPECT_EQ(at(f, 7), 0x04);
  auto df = decode_failure(f);
  ASSERT_TRUE(df);
  EXPECT_EQ(df->which, message_id::failure1);
  EXPECT_EQ(df->explanation, 0x04);
}

TEST(auth_messages, wrong_type_or_id_is_refused) {
  auto b = encode(challenge_message{1, 1, 0, 1, filled(32, 0), {}});
  EXPECT_FALSE(decode_reply(b));
  EXPECT_FALSE(decode_negotiate(b));
  EXPECT_FALSE(decode_failure(b));
  EXPECT_FALSE(decode_success1(b));
}

TEST(auth_messages, length_fields_past_the_end_are_refused) {
  auto b = encode(challenge_message{1, 1, 1, 1, filled(32, 0), filled(256, 0)});
  b[10] = std::byte{0xff};  // DHVLEN far beyond
  b[11] = std::byte{0xff};
  EXPECT_FALSE(decode_challenge(b));
  auto r = encode(reply_message{1, false, 0, filled(32, 0), {}, {}});
  r[6] = std::byte{0xff};  // HL 255: 510 bytes of R1 + C2
  EXPECT_FALSE(decode_reply(r));
  auto s = encode(success1_message{1, 32, true, filled(32, 0)});
  s[6] = std::byte{64};
  EXPECT_FALSE(decode_success1(s));
}

// Every message cut at every length: a short one is refused, none reads out of bounds
// (the buffer is exactly the cut length, so ASan would see any overread).
TEST(auth_messages, every_truncation_is_refused) {
  std::vector<std::vector<std::byte>> all = {
      encode(negotiate_message{1, 0, {1, 2, 3}, {0, 1}}),
      encode(challenge_message{1, 1, 1, 5, filled(32, 0), filled(256, 0)}),
      encode(reply_message{1, true, 5, filled(32, 0), filled(32, 0), filled(256, 0)}),
      encode(success1_message{1, 32, true, filled(32, 0)}),
      encode(success2_message{1}),
      encode(failure_message{message_id::failure2, 1, 1, 1}),
  };
  for (const auto& full : all) {
    for (size_t n = 0; n < full.size(); ++n) {
      std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<ptrdiff_t>(n));
      SCOPED_TRACE(testing::Message() << "message " << at(full, 1) << " cut at " << n);
      EXPECT_FALSE(decode_negotiate(cut));
      EXPECT_FALSE(decode_challenge(cut));
      EXPECT_FALSE(decode_reply(cut));
      EXPECT_FALSE(decode_success1(cut));
      EXPECT_FALSE(decode_success2(cut));
      EXPECT_FALSE(decode_failure(cut));
      if (n < 6) {
        EXPECT_FALSE(peek_kind(cut).has_value());
      }
    }
  }
}

}  // namespace
}  // namespace nvmfd::auth
