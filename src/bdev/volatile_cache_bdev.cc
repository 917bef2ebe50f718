#include "bdev/volatile_cache_bdev.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <span>

#include "base/log.h"
#include "bdev/bdev_validate.h"

namespace nvmfd {

namespace {

// Zeroes are written in pieces of at most this size where holes cannot be punched.
constexpr uint64_t zero_chunk = 1u << 20;

error open_error(int e, std::string_view what) {
  error err = error::from_errno(e, what);
  if (e == ENOENT) err.code = errc::not_found;
  if (e == EISDIR) err.code = errc::invalid_argument;  // not a regular file
  return err;
}

// The size of the open file, checked against the block size.
result<uint64_t> checked_size(int fd, const std::string& name, const std::string& filename,
                              uint32_t block_size) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return open_error(errno, fmt::format("bdev {}: stat {}", name, filename));
  if (!S_ISREG(st.st_mode))
    return error{errc::invalid_argument,
                 fmt::format("bdev {}: {} is not a regular file", name, filename)};
  auto size = static_cast<uint64_t>(st.st_size);
  if (size == 0 || size % block_size != 0)
    return error{errc::invalid_argument,
                 fmt::format("bdev {}: size {} of {} is not a non-zero multiple of the block "
                             "size {}", name, size, filename, block_size)};
  return size;
}

// Writes all of iov at off, resuming after short writes. 0 or a negative errno.
int pwritev_all(int fd, std::span<iovec> iov, uint64_t off) {
  while (!iov.empty()) {
    int cnt = static_cast<int>(std::min<std::size_t>(iov.size(), IOV_MAX));
    ssize_t n = pwritev(fd, iov.data(), cnt, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return -EIO;
    off += static_cast<uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (left > 0) {
      std::size_t step = std::min(left, iov.front().iov_len);
      iov.front().iov_base = static_cast<std::byte*>(iov.front().iov_base) + step;
      iov.front().iov_len -= step;
      left -= step;
      if (iov.front().iov_len == 0) iov = iov.subspan(1);
    }
  }
  return 0;
}

int pwrite_all(int fd, const std::byte* buf, uint64_t len, uint64_t off) {
  iovec one{const_cast<std::byte*>(buf), len};
  return pwritev_all(fd, std::span<iovec>(&one, 1), off);
}

// Reads len bytes at off; the end of the file before them is -EIO (the file shrank).
int pread_all(int fd, std::byte* buf, uint64_t len, uint64_t off) {
  while (len > 0) {
    ssize_t n = pread(fd, buf, len, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return -EIO;
    buf += n;
    off += static_cast<uint64_t>(n);
    len -= static_cast<uint64_t>(n);
  }
  return 0;
}

int datasync(int fd) {
  while (fdatasync(fd) != 0) {
    if (errno != EINTR) return -errno;
  }
  return 0;
}

}  // namespace

result<std::shared_ptr<volatile_cache_bdev>> volatile_cache_bdev::create(std::string name,
                                                                         std::string filename,
                                                                         uint32_t block_size,
                                                                         std::optional<uuid> id) {
  if (auto r = check_block_size(block_size); !r) return r.take_err();
  int fd = open(filename.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return open_error(errno, fmt::format("bdev {}: open {}", name, filename));
  auto size = checked_size(fd, name, filename, block_size);
  if (!size) {
    close(fd);
    return size.take_err();
  }
  NVMFD_LOG_INFO("bdev {}: file {} behind a volatile write cache, {} blocks of {} bytes", name,
                 filename, *size / block_size, block_size);
  return std::shared_ptr<volatile_cache_bdev>(
      new volatile_cache_bdev(std::move(name), block_size, *size / block_size, pick_uuid(id),
                              std::move(filename), fd));
}

volatile_cache_bdev::volatile_cache_bdev(std::string name, uint32_t block_size,
                                         uint64_t num_blocks, uuid id, std::string filename,
                                         int fd)
    : bdev(std::move(name), block_size, num_blocks, id), filename_(std::move(filename)), fd_(fd) {}

volatile_cache_bdev::~volatile_cache_bdev() { close(fd_); }

void volatile_cache_bdev::do_submit(bdev_io& io) {
  int st = validate_io(*this, io);
  if (st == 0 && (io.op == bdev_op::flush || io.num_blocks > 0)) {
    switch (io.op) {
      case bdev_op::read:
        st = read(io);
        break;
      case bdev_op::write:
      case bdev_op::write_zeroes:
        if (io.fua)
          st = write_through(io);
        else
          cache(io);
        break;
      case bdev_op::unmap:
        cache(io);
        break;
      case bdev_op::flush:
        st = flush();
        break;
    }
  }
  io.complete_later(st);
}

void volatile_cache_bdev::power_cut() {
  std::lock_guard lk(mu_);
  cache_.clear();
}

uint64_t volatile_cache_bdev::cached_blocks() const {
  std::lock_guard lk(mu_);
  uint64_t n = 0;
  for (const auto& [first, e] : cache_) n += e.count;
  return n;
}

int volatile_cache_bdev::read(const bdev_io& io) {
  const uint64_t bs = block_size();
  const uint64_t end = io.offset_blocks + io.num_blocks;
  uint64_t pos = io.offset_blocks;
  std::byte* out = io.buf;
  std::lock_guard lk(mu_);
  auto it = cache_.upper_bound(pos);
  if (it != cache_.begin() && std::prev(it)->first + std::prev(it)->second.count > pos) --it;
  while (pos < end) {
    uint64_t next;
    if (it != cache_.end() && it->first <= pos) {
      const extent& e = it->second;
      next = std::min(end, it->first + e.count);
      if (e.bytes.empty())
        std::memset(out, 0, (next - pos) * bs);
      else
        std::memcpy(out, e.bytes.data() + (pos - it->first) * bs, (next - pos) * bs);
      ++it;
    } else {
      next = it == cache_.end() ? end : std::min(end, it->first);
      if (int st = pread_all(fd_, out, (next - pos) * bs, pos * bs); st != 0) return st;
    }
    out += (next - pos) * bs;
    pos = next;
  }
  return 0;
}

void volatile_cache_bdev::cache(const bdev_io& io) {
  extent e{io.num_blocks, {}};
  if (io.op == bdev_op::write) e.bytes.assign(io.buf, io.buf + io.num_blocks * block_size());
  std::lock_guard lk(mu_);
  carve(io.offset_blocks, io.offset_blocks + io.num_blocks);
  cache_.emplace(io.offset_blocks, std::move(e));
}

int volatile_cache_bdev::write_through(const bdev_io& io) {
  const uint64_t off = io.offset_blocks * block_size();
  const uint64_t len = io.num_blocks * block_size();
  {
    std::lock_guard lk(mu_);
    int st = io.op == bdev_op::write ? pwrite_all(fd_, io.buf, len, off) : zero_file(off, len);
    if (st != 0) return st;  // the cache keeps what it had: the write did not happen
    carve(io.offset_blocks, io.offset_blocks + io.num_blocks);
  }
  return datasync(fd_);
}

int volatile_cache_bdev::flush() {
  {
    std::lock_guard lk(mu_);
    if (int st = write_back(); st != 0) return st;
    cache_.clear();
  }
  // Outside the mutex: fdatasync makes durable every dirty page of the file, including
  // those a concurrent flush wrote back and has not synced yet.
  if (int st = datasync(fd_); st != 0) return st;
  flushes_.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

void volatile_cache_bdev::carve(uint64_t first, uint64_t end) {
  const uint64_t bs = block_size();
  auto it = cache_.lower_bound(first);
  if (it != cache_.begin()) {
    auto prev = std::prev(it);
    const uint64_t prev_end = prev->first + prev->second.count;
    if (prev_end > first) {
      if (prev_end > end) cache_.emplace(end, slice(prev->first, prev->second, end, prev_end));
      prev->second.count = first - prev->first;
      if (!prev->second.bytes.empty()) prev->second.bytes.resize(prev->second.count * bs);
    }
  }
  while (it != cache_.end() && it->first < end) {
    const uint64_t it_end = it->first + it->second.count;
    if (it_end > end) {
      extent tail = slice(it->first, it->second, end, it_end);
      it = cache_.erase(it);
      cache_.emplace_hint(it, end, std::move(tail));
      break;
    }
    it = cache_.erase(it);
  }
}

volatile_cache_bdev::extent volatile_cache_bdev::slice(uint64_t start, const extent& e,
                                                       uint64_t from, uint64_t to) const {
  extent out{to - from, {}};
  if (!e.bytes.empty()) {
    const uint64_t bs = block_size();
    auto b = e.bytes.begin() + static_cast<std::ptrdiff_t>((from - start) * bs);
    out.bytes.assign(b, b + static_cast<std::ptrdiff_t>(out.count * bs));
  }
  return out;
}

int volatile_cache_bdev::write_back() {
  const uint64_t bs = block_size();
  std::vector<iovec> run;  // adjacent data extents, written in one pwritev
  uint64_t run_first = 0, run_end = 0;
  auto write_run = [&] {
    int st = run.empty() ? 0 : pwritev_all(fd_, run, run_first * bs);
    run.clear();
    return st;
  };
  for (auto& [first, e] : cache_) {
    int st = 0;
    if (e.bytes.empty()) {
      st = write_run();
      if (st == 0) st = zero_file(first * bs, e.count * bs);
    } else {
      if (!run.empty() && first != run_end) st = write_run();
      if (run.empty()) run_first = first;
      run.push_back({e.bytes.data(), e.bytes.size()});
      run_end = first + e.count;
    }
    if (st != 0) return st;
  }
  return write_run();
}

int volatile_cache_bdev::zero_file(uint64_t off, uint64_t len) {
  if (punch_hole_ok_.load(std::memory_order_relaxed)) {
    if (fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off),
                  static_cast<off_t>(len)) == 0)
      return 0;
    if (errno != EOPNOTSUPP) return -errno;
    punch_hole_ok_.store(false, std::memory_order_relaxed);
  }
  std::vector<std::byte> zeroes(std::min(len, zero_chunk));
  for (uint64_t done = 0; done < len;) {
    uint64_t n = std::min<uint64_t>(len - done, zeroes.size());
    if (int st = pwrite_all(fd_, zeroes.data(), n, off + done); st != 0) return st;
    done += n;
  }
  return 0;
}

}  // namespace nvmfd
