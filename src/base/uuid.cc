#include "base/uuid.h"

#include <fmt/format.h>
#include <random>

namespace nvmfd {

uuid uuid::random_v4() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uuid u;
  for (size_t i = 0; i < 16; i += 8) {
    uint64_t r = rng();
    for (size_t j = 0; j < 8; ++j) u.bytes[i + j] = static_cast<uint8_t>(r >> (8 * j));
  }
  u.bytes[6] = static_cast<uint8_t>((u.bytes[6] & 0x0F) | 0x40);
  u.bytes[8] = static_cast<uint8_t>((u.bytes[8] & 0x3F) | 0x80);
  return u;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<uuid> uuid::parse(std::string_view text) {
  std::string hex;
  if (text.size() == 36) {
    for (size_t i = 0; i < text.size(); ++i) {
      bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_pos != (text[i] == '-')) return std::nullopt;
      if (!dash_pos) hex.push_back(text[i]);
    }
  } else if (text.size() == 32) {
    hex = text;
  } else {
    return std::nullopt;
  }
  uuid u;
  for (size_t i = 0; i < 16; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    u.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return u;
}

std::string uuid::to_string() const {
  std::string s;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s += fmt::format("{:02x}", bytes[i]);
  }
  return s;
}

std::string uuid::to_hex_upper() const {
  std::string s;
  for (auto b : bytes) s += fmt::format("{:02X}", b);
  return s;
}

bool uuid::is_zero() const {
  for (auto b : bytes)
    if (b) return false;
  return true;
}

}  // namespace nvmfd
