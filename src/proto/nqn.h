#pragma once
// NVMe Qualified Names (NVMe Base 2.0 4.5). Pure functions; callable from any core.
#include <array>
#include <cstddef>
#include <string_view>

#include "base/result.h"

namespace nvmfd {

inline constexpr size_t nqn_max_length = 223;   // bytes, without the terminating NUL
inline constexpr size_t nqn_field_size = 256;   // SUBNQN/HOSTNQN fields on the wire

// The well-known discovery service NQN.
inline constexpr std::string_view discovery_nqn = "nqn.2014-08.org.nvmexpress.discovery";
// Prefix of the UUID-based form (format 2), followed by a 36-character UUID.
inline constexpr std::string_view nqn_uuid_prefix = "nqn.2014-08.org.nvmexpress:uuid:";

// The NQN in a wire field: the bytes before the first NUL, or all 256 if there is none
// (validate_nqn rejects that as too long; Linux nvmet forces a NUL at byte 255 instead).
inline std::string_view nqn_from_field(const std::array<char, nqn_field_size>& field) {
  size_t n = 0;
  while (n < field.size() && field[n] != '\0') ++n;
  return {field.data(), n};
}

// Checks the NQN syntax. Accepts:
//   - the discovery NQN;
//   - "nqn.2014-08.org.nvmexpress:uuid:" + 8-4-4-4-12 hex digits (either case);
//   - "nqn." yyyy "-" mm "." reverse-domain [":" user-string], where the reverse domain is
//     dot-separated non-empty labels of letters, digits and '-', and the user string, if
//     its ':' is present, is non-empty.
// Rejects the empty string, more than 223 bytes, and control characters (< 0x20, 0x7f).
// The ':' part is optional because Linux nvmet accepts any name up to 223 bytes and names
// such as "nqn.2014-08.org.nvmexpress.discovery" have none (SPDK requires it).
// Fails with errc::invalid_argument and a message naming the rule.
result<void> validate_nqn(std::string_view nqn);

constexpr bool is_discovery_nqn(std::string_view nqn) { return nqn == discovery_nqn; }

}  // namespace nvmfd
