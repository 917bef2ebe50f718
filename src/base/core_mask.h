#pragma once
// CPU selection for the programs (nvmfd -m, nvmf-perf -c): SPDK-style core masks, and the
// CPUs this process may run on (its affinity, as `taskset` or a cgroup cpuset left it).
// Pure functions but allowed_cpus(), which asks the kernel; callable from any thread.
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace nvmfd {

// The CPUs named by a core mask: hexadecimal ("0x3", "3") or a list ("[0,2-3]").
// Sorted, without duplicates; invalid_argument for anything else or an empty selection.
result<std::vector<int>> cpus_from_core_mask(const std::string& mask);

// The CPUs this process may run on (sched_getaffinity), ascending; never empty on success.
// Fails with io_error and the errno text if the kernel does not say.
result<std::vector<int>> allowed_cpus();

// Success when every CPU of cpus is in allowed (both ascending); otherwise invalid_argument
// naming the first one that is not: "core 3 is not available to this process (allowed: 0-1)".
result<void> check_cpus_allowed(const std::vector<int>& cpus, const std::vector<int>& allowed);

// A CPU list in the kernel's cpulist form ("0-3,6"), as taskset -c takes it.
std::string format_cpu_list(const std::vector<int>& cpus);

// What a program runs on when it is given no mask.
enum class cpu_default : uint8_t {
  all_allowed,    // every CPU the process may run on (nvmfd: a reactor each)
  first_allowed,  // the lowest of them (nvmf-perf: one core, as spdk_nvme_perf's 0x1)
};

// The CPUs to run on: those of mask, each of which must be allowed, or, when mask is
// empty, the default taken from allowed (ascending, non-empty). invalid_argument for a
// bad mask or a CPU outside allowed.
result<std::vector<int>> select_cpus(const std::string& mask, cpu_default when_no_mask,
                                     const std::vector<int>& allowed);

}  // namespace nvmfd
