#pragma once
// Whitespace trimming for key text read from files and command lines.
#include <string_view>

namespace nvmfd::keys {

// `s` without leading and trailing spaces, tabs, CR and LF.
inline std::string_view trim_view(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

}  // namespace nvmfd::keys
