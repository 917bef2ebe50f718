#pragma once
// CRC32C (Castagnoli) as NVMe/TCP header and data digests use it (NVMe/TCP 3.6.1):
// initial value 0xFFFFFFFF, final complement. Backed by ISA-L's crc32_iscsi.
#include <cstddef>
#include <cstdint>

namespace nvmfd {

// Incremental form: start with crc32c_init, feed spans with crc32c_update, finish with crc32c_final.
constexpr uint32_t crc32c_init = 0xFFFFFFFFu;
uint32_t crc32c_update(uint32_t state, const void* data, size_t len);
constexpr uint32_t crc32c_final(uint32_t state) { return ~state; }

inline uint32_t crc32c(const void* data, size_t len) {
  return crc32c_final(crc32c_update(crc32c_init, data, len));
}

}  // namespace nvmfd
