#pragma once
// file_io: one bdev_io in flight on a file_bdev. It lives in the bdev_io's backend_ctx
// (so submit allocates nothing) and runs on the submitting reactor's thread: a small state
// machine whose every step is one io_uring operation, or, without a ring (or with a full
// one), the same operation as a synchronous syscall. It completes the bdev_io through
// complete_later(), so never inline. Internal to file_bdev.
#include <cstdint>

#include "bdev/bdev.h"
#include "reactor/uring_engine.h"

namespace nvmfd {

class file_bdev;

class file_io final : public uring_op {
 public:
  // ring: the owner reactor's engine, or nullptr for synchronous syscalls.
  file_io(file_bdev& dev, bdev_io& io, uring_engine* ring) : dev_(dev), io_(io), ring_(ring) {}
  void start();
  void on_complete(int res, uint32_t flags) override;

 private:
  enum class stage : uint8_t {
    transfer,    // read or write the caller's buffer
    punch_hole,  // unmap
    zero_range,  // write_zeroes, or unmap where holes cannot be punched
    zero_fill,   // write zeroes from a static buffer where fallocate cannot zero
    sync,        // fdatasync: flush, or write_zeroes with fua
  };

  // Issues steps until one is in flight on the ring or the I/O has completed.
  void run();
  void prep(io_uring_sqe* sqe);
  int run_sync();
  // Takes a step's result; true when another step is to be issued.
  bool advance(int res);
  bool zeroing_done();
  bool finish(int status);
  uint64_t offset() const;
  uint64_t length() const;
  uint32_t step_bytes() const;

  file_bdev& dev_;
  bdev_io& io_;
  uring_engine* ring_;
  uint64_t done_ = 0;  // bytes transferred so far (transfer, zero_fill)
  stage stage_ = stage::transfer;
};

}  // namespace nvmfd
