#include "reactor/provided_buffers.h"

#include <sys/mman.h>

#include <bit>
#include <cassert>
#include <cerrno>

namespace nvmfd {

result<std::unique_ptr<provided_buffers>> provided_buffers::create(io_uring& ring, uint16_t group, uint16_t count,
                                                                   uint32_t size) {
  if (count == 0 || !std::has_single_bit(count) || count > 32768 || size == 0)
    return error{errc::invalid_argument, "provided buffers: count must be a power of two up to 32768, size > 0"};
  std::unique_ptr<provided_buffers> b(new provided_buffers(group, count, size));
  // The ring of buffer descriptors must be page aligned: it leads the mapping.
  size_t ring_len = size_t{count} * sizeof(io_uring_buf);
  b->mem_len_ = ring_len + size_t{count} * size;
  b->mem_ = mmap(nullptr, b->mem_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (b->mem_ == MAP_FAILED) {
    b->mem_ = nullptr;
    return error::from_errno(errno, "mmap (receive buffers)");
  }
  b->ring_ = static_cast<io_uring_buf_ring*>(b->mem_);
  b->data_ = static_cast<std::byte*>(b->mem_) + ring_len;
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(b->ring_);
  reg.ring_entries = count;
  reg.bgid = group;
  if (int rc = io_uring_register_buf_ring(&ring, &reg, 0); rc < 0)
    return error::from_errno(-rc, "io_uring_register_buf_ring");
  io_uring_buf_ring_init(b->ring_);
  int mask = io_uring_buf_ring_mask(count);
  for (uint16_t i = 0; i < count; ++i)
    io_uring_buf_ring_add(b->ring_, b->data_ + size_t{i} * size, size, i, mask, i);
  io_uring_buf_ring_advance(b->ring_, count);
  return b;
}

provided_buffers::~provided_buffers() {
  if (mem_) munmap(mem_, mem_len_);
}

std::span<const std::byte> provided_buffers::take(uint16_t bid, size_t len) {
  assert(bid < count_ && len <= size_);
  ++outstanding_;
  return {data_ + size_t{bid} * size_, len};
}

void provided_buffers::recycle(uint16_t bid) {
  assert(bid < count_ && outstanding_ > 0);
  --outstanding_;
  io_uring_buf_ring_add(ring_, data_ + size_t{bid} * size_, size_, bid, io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(ring_, 1);
}

}  // namespace nvmfd
