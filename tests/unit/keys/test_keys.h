#pragma once
// Helpers shared by the tests of src/keys.
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nvmfd::keys::test {

// The bytes 00 01 02 ... (n of them): the secret nvme-cli's vectors were made from.
inline std::vector<uint8_t> counting(size_t n) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), uint8_t{0});
  return v;
}

// The error message of a parse that must fail (a test failure if it succeeded).
template <class T>
std::string refusal(const result<T>& r, std::string_view input) {
  EXPECT_FALSE(r.ok()) << "accepted: " << input;
  return r.ok() ? std::string() : r.err().message;
}

// True if `message` contains `part`; for EXPECT_TRUE with the message shown on failure.
inline ::testing::AssertionResult mentions(const std::string& message, std::string_view part) {
  if (message.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << message << "' does not mention '" << part << "'";
}

}  // namespace nvmfd::keys::test
