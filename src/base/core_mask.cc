#include "base/core_mask.h"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <stdexcept>

namespace nvmfd {

result<std::vector<int>> cpus_from_core_mask(const std::string& mask) {
  std::vector<int> cpus;
  if (!mask.empty() && mask.front() == '[') {
    if (mask.back() != ']') return error{errc::invalid_argument, "a core list must end with ']'"};
    std::string body = mask.substr(1, mask.size() - 2);
    size_t pos = 0;
    while (pos <= body.size()) {
      size_t comma = body.find(',', pos);
      std::string item = body.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      size_t dash = item.find('-');
      try {
        size_t used = 0;
        int lo = std::stoi(item.substr(0, dash), &used);
        if (used != (dash == std::string::npos ? item.size() : dash)) throw std::invalid_argument("junk");
        int hi = lo;
        if (dash != std::string::npos) {
          std::string h = item.substr(dash + 1);
          hi = std::stoi(h, &used);
          if (used != h.size()) throw std::invalid_argument("junk");
        }
        if (lo < 0 || hi < lo || hi > 1023) throw std::out_of_range("range");
        for (int c = lo; c <= hi; ++c) cpus.push_back(c);
      } catch (const std::exception&) {
        return error{errc::invalid_argument, fmt::format("bad core list entry '{}'", item)};
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  } else {
    std::string hex = mask;
    if (hex.size() > 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) hex = hex.substr(2);
    if (hex.empty() || hex.size() > 16 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      return error{errc::invalid_argument, "core mask must be hexadecimal (0x3) or a list ([0,2-3])"};
    uint64_t v = std::stoull(hex, nullptr, 16);
    for (int i = 0; i < 64; ++i)
      if (v & (uint64_t{1} << i)) cpus.push_back(i);
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  if (cpus.empty()) return error{errc::invalid_argument, "core mask selects no core"};
  return cpus;
}

}  // namespace nvmfd
