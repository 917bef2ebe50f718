#include "bdev/file_io.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/log.h"
#include "bdev/file_bdev.h"

namespace nvmfd {

namespace {
// The source of zero_fill writes: aligned for O_DIRECT, and a multiple of every block size.
// Never written. Not const, so that it lands in .bss (const would put 1 MiB of zeroes in
// .rodata, in the binary); its pages are the kernel's shared zero page until touched.
constexpr uint32_t zero_buf_size = 1u << 20;
alignas(4096) std::byte zero_buf[zero_buf_size];
// One read or write moves at most this much (io_uring lengths are 32-bit).
constexpr uint32_t max_step = 1u << 30;
}  // namespace

void file_io::start() {
  if (io_.op != bdev_op::flush && length() == 0) {
    finish(0);
    return;
  }
  switch (io_.op) {
    case bdev_op::read:
    case bdev_op::write:
      stage_ = stage::transfer;
      break;
    case bdev_op::flush:
      stage_ = stage::sync;
      break;
    case bdev_op::unmap:
      if (dev_.punch_hole_ok_.load(std::memory_order_relaxed)) {
        stage_ = stage::punch_hole;
        break;
      }
      [[fallthrough]];
    case bdev_op::write_zeroes:
      stage_ = dev_.zero_range_ok_.load(std::memory_order_relaxed) ? stage::zero_range
                                                                  : stage::zero_fill;
      break;
  }
  run();
}

void file_io::on_complete(int res, uint32_t) {
  if (advance(res)) run();
}

void file_io::run() {
  for (;;) {
    if (ring_) {
      if (io_uring_sqe* sqe = ring_->get_sqe(*this)) {
        prep(sqe);
        return;
      }
    }
    if (!advance(run_sync())) return;
  }
}

uint64_t file_io::offset() const { return io_.offset_blocks * dev_.block_size(); }
uint64_t file_io::length() const { return io_.num_blocks * dev_.block_size(); }

uint32_t file_io::step_bytes() const {
  uint64_t left = length() - done_;
  return static_cast<uint32_t>(std::min<uint64_t>(
      left, stage_ == stage::zero_fill ? zero_buf_size : max_step));
}

void file_io::prep(io_uring_sqe* sqe) {
  const int fd = dev_.fd_;
  switch (stage_) {
    case stage::transfer:
      if (io_.op == bdev_op::read) {
        io_uring_prep_read(sqe, fd, io_.buf + done_, step_bytes(), offset() + done_);
      } else {
        io_uring_prep_write(sqe, fd, io_.buf + done_, step_bytes(), offset() + done_);
        if (io_.fua) sqe->rw_flags = RWF_DSYNC;
      }
      break;
    case stage::zero_fill:
      io_uring_prep_write(sqe, fd, zero_buf, step_bytes(), offset() + done_);
      break;
    case stage::punch_hole:
      io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                              static_cast<off_t>(offset()), static_cast<off_t>(length()));
      break;
    case stage::zero_range:
      io_uring_prep_fallocate(sqe, fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                              static_cast<off_t>(offset()), static_cast<off_t>(length()));
      break;
    case stage::sync:
      io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
      break;
  }
}

int file_io::run_sync() {
  const int fd = dev_.fd_;
  const auto off = static_cast<off_t>(offset() + done_);
  ssize_t n = 0;
  switch (stage_) {
    case stage::transfer:
      if (io_.op == bdev_op::read) {
        n = pread(fd, io_.buf + done_, step_bytes(), off);
      } else {
        iovec iov{io_.buf + done_, step_bytes()};
        n = pwritev2(fd, &iov, 1, off, io_.fua ? RWF_DSYNC : 0);
      }
      break;
    case stage::zero_fill:
      n = pwrite(fd, zero_buf, step_bytes(), off);
      break;
    case stage::punch_hole:
      n = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(offset()), static_cast<off_t>(length()));
      break;
    case stage::zero_range:
      n = fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(offset()), static_cast<off_t>(length()));
      break;
    case stage::sync:
      n = fdatasync(fd);
      break;
  }
  return n < 0 ? -errno : static_cast<int>(n);
}

bool file_io::advance(int res) {
  if (res == -EINTR || res == -EAGAIN) return true;  // transient: issue the same step again
  switch (stage_) {
    case stage::transfer:
    case stage::zero_fill:
      if (res < 0) return finish(res);
      if (res == 0) return finish(-EIO);  // the file shrank under us, or the device stalled
      done_ += static_cast<uint64_t>(res);
      if (done_ < length()) return true;
      return stage_ == stage::transfer ? finish(0) : zeroing_done();
    case stage::punch_hole:
      if (res == -EOPNOTSUPP) {
        if (dev_.punch_hole_ok_.exchange(false, std::memory_order_relaxed))
          NVMFD_LOG_WARN("bdev {}: cannot punch holes in {}; unmap writes zeroes instead",
                         dev_.name(), dev_.filename());
        stage_ = dev_.zero_range_ok_.load(std::memory_order_relaxed) ? stage::zero_range
                                                                    : stage::zero_fill;
        return true;
      }
      return res < 0 ? finish(res) : zeroing_done();
    case stage::zero_range:
      if (res == -EOPNOTSUPP) {
        if (dev_.zero_range_ok_.exchange(false, std::memory_order_relaxed))
          NVMFD_LOG_WARN("bdev {}: no FALLOC_FL_ZERO_RANGE on {}; writing zeroes instead",
                         dev_.name(), dev_.filename());
        stage_ = stage::zero_fill;
        done_ = 0;
        return true;
      }
      return res < 0 ? finish(res) : zeroing_done();
    case stage::sync:
      return finish(res < 0 ? res : 0);
  }
  return finish(-EIO);
}

bool file_io::zeroing_done() {
  if (io_.fua && io_.op == bdev_op::write_zeroes) {
    stage_ = stage::sync;
    return true;
  }
  return finish(0);
}

bool file_io::finish(int status) {
  io_.complete_later(status);
  return false;
}

}  // namespace nvmfd
