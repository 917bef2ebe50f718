#include "bdev/bdev_validate.h"

#include <cerrno>
#include <fmt/format.h>
#include <limits>

namespace nvmfd {

result<void> check_block_size(uint32_t block_size) {
  bool pow2 = block_size != 0 && (block_size & (block_size - 1)) == 0;
  if (!pow2 || block_size < min_block_size || block_size > max_block_size)
    return error{errc::invalid_argument,
                 fmt::format("block size {} is not a power of two from {} to {}", block_size,
                             min_block_size, max_block_size)};
  return success();
}

result<uint64_t> check_geometry(uint32_t block_size, uint64_t num_blocks) {
  if (auto r = check_block_size(block_size); !r) return r.take_err();
  if (num_blocks == 0) return error{errc::invalid_argument, "num_blocks must be greater than 0"};
  if (num_blocks > std::numeric_limits<uint64_t>::max() / block_size)
    return error{errc::invalid_argument,
                 fmt::format("{} blocks of {} bytes overflow 64 bits", num_blocks, block_size)};
  return num_blocks * block_size;
}

uuid pick_uuid(const std::optional<uuid>& id) {
  if (id && !id->is_zero()) return *id;
  return uuid::random_v4();
}

int validate_io(const bdev& b, const bdev_io& io) {
  if (!b.supports(io.op)) return -EOPNOTSUPP;
  switch (io.op) {
    case bdev_op::flush:
      return 0;  // NVMe Flush applies to the whole namespace: no range
    case bdev_op::read:
    case bdev_op::write:
      if (io.op == bdev_op::write && b.read_only()) return -EROFS;
      if (!b.in_range(io.offset_blocks, io.num_blocks)) return -EINVAL;
      if (io.num_blocks > 0 && io.buf == nullptr &&
          !(io.op == bdev_op::read && b.reads_in_place(io.num_blocks * b.block_size())))
        return -EINVAL;
      if (reinterpret_cast<uintptr_t>(io.buf) % b.buf_align() != 0) return -EINVAL;
      return 0;
    case bdev_op::write_zeroes:
    case bdev_op::unmap:
      if (b.read_only()) return -EROFS;
      return b.in_range(io.offset_blocks, io.num_blocks) ? 0 : -EINVAL;
  }
  return -EOPNOTSUPP;
}

}  // namespace nvmfd
