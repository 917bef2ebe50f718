#include "bdev/null_bdev.h"

#include <cstring>

#include "bdev/bdev_validate.h"
#include "bdev/zero_region.h"

namespace nvmfd {

result<std::shared_ptr<null_bdev>> null_bdev::create(std::string name, uint32_t block_size,
                                                     uint64_t num_blocks,
                                                     std::optional<uuid> id) {
  if (auto size = check_geometry(block_size, num_blocks); !size) return size.take_err();
  return std::shared_ptr<null_bdev>(
      new null_bdev(std::move(name), block_size, num_blocks, pick_uuid(id)));
}

bool null_bdev::reads_in_place(uint64_t bytes) const { return bytes <= zero_region_size; }

void null_bdev::do_submit(bdev_io& io) {
  int st = validate_io(*this, io);
  if (st == 0 && io.op == bdev_op::read && io.num_blocks > 0) {
    if (io.buf == nullptr)
      io.buf = const_cast<std::byte*>(zero_region());  // read-only: in-place readers never write
    else
      std::memset(io.buf, 0, io.num_blocks * block_size());
  }
  io.complete_later(st);
}

}  // namespace nvmfd
