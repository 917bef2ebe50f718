#pragma once
// provided_buffers: receive buffers lent to the kernel through an io_uring provided-buffer
// ring (one buffer group). A receive armed with buffer select takes the next free buffer for
// each completion and names it in the CQE (IORING_CQE_F_BUFFER, id in the upper flag bits);
// the receiver reads the bytes with data() and gives the buffer back with recycle() as soon
// as it has consumed them. When none is free, a multishot receive ends with -ENOBUFS.
//
// Owned by its uring_engine; used on the engine's reactor thread only. The memory is one
// anonymous mapping, released after the ring is gone (the engine destroys the ring first).
#include <liburing.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/result.h"

namespace nvmfd {

class provided_buffers {
 public:
  // count must be a power of two (at most 32768); registers the group with ring.
  static result<std::unique_ptr<provided_buffers>> create(io_uring& ring, uint16_t group, uint16_t count,
                                                          uint32_t size);
  ~provided_buffers();
  provided_buffers(const provided_buffers&) = delete;
  provided_buffers& operator=(const provided_buffers&) = delete;

  uint16_t group() const { return group_; }
  uint16_t count() const { return count_; }
  uint32_t buffer_size() const { return size_; }
  // Takes buffer bid that a CQE reported filled with len bytes: its bytes, valid until
  // recycle(bid) gives it back to the kernel.
  std::span<const std::byte> take(uint16_t bid, size_t len);
  void recycle(uint16_t bid);
  // Buffers taken and not recycled yet (0 between completions: tests check it).
  unsigned outstanding() const { return outstanding_; }

 private:
  provided_buffers(uint16_t group, uint16_t count, uint32_t size) : group_(group), count_(count), size_(size) {}

  uint16_t group_;
  uint16_t count_;
  uint32_t size_;
  void* mem_ = nullptr;
  size_t mem_len_ = 0;
  io_uring_buf_ring* ring_ = nullptr;
  std::byte* data_ = nullptr;
  unsigned outstanding_ = 0;
};

}  // namespace nvmfd
