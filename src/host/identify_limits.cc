#include "host/identify_limits.h"

#include <algorithm>
#include <fmt/format.h>

#include "proto/nvme_command.h"

namespace nvmfd {

uint32_t max_transfer_from_mdts(uint8_t mdts, uint8_t mpsmin) {
  if (mdts == 0) return 1u << 20;
  uint64_t bytes = uint64_t{1} << std::min<unsigned>(12u + mpsmin + mdts, 30u);
  return static_cast<uint32_t>(bytes);
}

uint32_t in_capsule_data_limit(uint32_t ioccsz, uint32_t max_transfer) {
  uint64_t capsule = uint64_t{ioccsz} * 16;
  if (capsule <= sizeof(nvme_sqe)) return 0;
  return static_cast<uint32_t>(std::min<uint64_t>(capsule - sizeof(nvme_sqe), max_transfer));
}

result<namespace_geometry> namespace_geometry_of(const identify_namespace& ns) {
  uint8_t index = ns.flbas_format_index();
  if (index > ns.nlbaf)
    return error{errc::invalid_argument,
                 fmt::format("FLBAS selects LBA format {} of {} (NLBAF {})", index, ns.nlbaf + 1, ns.nlbaf)};
  uint8_t lbads = ns.lbaf[index].lbads;
  if (lbads < min_lbads || lbads > max_lbads)
    return error{errc::invalid_argument, fmt::format("LBADS {} (a block of 2^{} bytes) is outside {}..{} (512 B to 64 KiB)",
                                                     lbads, lbads, min_lbads, max_lbads)};
  uint64_t nsze = ns.nsze.get();
  if (nsze > (UINT64_MAX >> lbads))
    return error{errc::invalid_argument, fmt::format("NSZE {} blocks of {} bytes overflow 64 bits", nsze, 1u << lbads)};
  return namespace_geometry{1u << lbads, nsze};
}

}  // namespace nvmfd
