#pragma once
// zero_region: one read-only region of zeroes per process, for bdevs that read zeroes in
// place (null). Mapped once, privately and anonymously, and never written: every page of it
// is the kernel's shared zero page, so sending from it touches one physical page.
#include <cstddef>

namespace nvmfd {

inline constexpr std::size_t zero_region_size = 4u << 20;

// The region (zero_region_size bytes, 4 KiB aligned); valid for the life of the process.
// Any thread. Aborts if the first mapping fails (at start-up, the process cannot run).
const std::byte* zero_region();

}  // namespace nvmfd
