#pragma once
// ram_bdev: a block device in anonymous memory (SPDK's "Malloc disk"). The memory is
// mapped MAP_NORESERVE, so a large RAM disk costs only the pages written; content starts
// as zeroes, and unmap gives whole pages back to the kernel.
//
// Every op is a memcpy/memset on the submitting reactor's thread, completed later on that
// reactor (never inline). RAM is the medium, so there is no volatile cache and a flush
// has nothing to do. Overlapping I/Os in flight at once from different reactors see each
// other's bytes in no defined order, as on any device (NVMe orders no concurrent commands).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "bdev/bdev.h"

namespace nvmfd {

class ram_bdev final : public bdev {
 public:
  // Control thread. block_size: a power of two from 512 to 64 KiB; num_blocks > 0. Fails
  // with invalid_argument for bad geometry, no_memory if the mapping fails (address space,
  // or overcommit disabled). A missing or nil id gets a random UUID.
  static result<std::shared_ptr<ram_bdev>> create(std::string name, uint32_t block_size,
                                                  uint64_t num_blocks, std::optional<uuid> id);
  ~ram_bdev() override;

  std::string_view product_name() const override { return "Malloc disk"; }
  bool has_volatile_cache() const override { return false; }
  bool supports(bdev_op) const override { return true; }
  // Every read in place: straight from the disk's memory.
  bool reads_in_place(uint64_t) const override { return true; }
  void do_submit(bdev_io& io) override;

 private:
  ram_bdev(std::string name, uint32_t block_size, uint64_t num_blocks, uuid id,
           std::byte* mem, uint64_t size);
  // Zeroes [off, off+len): whole pages are dropped (they read back as zeroes), the rest
  // is memset.
  void zero_range(uint64_t off, uint64_t len);

  std::byte* mem_;
  uint64_t size_;
};

}  // namespace nvmfd
