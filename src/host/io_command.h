#pragma once
// Builders for NVM command set I/O submission entries (NVM Command Set 1.0 section 3).
#include <cstdint>

#include "base/strong_id.h"
#include "proto/nvme_command.h"

namespace nvmfd {

inline constexpr uint32_t max_nlb_per_command = 65536;  // NLB is a 16-bit zero-based field

inline nvme_sqe make_rw(io_opcode op, nsid_t nsid, uint64_t slba, uint32_t nlb, bool fua = false) {
  nvme_sqe c{};
  c.opcode = static_cast<uint8_t>(op);
  c.nsid = nsid.value;
  c.cdw10 = static_cast<uint32_t>(slba);
  c.cdw11 = static_cast<uint32_t>(slba >> 32);
  c.cdw12 = ((nlb - 1) & 0xffff) | (fua ? 1u << 30 : 0u);
  return c;
}

inline nvme_sqe make_flush(nsid_t nsid) {
  nvme_sqe c{};
  c.opcode = static_cast<uint8_t>(io_opcode::flush);
  c.nsid = nsid.value;
  return c;
}

// Dataset Management with the deallocate attribute over `ranges` ranges (data: 16 bytes each).
inline nvme_sqe make_deallocate(nsid_t nsid, uint32_t ranges) {
  nvme_sqe c{};
  c.opcode = static_cast<uint8_t>(io_opcode::dataset_management);
  c.nsid = nsid.value;
  c.cdw10 = ranges - 1;
  c.cdw11 = 1u << 2;  // AD
  return c;
}

struct dsm_range_wire {
  le32 attributes;
  le32 nlb;
  le64 slba;
};
static_assert(sizeof(dsm_range_wire) == 16);

}  // namespace nvmfd
