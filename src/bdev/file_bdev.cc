#include "bdev/file_bdev.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fstream>

#include "base/log.h"
#include "bdev/bdev_validate.h"
#include "bdev/file_io.h"

namespace nvmfd {

// What create() learned about the open file.
struct file_bdev::setup {
  int fd = -1;
  bool readonly = false;
  bool direct = false;
  bool block_device = false;
  bool volatile_cache = true;
  uint32_t buf_align = 1;
};

namespace {

// Closes the fd unless released: create() has many ways to fail.
class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() { if (fd_ >= 0) close(fd_); }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }
  int release() { int fd = fd_; fd_ = -1; return fd; }

 private:
  int fd_;
};

// Takes errno as a value before formatting: building the message may change errno.
template <class... Args>
error os_error(int e, fmt::format_string<Args...> fmt_str, Args&&... args) {
  error err = error::from_errno(e, fmt::format(fmt_str, std::forward<Args>(args)...));
  if (e == ENOENT) err.code = errc::not_found;
  return err;
}

// The block device's queue/write_cache ("write back" or "write through"); a partition
// has no queue directory of its own, its disk's is one level up.
std::string sysfs_write_cache(dev_t rdev) {
  std::string base = fmt::format("/sys/dev/block/{}:{}/", major(rdev), minor(rdev));
  for (const char* rel : {"queue/write_cache", "../queue/write_cache"}) {
    std::ifstream in(base + rel);
    std::string line;
    if (in && std::getline(in, line)) return line;
  }
  return {};
}

// Decides whether O_DIRECT can serve this block size, and with which buffer alignment.
// Returns the alignment, or 0 when O_DIRECT must be dropped.
uint32_t direct_alignment(int fd, uint32_t block_size, uint32_t logical_block_size) {
  uint32_t mem_align = 4096, offset_align = logical_block_size;  // unknown: conservative
  struct statx stx {};
  if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 && (stx.stx_mask & STATX_DIOALIGN)) {
    if (stx.stx_dio_offset_align == 0) return 0;  // the filesystem does no direct I/O here
    mem_align = stx.stx_dio_mem_align;
    offset_align = stx.stx_dio_offset_align;
  }
  if (mem_align == 0 || mem_align > 4096 || block_size % offset_align != 0) return 0;
  // Some filesystems accept the O_DIRECT flag and refuse the I/O: read one block to see.
  void* buf = std::aligned_alloc(4096, block_size < 4096 ? 4096 : block_size);
  if (!buf) return 0;
  ssize_t n = pread(fd, buf, block_size, 0);
  int e = errno;
  std::free(buf);
  if (n < 0 && e == EINVAL) return 0;
  return mem_align;
}

}  // namespace

result<std::shared_ptr<file_bdev>> file_bdev::create(std::string name, std::string filename,
                                                     uint32_t block_size, bool readonly,
                                                     std::optional<uuid> id,
                                                     file_bdev_options opts) {
  setup s;
  s.readonly = readonly;
  int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  int fd = opts.try_direct ? open(filename.c_str(), flags | O_DIRECT) : -1;
  if (fd >= 0) {
    s.direct = true;
  } else if (!opts.try_direct || errno == EINVAL) {  // EINVAL: no O_DIRECT on this fs
    fd = open(filename.c_str(), flags);
  }
  if (fd < 0) return os_error(errno, "bdev {}: open {}", name, filename);
  fd_guard guard(fd);

  struct stat st {};
  if (fstat(fd, &st) != 0) return os_error(errno, "bdev {}: stat {}", name, filename);
  uint64_t size = 0;
  uint32_t logical_block_size = 512;
  if (S_ISBLK(st.st_mode)) {
    s.block_device = true;
    int lbs = 0;
    if (ioctl(fd, BLKSSZGET, &lbs) != 0 || lbs <= 0)
      return os_error(errno, "bdev {}: BLKSSZGET {}", name, filename);
    logical_block_size = static_cast<uint32_t>(lbs);
    if (ioctl(fd, BLKGETSIZE64, &size) != 0)
      return os_error(errno, "bdev {}: BLKGETSIZE64 {}", name, filename);
  } else if (S_ISREG(st.st_mode)) {
    size = static_cast<uint64_t>(st.st_size);
  } else {
    return error{errc::invalid_argument,
                 fmt::format("bdev {}: {} is neither a regular file nor a block device", name,
                             filename)};
  }

  if (block_size == 0) block_size = logical_block_size;
  if (auto r = check_block_size(block_size); !r) return r.take_err();
  if (block_size % logical_block_size != 0)
    return error{errc::invalid_argument,
                 fmt::format("bdev {}: block size {} is not a multiple of {}'s logical block "
                             "size {}", name, block_size, filename, logical_block_size)};
  if (size == 0)
    return error{errc::invalid_argument, fmt::format("bdev {}: {} is empty", name, filename)};
  if (size % block_size != 0)
    return error{errc::invalid_argument,
                 fmt::format("bdev {}: size {} of {} is not a multiple of the block size {}",
                             name, size, filename, block_size)};

  if (s.direct) {
    s.buf_align = direct_alignment(fd, block_size, logical_block_size);
    if (s.buf_align == 0) {
      NVMFD_LOG_WARN("bdev {}: {} cannot do O_DIRECT with {}-byte blocks; using buffered I/O",
                     name, filename, block_size);
      if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT) != 0)
        return os_error(errno, "bdev {}: fcntl {}", name, filename);
      s.direct = false;
      s.buf_align = 1;
    }
  }
  if (readonly)
    s.volatile_cache = false;  // none of our writes can be cached
  else if (s.block_device && s.direct)
    s.volatile_cache = sysfs_write_cache(st.st_rdev) != "write through";

  s.fd = guard.release();
  NVMFD_LOG_INFO("bdev {}: {} {}, {} blocks of {} bytes, {} I/O{}", name,
                 s.block_device ? "block device" : "file", filename, size / block_size,
                 block_size, s.direct ? "direct" : "buffered", readonly ? ", read-only" : "");
  return std::shared_ptr<file_bdev>(new file_bdev(std::move(name), block_size, size / block_size,
                                                  pick_uuid(id), std::move(filename), s, opts));
}

file_bdev::file_bdev(std::string name, uint32_t block_size, uint64_t num_blocks, uuid id,
                     std::string filename, const setup& s, file_bdev_options opts)
    : bdev(std::move(name), block_size, num_blocks, id),
      filename_(std::move(filename)),
      fd_(s.fd),
      readonly_(s.readonly),
      direct_(s.direct),
      block_device_(s.block_device),
      volatile_cache_(s.volatile_cache),
      use_uring_(opts.use_uring),
      buf_align_(s.buf_align) {}

file_bdev::~file_bdev() { close(fd_); }

void file_bdev::do_submit(bdev_io& io) {
  int st = validate_io(*this, io);
  if (st != 0) return io.complete_later(st);
  uring_engine* ring = use_uring_ ? io.owner->uring() : nullptr;
  if (!ring && use_uring_ && !warned_sync_.exchange(true, std::memory_order_relaxed))
    NVMFD_LOG_WARN("bdev {}: no io_uring on reactor {}; file I/O runs synchronously", name(),
                   io.owner->index());
  io.emplace_backend_ctx<file_io>(*this, io, ring).start();
}

}  // namespace nvmfd
