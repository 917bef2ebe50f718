#include <gtest/gtest.h>

#include "tls/psk_identity.h"

namespace nvmfd::tls {
namespace {

TEST(psk_identity, parses_version0) {
  auto id = parse_psk_identity("NVMe0R02 nqn.h nqn.s");
  ASSERT_TRUE(id) << id.err().message;
  EXPECT_EQ(id->version, 0);
  EXPECT_EQ(id->hash, tls_hash::sha384);
  EXPECT_EQ(id->hostnqn, "nqn.h");
  EXPECT_EQ(id->subnqn, "nqn.s");
  EXPECT_EQ(id->to_string(), "NVMe0R02 nqn.h nqn.s");
}

TEST(psk_identity, parses_version1_with_digest) {
  std::string text = "NVMe1R01 nqn.h nqn.s " + std::string(44, 'A');
  auto id = parse_psk_identity(text);
  ASSERT_TRUE(id) << id.err().message;
  EXPECT_EQ(id->version, 1);
  EXPECT_EQ(id->digest, std::string(44, 'A'));
  EXPECT_EQ(id->to_string(), text);
}

TEST(psk_identity, refuses_malformed) {
  for (std::string_view bad :
       {"", "NVMe", "NVMe0R01", "NVMe0R01 ", "NVMe0R01 nqn.h", "NVMe0R01 nqn.h ", "NVMe0R01  nqn.s",
        "NVMe2R01 nqn.h nqn.s", "NVMe0G01 nqn.h nqn.s", "NVMe0X01 nqn.h nqn.s", "NVMe0R03 nqn.h nqn.s",
        "NVMe0R01 nqn.h nqn.s extra", "NVMe1R01 nqn.h nqn.s", "NVMe1R01 nqn.h nqn.s short", "nvme0R01 nqn.h nqn.s",
        "NVMe0R01xnqn.h nqn.s"}) {
    EXPECT_FALSE(parse_psk_identity(bad)) << bad;
  }
  EXPECT_FALSE(parse_psk_identity("NVMe0R01 " + std::string(224, 'h') + " nqn.s"));
}

TEST(psk_identity, every_truncation_is_refused_or_parses) {
  std::string text = "NVMe1R01 nqn.h nqn.s " + std::string(44, 'A');
  for (size_t n = 0; n < text.size(); ++n) EXPECT_FALSE(parse_psk_identity(text.substr(0, n))) << n;
}

}  // namespace
}  // namespace nvmfd::tls
