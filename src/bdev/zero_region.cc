#include "bdev/zero_region.h"

#include <sys/mman.h>

#include <cstdlib>

#include "base/log.h"

namespace nvmfd {

const std::byte* zero_region() {
  static const std::byte* region = [] {
    void* p = mmap(nullptr, zero_region_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      NVMFD_LOG_ERROR("zero region: mmap of {} bytes failed", zero_region_size);
      std::abort();  // invariant: address space for 4 MiB at start-up
    }
    return static_cast<const std::byte*>(p);
  }();
  return region;
}

}  // namespace nvmfd
