#pragma once
// identify_limits: what the host takes from a controller's Identify data, with every field
// from the wire checked, so that a hostile or broken controller gets a clear error rather
// than an undefined shift, a wrapped product or a zero block size.
#include <cstdint>

#include "base/result.h"
#include "proto/identify.h"

namespace nvmfd {

// Largest transfer: 2^MDTS pages of CAP.MPSMIN (4 KiB << MPSMIN); MDTS 0 = no limit, for
// which we use 1 MiB. Computed in 64 bits and clamped to 1 GiB; never below 4 KiB.
uint32_t max_transfer_from_mdts(uint8_t mdts, uint8_t mpsmin);

// In-capsule data an I/O queue may carry: IOCCSZ * 16 bytes less the 64-byte SQE (0 when the
// capsule holds the SQE only). Computed in 64 bits (IOCCSZ is 32 bits: * 16 wraps) and bounded
// by the largest transfer, since no command carries more.
uint32_t in_capsule_data_limit(uint32_t ioccsz, uint32_t max_transfer);

// Smallest and largest LBA data size (as LBADS) the host accepts: 512 bytes to 64 KiB.
inline constexpr uint8_t min_lbads = 9;
inline constexpr uint8_t max_lbads = 16;

struct namespace_geometry {
  uint32_t block_size = 0;
  uint64_t num_blocks = 0;
};

// The namespace's block size and count from Identify Namespace. Errors (invalid_argument, the
// message names the field): FLBAS selecting a format past NLBAF, LBADS outside 9..16, or NSZE
// blocks whose size in bytes does not fit in 64 bits.
result<namespace_geometry> namespace_geometry_of(const identify_namespace& ns);

}  // namespace nvmfd
