#pragma once
// file_bdev: a block device on a regular file or a Linux block device (SPDK's "AIO disk",
// bdev_aio_create). I/O goes through the submitting reactor's io_uring; completions run
// on that reactor, never inline. Where io_uring is unavailable (or its ring is full), the
// same I/O runs as plain syscalls on the reactor thread: correct, but it blocks the
// reactor for the duration, so that is a fallback only.
//
// Ops:
//  - read, write: IORING_OP_READ/WRITE; short counts are resubmitted for the remainder.
//    With O_DIRECT, buffers must be aligned to buf_align() (at most 4096), else -EINVAL.
//  - write with fua: the write carries RWF_DSYNC (durable, with the metadata needed to
//    read it back, when it completes).
//  - flush: fdatasync (IORING_OP_FSYNC with IORING_FSYNC_DATASYNC): every write completed
//    before is durable when it completes.
//  - write_zeroes: fallocate(FALLOC_FL_ZERO_RANGE); where the filesystem refuses (tmpfs),
//    zeroes are written in 1 MiB chunks, one after another. fua adds an fdatasync.
//  - unmap: fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE), which on a block device
//    is a write-zeroes offload that may deallocate; where refused, it falls back to the
//    write_zeroes path, so an unmapped range always reads as zeroes.
//  - on a read-only bdev, write, write_zeroes and unmap fail with -EROFS.
// Errors from the OS come back as the negative errno io_uring or the syscall reported.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "bdev/bdev.h"

namespace nvmfd {

struct file_bdev_options {
  // Open with O_DIRECT where the filesystem and the block size allow; false: buffered I/O
  // through the page cache.
  bool try_direct = true;
  // false: always use the synchronous fallback (for tests of that path).
  bool use_uring = true;
};

class file_bdev final : public bdev {
 public:
  // Control thread. filename: a regular file (its size a non-zero multiple of the block
  // size) or a block device. block_size: 0 = detect (the logical block size of a block
  // device, 512 for a file); else a power of two from 512 to 64 KiB and, on a block
  // device, a multiple of its logical block size. readonly opens O_RDONLY.
  // Fails with not_found (no such file), invalid_argument (not a regular file or block
  // device, empty, size not a multiple of the block size, bad block size), or io_error
  // (any other OS failure, errno in sys_errno). A missing or nil id gets a random UUID.
  static result<std::shared_ptr<file_bdev>> create(std::string name, std::string filename,
                                                   uint32_t block_size, bool readonly,
                                                   std::optional<uuid> id,
                                                   file_bdev_options opts = {});
  ~file_bdev() override;

  std::string_view product_name() const override { return "AIO disk"; }
  // True unless provably not: false only when read-only, or for O_DIRECT on a block
  // device whose queue/write_cache in sysfs says "write through". Files always need
  // fdatasync (the disk's cache, the filesystem's metadata).
  bool has_volatile_cache() const override { return volatile_cache_; }
  bool supports(bdev_op) const override { return true; }
  uint32_t buf_align() const override { return buf_align_; }
  bool read_only() const override { return readonly_; }
  void do_submit(bdev_io& io) override;

  const std::string& filename() const { return filename_; }
  // True when the file was opened with O_DIRECT (false after the fallback to buffered).
  bool direct() const { return direct_; }
  bool is_block_device() const { return block_device_; }

 private:
  friend class file_io;
  struct setup;
  file_bdev(std::string name, uint32_t block_size, uint64_t num_blocks, uuid id,
            std::string filename, const setup& s, file_bdev_options opts);

  std::string filename_;
  int fd_;
  bool readonly_;
  bool direct_;
  bool block_device_;
  bool volatile_cache_;
  bool use_uring_;
  uint32_t buf_align_;
  // Learned at run time, the first time the filesystem refuses (any reactor may set them).
  std::atomic<bool> zero_range_ok_{true};
  std::atomic<bool> punch_hole_ok_{true};
  std::atomic<bool> warned_sync_{false};
};

}  // namespace nvmfd
