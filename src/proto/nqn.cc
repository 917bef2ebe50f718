#include "proto/nqn.h"

#include <string>

namespace nvmfd {

namespace {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool is_uuid_text(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

bool is_reverse_domain(std::string_view d) {
  if (d.empty()) return false;
  size_t label = 0;
  for (char c : d) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (is_alpha(c) || is_digit(c) || c == '-') {
      ++label;
    } else {
      return false;
    }
  }
  return label != 0;
}

error invalid(std::string_view nqn, const char* why) {
  return error{errc::invalid_argument, "invalid NQN '" + std::string(nqn) + "': " + why};
}

}  // namespace

result<void> validate_nqn(std::string_view nqn) {
  if (nqn.empty()) return invalid(nqn, "empty");
  if (nqn.size() > nqn_max_length) return invalid(nqn.substr(0, 32), "longer than 223 bytes");
  for (char c : nqn) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return invalid(nqn, "control character");
  }
  if (nqn == discovery_nqn) return success();
  if (nqn.starts_with(nqn_uuid_prefix)) {
    if (!is_uuid_text(nqn.substr(nqn_uuid_prefix.size())))
      return invalid(nqn, "UUID form needs 8-4-4-4-12 hex digits");
    return success();
  }
  if (!nqn.starts_with("nqn.")) return invalid(nqn, "must start with 'nqn.'");
  // "nqn.yyyy-mm." occupies bytes 0..11.
  if (nqn.size() < 13 || !is_digit(nqn[4]) || !is_digit(nqn[5]) || !is_digit(nqn[6]) ||
      !is_digit(nqn[7]) || nqn[8] != '-' || !is_digit(nqn[9]) || !is_digit(nqn[10]) ||
      nqn[11] != '.')
    return invalid(nqn, "needs a yyyy-mm. date after 'nqn.'");
  const std::string_view rest = nqn.substr(12);
  const size_t colon = rest.find(':');
  if (!is_reverse_domain(rest.substr(0, colon)))
    return invalid(nqn, "reverse domain name must be dot-separated labels of [A-Za-z0-9-]");
  if (colon != std::string_view::npos && colon + 1 == rest.size())
    return invalid(nqn, "empty string after ':'");
  return success();
}

}  // namespace nvmfd
