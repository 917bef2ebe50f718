#pragma once
// Builders for the admin submission entries our host sends outside the connect sequence's
// own helpers (NVMe Base 2.0 section 5).
#include <cstdint>

#include "base/strong_id.h"
#include "proto/identify.h"
#include "proto/nvme_command.h"

namespace nvmfd {

inline nvme_sqe make_identify(identify_cns cns, nsid_t nsid = nsid_t{}) {
  nvme_sqe c{};
  c.opcode = static_cast<uint8_t>(admin_opcode::identify);
  c.nsid = nsid.value;
  c.cdw10 = static_cast<uint32_t>(cns);
  return c;
}

}  // namespace nvmfd
