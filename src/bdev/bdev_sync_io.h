#pragma once
// Blocking block I/O for control-path code (an lvol store's metadata, examine): one bdev_io
// run on a reactor of the pool while the calling thread waits. Control thread only, never
// a reactor thread of that pool (the wait would stall the reactor that must complete it).
// The buffer must be aligned to 4096 bytes (any bdev's buf_align()); aligned_buffer gives one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "base/result.h"
#include "bdev/bdev.h"
#include "reactor/reactor.h"

namespace nvmfd {

// Fails with io_error carrying the I/O's errno (or invalid_argument for -EINVAL).
result<void> sync_bdev_io(reactor_pool& pool, bdev& b, bdev_op op, uint64_t offset_blocks, uint64_t num_blocks,
                          std::byte* buf, bool fua = false);

// A zeroed heap buffer aligned to 4096 bytes.
struct aligned_buffer {
  explicit aligned_buffer(std::size_t len);
  std::byte* data() const { return p.get(); }
  std::size_t size() const { return len; }
  struct freer { void operator()(std::byte* b) const { std::free(b); } };
  std::unique_ptr<std::byte, freer> p;
  std::size_t len;
};

}  // namespace nvmfd
