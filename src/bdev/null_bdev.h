#pragma once
// null_bdev: a block device that stores nothing (SPDK's "Null disk"), for benchmarks and
// tests. Writes are discarded; reads return zeroes (SPDK's null bdev leaves the buffer as
// it was; we zero it, so a host never sees stale memory and reads agree with unmap and
// write_zeroes). Every op in range succeeds, completed later on the submitting reactor.
// No volatile cache: there is nothing to flush.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "bdev/bdev.h"

namespace nvmfd {

class null_bdev final : public bdev {
 public:
  // Control thread. block_size: a power of two from 512 to 64 KiB; num_blocks > 0 and
  // num_blocks * block_size within 64 bits. Fails with invalid_argument. A missing or nil
  // id gets a random UUID.
  static result<std::shared_ptr<null_bdev>> create(std::string name, uint32_t block_size,
                                                   uint64_t num_blocks, std::optional<uuid> id);

  std::string_view product_name() const override { return "Null disk"; }
  bool has_volatile_cache() const override { return false; }
  bool supports(bdev_op) const override { return true; }
  // Reads of up to zero_region_size bytes in place: from one shared region of zeroes.
  bool reads_in_place(uint64_t bytes) const override;
  void do_submit(bdev_io& io) override;

 private:
  using bdev::bdev;
};

}  // namespace nvmfd
