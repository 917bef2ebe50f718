#pragma once
// volatile_cache_bdev: a TEST TOOL that simulates a disk with a volatile write cache, for
// crash tests of the layers above (lvol, ...). The medium is an existing regular file; the
// cache is process memory that a power cut loses.
//
// Ops:
//  - write, write_zeroes, unmap: the new contents of the blocks go into the cache, not into
//    the file (zero blocks are kept as zero runs, without their bytes). With fua, write and
//    write_zeroes go to the file instead (pwrite or hole punch, then fdatasync) before they
//    complete, and the cache drops its older copies of those blocks.
//  - read: cached blocks where present, else the file's (pread); a read sees every write
//    that completed before it was submitted.
//  - flush: writes every cached block to the file (adjacent ones in one pwritev; zero runs
//    as punched holes, or written zeroes where the filesystem cannot punch), clears the
//    cache, then fdatasyncs: when it completes with 0, every write completed before it is
//    on stable storage (the bdev.h contract). If a write to the file fails the cache is
//    kept, so a later flush retries.
//  - errors: -EINVAL and friends from the contract checks (bdev_validate.h), else the
//    negative errno of the failed syscall (-EIO for a file that shrank under us).
//
// power_cut() drops the cache without writing it, as a power cut (or a SIGKILL of the
// process) would. The destructor drops it too, without a flush: only flushed (or fua) data
// survives this bdev, by design.
//
// Threads: submit() from any reactor thread. One mutex guards the cache, and the file I/O
// runs synchronously inside submit() on the submitting reactor's thread (the fdatasync
// outside the mutex), so submit() blocks and allocates: acceptable for a test tool only.
// Completions run later on the submitting reactor (complete_later), never inline.
// power_cut() and the counters from any thread.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "bdev/bdev.h"

namespace nvmfd {

class volatile_cache_bdev final : public bdev {
 public:
  // Control thread. filename: an existing regular file, opened read-write; its size a
  // non-zero multiple of block_size (a power of two from 512 to 64 KiB). Fails with
  // not_found (no such file), invalid_argument (not a regular file, empty, size not a
  // multiple of the block size, bad block size) or io_error (any other OS failure, errno
  // in sys_errno). A missing or nil id gets a random UUID.
  static result<std::shared_ptr<volatile_cache_bdev>> create(std::string name,
                                                             std::string filename,
                                                             uint32_t block_size,
                                                             std::optional<uuid> id);
  // Drops the cache (no flush) and closes the file.
  ~volatile_cache_bdev() override;

  std::string_view product_name() const override { return "Volatile cache disk"; }
  bool has_volatile_cache() const override { return true; }
  bool supports(bdev_op) const override { return true; }
  void do_submit(bdev_io& io) override;

  // Loses every write not yet flushed; I/Os in flight on other threads either finished
  // before it or see the cache after it.
  void power_cut();

  const std::string& filename() const { return filename_; }
  // Blocks whose contents are only in the cache.
  uint64_t cached_blocks() const;
  // Flushes that completed with 0.
  uint64_t flushes() const { return flushes_.load(std::memory_order_relaxed); }

 private:
  // A run of cached blocks; bytes empty: they are all zeroes.
  struct extent {
    uint64_t count = 0;
    std::vector<std::byte> bytes;
  };

  volatile_cache_bdev(std::string name, uint32_t block_size, uint64_t num_blocks, uuid id,
                      std::string filename, int fd);

  int read(const bdev_io& io);
  // write, write_zeroes and unmap into the cache.
  void cache(const bdev_io& io);
  // write and write_zeroes with fua: to the file, then fdatasync.
  int write_through(const bdev_io& io);
  int flush();

  // Removes [first, end) from the cache, trimming the extents that straddle its ends.
  void carve(uint64_t first, uint64_t end);
  // The part [from, to) of the extent that starts at start.
  extent slice(uint64_t start, const extent& e, uint64_t from, uint64_t to) const;
  // Writes the cache to the file; the caller holds mu_.
  int write_back();
  // Zeroes [off, off+len) bytes of the file: a punched hole, or written zeroes.
  int zero_file(uint64_t off, uint64_t len);

  std::string filename_;
  int fd_;
  mutable std::mutex mu_;
  std::map<uint64_t, extent> cache_;  // by first block; extents never overlap
  std::atomic<bool> punch_hole_ok_{true};
  std::atomic<uint64_t> flushes_{0};
};

}  // namespace nvmfd
