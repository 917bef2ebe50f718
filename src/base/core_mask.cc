#include "base/core_mask.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
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

result<std::vector<int>> allowed_cpus() {
  // A set big enough for the machine: grow it while the kernel says it is too small.
  for (int ncpus = 1024; ncpus <= (1 << 20); ncpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(ncpus);
    if (!set) return error{errc::io_error, "out of memory for a CPU set"};
    const size_t size = CPU_ALLOC_SIZE(ncpus);
    CPU_ZERO_S(size, set);
    if (sched_getaffinity(0, size, set) != 0) {
      const int e = errno;
      CPU_FREE(set);
      if (e == EINVAL) continue;
      return error{errc::io_error, fmt::format("sched_getaffinity: {}", std::strerror(e))};
    }
    std::vector<int> cpus;
    for (int c = 0; c < ncpus; ++c)
      if (CPU_ISSET_S(c, size, set)) cpus.push_back(c);
    CPU_FREE(set);
    if (cpus.empty()) return error{errc::io_error, "sched_getaffinity: no CPU"};
    return cpus;
  }
  return error{errc::io_error, "sched_getaffinity: the CPU set is too large"};
}

std::string format_cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", cpus[i]) : fmt::format("{}-{}", cpus[i], cpus[j]);
    i = j + 1;
  }
  return out;
}

result<void> check_cpus_allowed(const std::vector<int>& cpus, const std::vector<int>& allowed) {
  for (int c : cpus)
    if (!std::binary_search(allowed.begin(), allowed.end(), c))
      return error{errc::invalid_argument, fmt::format("core {} is not available to this process (allowed: {})", c,
                                                       format_cpu_list(allowed))};
  return success();
}

result<std::vector<int>> select_cpus(const std::string& mask, cpu_default when_no_mask,
                                     const std::vector<int>& allowed) {
  if (mask.empty()) {
    if (allowed.empty()) return error{errc::invalid_argument, "no CPU is available to this process"};
    if (when_no_mask == cpu_default::first_allowed) return std::vector<int>{allowed.front()};
    return allowed;
  }
  auto cpus = cpus_from_core_mask(mask);
  if (!cpus) return cpus;
  if (auto a = check_cpus_allowed(*cpus, allowed); !a) return a.take_err();
  return cpus;
}

}  // namespace nvmfd
