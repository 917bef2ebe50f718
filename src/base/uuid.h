#pragma once
// A 16-byte UUID (RFC 4122) with text form parsing and formatting.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nvmfd {

struct uuid {
  std::array<uint8_t, 16> bytes{};

  static uuid random_v4();
  // Accepts 8-4-4-4-12 hex, or 32 hex digits (NGUID form). nullopt on anything else.
  static std::optional<uuid> parse(std::string_view text);
  std::string to_string() const;           // lower-case 8-4-4-4-12
  std::string to_hex_upper() const;        // 32 upper-case hex digits (SPDK's nguid form)
  bool is_zero() const;
  auto operator<=>(const uuid&) const = default;
};

}  // namespace nvmfd
