// nvmfctl gen-dhchap-key / gen-tls-key / check-key: nvme-cli 2.3's outputs for fixed secrets,
// refusals, and key files written mode 0600.
#include "apps/nvmfctl/key_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>

#include "keys/dhchap_secret.h"
#include "keys/tls_psk.h"

namespace nvmfd::ctl {
namespace {

constexpr const char* secret32 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* nqn = "nqn.2014-08.org.nvmexpress:uuid:test";

std::string hex_counting(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += fmt::format("{:02x}", i);
  return s;
}

TEST(gen_dhchap_key, matches_nvme_cli_for_a_given_secret) {
  // nvme gen-dhchap-key -s <00..> -l L -m M -n nqn.2014-08.org.nvmexpress:uuid:test (nvme-cli 2.3).
  struct row { unsigned hmac; size_t len; const char* out; };
  for (const row& r : {
           row{0, 32, "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"},
           row{0, 48, "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vcSEgBQ==:"},
           row{1, 32, "DHHC-1:01:WulleCBkG4oCs0iIC3Cit9gBDCLWiZ9PNXuhqytWkBIZkvGy:"},
           row{2, 48, "DHHC-1:02:JzC2BNNCN092uBY9oK1bbG/xrkLudbjqzPRjAtH00YqVJN1+2TpCZUPYxrwS09Qxpo/5Jw==:"},
       }) {
    auto k = make_dhchap_key({r.hmac, r.len, nqn, hex_counting(r.len)});
    ASSERT_TRUE(k) << k.err().message;
    EXPECT_EQ(*k, r.out) << r.hmac << "/" << r.len;
  }
}

TEST(gen_dhchap_key, random_keys_have_the_asked_shape) {
  for (unsigned hmac = 0; hmac <= 3; ++hmac) {
    auto k = make_dhchap_key({hmac, 0, nqn, ""});
    ASSERT_TRUE(k) << k.err().message;
    auto s = keys::parse_dhchap_secret(*k);
    ASSERT_TRUE(s) << s.err().message;
    EXPECT_EQ(s->hmac, hmac);
    EXPECT_EQ(s->key.size(), hmac == 0 ? 32u : keys::dhchap_hmac_length(static_cast<uint8_t>(hmac)));
  }
  auto k64 = make_dhchap_key({0, 64, "", ""});
  ASSERT_TRUE(k64);
  EXPECT_EQ(keys::parse_dhchap_secret(*k64)->key.size(), 64u);
  EXPECT_NE(*make_dhchap_key({}), *make_dhchap_key({}));
}

TEST(gen_dhchap_key, refusals_name_the_option) {
  auto why = [](const dhchap_key_request& r) {
    auto k = make_dhchap_key(r);
    EXPECT_FALSE(k) << *k;
    return k ? std::string() : k.err().message;
  };
  EXPECT_NE(why({4, 0, nqn, ""}).find("--hmac 4"), std::string::npos);
  EXPECT_NE(why({0, 40, "", ""}).find("40 bytes"), std::string::npos);
  EXPECT_NE(why({2, 32, nqn, ""}).find("needs 48 bytes"), std::string::npos);
  EXPECT_NE(why({1, 0, "", ""}).find("--nqn"), std::string::npos);
  EXPECT_NE(why({0, 48, "", secret32}).find("--key-length says 48"), std::string::npos);
  EXPECT_NE(why({0, 0, "", "0011"}).find("2 bytes"), std::string::npos);
  EXPECT_NE(why({0, 0, "", "xyz1"}).find("hexadecimal"), std::string::npos);
  EXPECT_NE(why({0, 0, "", "001"}).find("even number"), std::string::npos);
}

TEST(gen_tls_key, encodes_a_given_secret_and_generates_random_ones) {
  // The configured PSK of SPDK's and OPI's TLS tests: the ASCII text 00112233...eeff.
  auto k = make_tls_key({1, "3030313132323333343435353636373738383939616162626363646465656666"});
  ASSERT_TRUE(k) << k.err().message;
  EXPECT_EQ(*k, "NVMeTLSkey-1:01:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:");
  for (unsigned hmac : {1u, 2u}) {
    auto r = make_tls_key({hmac, ""});
    ASSERT_TRUE(r) << r.err().message;
    auto p = keys::parse_tls_psk(*r);
    ASSERT_TRUE(p) << p.err().message;
    EXPECT_EQ(p->hash, hmac);
    EXPECT_EQ(p->key.size(), hmac == 1 ? 32u : 48u);
  }
  EXPECT_FALSE(make_tls_key({0, ""}));
  EXPECT_FALSE(make_tls_key({3, ""}));
  EXPECT_FALSE(make_tls_key({2, secret32}));  // 32 bytes for SHA-384
}

TEST(check_key, describes_both_formats_and_refuses_others) {
  auto d = describe_key("DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:\n");
  ASSERT_TRUE(d) << d.err().message;
  // nvme check-dhchap-key: "Key is valid (HMAC 0, length 32, CRC 91267e8a)"
  EXPECT_EQ(*d, "valid DH-HMAC-CHAP secret: hash 00 (none), 32-byte key, CRC-32 91267e8a");
  auto t = describe_key("NVMeTLSkey-1:01:MDAxMTIyMzM0NDU1NjY3Nzg4OTlhYWJiY2NkZGVlZmZwJEiQ:");
  ASSERT_TRUE(t) << t.err().message;
  EXPECT_EQ(*t, "valid TLS PSK: hash 01 (SHA-256), 32-byte key, CRC-32 90482470");
  auto bad_crc = describe_key("DHHC-1:00:Jc/My1o0qtLCWRp+sHhAVafdfaS7YQOMYhk9zSmlatobqB8C:");
  ASSERT_FALSE(bad_crc);
  EXPECT_NE(bad_crc.err().message.find("CRC-32"), std::string::npos);
  auto neither = describe_key("secret");
  ASSERT_FALSE(neither);
  EXPECT_NE(neither.err().message.find("neither"), std::string::npos);
}

TEST(write_key_file, creates_or_truncates_with_mode_0600) {
  char tmpl[] = "/tmp/key_commands_test.XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "a much longer old content\n", 26), 26);
  ::close(fd);
  ASSERT_EQ(::chmod(tmpl, 0644), 0);
  ASSERT_TRUE(write_key_file(tmpl, "KEY"));
  struct stat st {};
  ASSERT_EQ(::stat(tmpl, &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(tmpl);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(all, "KEY");  // no newline: SPDK's parsers want the file to end with ':'.
  ::unlink(tmpl);
  ASSERT_TRUE(write_key_file(tmpl, "NEW"));  // created
  ASSERT_EQ(::stat(tmpl, &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ::unlink(tmpl);
  EXPECT_FALSE(write_key_file("/nonexistent-dir/key", "KEY"));
}

}  // namespace
}  // namespace nvmfd::ctl
