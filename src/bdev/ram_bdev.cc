#include "bdev/ram_bdev.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>

#include "bdev/bdev_validate.h"

namespace nvmfd {

namespace {
uint64_t page_size() {
  static const uint64_t size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}
}  // namespace

result<std::shared_ptr<ram_bdev>> ram_bdev::create(std::string name, uint32_t block_size,
                                                   uint64_t num_blocks, std::optional<uuid> id) {
  auto size = check_geometry(block_size, num_blocks);
  if (!size) return size.take_err();
  if (*size > static_cast<uint64_t>(PTRDIFF_MAX))
    return error{errc::no_memory, fmt::format("RAM disk {}: {} bytes exceed the address space",
                                              name, *size)};
  void* mem = mmap(nullptr, *size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) {
    int e = errno;
    return error{errc::no_memory,
                 fmt::format("RAM disk {}: mmap of {} bytes: {}", name, *size, std::strerror(e)),
                 e};
  }
  return std::shared_ptr<ram_bdev>(new ram_bdev(std::move(name), block_size, num_blocks,
                                                pick_uuid(id), static_cast<std::byte*>(mem),
                                                *size));
}

ram_bdev::ram_bdev(std::string name, uint32_t block_size, uint64_t num_blocks, uuid id,
                   std::byte* mem, uint64_t size)
    : bdev(std::move(name), block_size, num_blocks, id), mem_(mem), size_(size) {}

ram_bdev::~ram_bdev() { munmap(mem_, size_); }

void ram_bdev::do_submit(bdev_io& io) {
  int st = validate_io(*this, io);
  if (st != 0) return io.complete_later(st);
  uint64_t off = io.offset_blocks * block_size();
  uint64_t len = io.num_blocks * block_size();
  switch (io.op) {
    case bdev_op::read:
      if (io.buf == nullptr)
        io.buf = mem_ + off;  // in place (validate_io allowed the null buffer)
      else if (len)
        std::memcpy(io.buf, mem_ + off, len);
      break;
    case bdev_op::write:
      if (len) std::memcpy(mem_ + off, io.buf, len);
      break;
    case bdev_op::write_zeroes:
    case bdev_op::unmap:
      zero_range(off, len);
      break;
    case bdev_op::flush:
      break;
  }
  io.complete_later(0);
}

void ram_bdev::zero_range(uint64_t off, uint64_t len) {
  const uint64_t ps = page_size();
  uint64_t end = off + len;
  uint64_t first = (off + ps - 1) / ps * ps;  // first whole page
  uint64_t last = end / ps * ps;              // end of the last whole page
  if (first >= last) {
    std::memset(mem_ + off, 0, len);
    return;
  }
  std::memset(mem_ + off, 0, first - off);
  // A private anonymous page dropped by MADV_DONTNEED reads back as zeroes. madvise only
  // fails for arguments that are ours to get right; memset is the correct fallback anyway.
  if (madvise(mem_ + first, last - first, MADV_DONTNEED) != 0)
    std::memset(mem_ + first, 0, last - first);
  std::memset(mem_ + last, 0, end - last);
}

}  // namespace nvmfd
