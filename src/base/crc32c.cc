#include "base/crc32c.h"

#include <isa-l/crc.h>

namespace nvmfd {

uint32_t crc32c_update(uint32_t state, const void* data, size_t len) {
  // ISA-L's crc32_iscsi takes and returns the raw (uncomplemented) register.
  return crc32_iscsi(static_cast<unsigned char*>(const_cast<void*>(data)), static_cast<int>(len), state);
}

}  // namespace nvmfd
