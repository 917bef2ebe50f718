#pragma once
// qos_limits: a bdev's rate limits as bdev_set_qos_limit sets them and bdev_get_bdevs shows
// them (SPDK's assigned_rate_limits). 0 is unlimited. Megabytes are MiB (SPDK: 1024 * 1024).
#include <cstdint>

namespace nvmfd {

struct qos_limits {
  uint64_t rw_ios_per_sec = 0;
  uint64_t rw_mbytes_per_sec = 0;
  uint64_t r_mbytes_per_sec = 0;
  uint64_t w_mbytes_per_sec = 0;

  bool any() const { return rw_ios_per_sec || rw_mbytes_per_sec || r_mbytes_per_sec || w_mbytes_per_sec; }
  bool operator==(const qos_limits&) const = default;
};

}  // namespace nvmfd
