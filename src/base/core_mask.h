#pragma once
// The CPUs named by an SPDK-style core mask: hexadecimal ("0x3", "3") or a list ("[0,2-3]").
// Sorted, without duplicates; invalid_argument for anything else or an empty selection.
#include <string>
#include <vector>

#include "base/result.h"

namespace nvmfd {

result<std::vector<int>> cpus_from_core_mask(const std::string& mask);

}  // namespace nvmfd
