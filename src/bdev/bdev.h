#pragma once
// bdev: the block-device interface. A bdev is created and deleted on the control thread
// and shared (std::shared_ptr) by whoever uses it; I/O is submitted from reactor threads.
//
// Contract of submit():
//  - io.owner is the calling reactor; the completion (io.done->on_bdev_io_done) runs on
//    that reactor's thread, always after submit() has returned (never inline), so callers
//    need no re-entrancy guards.
//  - The caller owns io and its buffer until the completion; submit allocates nothing.
//  - io.status is 0 on success or a negative errno (-EINVAL for a range past the end,
//    -EOPNOTSUPP for an op the bdev does not support, -EIO for a device failure, -EBADE
//    for a reservation conflict on a remote namespace).
//  - flush: when it completes with status 0, every write that completed before the flush
//    was submitted is on stable storage (for a bdev without a volatile cache, trivially).
//  - write with fua: completes only once that write is on stable storage.
//  - read and write: io.buf must be aligned to buf_align() bytes, else -EINVAL. buf_align()
//    is at most 4096, so a caller that always passes 4096-aligned buffers need not ask.
//  - write_zeroes: afterwards the range reads as zeroes. unmap (deallocate): afterwards the
//    range reads as zeroes too, for every backend in src/bdev (NVMe DLFEAT may say so).
//  - write, write_zeroes and unmap on a read_only() bdev fail with -EROFS.
//  - the bdev must outlive its in-flight I/Os (a claim or the caller's shared_ptr keeps it).
//  - reads in place: when reads_in_place(bytes) is true, a read of that size may be
//    submitted with io.buf == nullptr; it completes with io.buf pointing at the data in the
//    bdev's own memory (no copy), readable for as long as the caller keeps the bdev alive.
//    A write to those blocks submitted meanwhile may change what it reads, as with any
//    overlapping I/O (NVMe leaves their order undefined). Never to be written through.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/tick_clock.h"
#include "base/uuid.h"
#include "bdev/bdev_io_stats.h"
#include "bdev/qos_limits.h"
#include "reactor/reactor.h"

namespace nvmfd {

enum class bdev_op : uint8_t { read, write, flush, write_zeroes, unmap };

struct bdev_io;
class bdev;
class bdev_qos;

class bdev_io_callback {
 public:
  virtual void on_bdev_io_done(bdev_io& io) = 0;

 protected:
  ~bdev_io_callback() = default;
};

// One block I/O request. Embedded in the submitter's request object (no allocation).
struct bdev_io final : deferred_task {
  bdev_op op = bdev_op::read;
  bool fua = false;
  uint64_t offset_blocks = 0;
  uint64_t num_blocks = 0;       // 0 for flush
  std::byte* buf = nullptr;      // num_blocks * block_size bytes for read and write
  reactor* owner = nullptr;      // the submitting reactor; completion runs there
  bdev_io_callback* done = nullptr;
  int status = 0;                // filled in by the bdev before completion

  // Scratch space owned by the bdev serving this I/O from submit() until the completion
  // runs (SPDK's driver_ctx): a backend keeps its in-flight state here, such as an io_uring
  // operation, so that submit allocates nothing. Nobody else touches it.
  static constexpr std::size_t backend_ctx_size = 128;
  alignas(16) std::byte backend_ctx[backend_ctx_size];

  // Constructs a backend's per-I/O state in backend_ctx; it is never destroyed, so it
  // must be trivially destructible.
  template <class T, class... Args>
  T& emplace_backend_ctx(Args&&... args) {
    static_assert(sizeof(T) <= backend_ctx_size && alignof(T) <= 16);
    static_assert(std::is_trivially_destructible_v<T>);
    return *::new (static_cast<void*>(backend_ctx)) T(std::forward<Args>(args)...);
  }
  template <class T>
  T& backend_ctx_as() {
    return *std::launder(reinterpret_cast<T*>(backend_ctx));
  }

  // Completes this I/O later on its owner reactor with the given status. For backends.
  void complete_later(int st) {
    status = st;
    owner->defer(*this);
  }
  // Completes this I/O now, on its owner reactor's thread, with io.status as it is. For
  // backends that are already running later than submit() (never inside it).
  void complete_now();
  void run_deferred() override { complete_now(); }

  // Set by bdev::submit of the outermost bdev (a bdev that passes the same io on to another
  // counts it once, as its own); cleared when the I/O completes. Nobody else touches them.
  bdev* counted_by = nullptr;
  uint64_t submitted_ticks = 0;  // tick_clock
  // The next I/O waiting for QoS budget on the same reactor (bdev_qos.h). Nobody else.
  bdev_io* qos_next = nullptr;
};

class bdev {
 public:
  virtual ~bdev() = default;
  bdev(const bdev&) = delete;
  bdev& operator=(const bdev&) = delete;

  const std::string& name() const { return name_; }
  uint32_t block_size() const { return block_size_; }
  uint64_t num_blocks() const { return num_blocks_.load(std::memory_order_relaxed); }
  const uuid& id() const { return uuid_; }

  // SPDK's product_name for bdev_get_bdevs ("Malloc disk", "Null disk", "AIO disk").
  virtual std::string_view product_name() const = 0;
  // True when completed writes may sit in a volatile cache until a flush (NVMe VWC).
  virtual bool has_volatile_cache() const = 0;
  virtual bool supports(bdev_op op) const = 0;
  // The alignment, in bytes, that read and write buffers need (O_DIRECT); at most 4096.
  virtual uint32_t buf_align() const { return 1; }
  // True when the medium cannot be written: write, write_zeroes and unmap fail with -EROFS.
  virtual bool read_only() const { return false; }
  // Other names the bdev is found by (SPDK's aliases, such as "lvs/lvol"). Control thread.
  virtual std::vector<std::string> aliases() const { return {}; }
  // See "reads in place" at the top of this file. Any thread.
  virtual bool reads_in_place(uint64_t bytes) const {
    (void)bytes;
    return false;
  }
  // See the contract at the top of this file. Any reactor thread. Counts the I/O in
  // io_stats() (on completion, in the owner reactor's slot), then do_submit, at once or,
  // when a QoS limit is set and spent, later on the same reactor (bdev_qos.h): without a
  // limit that costs one predictable branch.
  void submit(bdev_io& io) {
    if (!io.counted_by) {
      io.counted_by = this;
      io.submitted_ticks = tick_clock::batch_now();
    }
    if (bdev_qos* q = qos_.load(std::memory_order_acquire)) [[unlikely]] {
      if (!admit_qos(*q, io)) return;
    }
    do_submit(io);
  }
  // Rate limits (bdev_set_qos_limit); all 0 removes them. I/Os waiting for budget are
  // resubmitted under the new limits. Control thread.
  void set_qos_limits(const qos_limits& l);
  // Any thread.
  qos_limits get_qos_limits() const;
  // The I/O counters of this bdev, per reactor (bdev_io_stats.h).
  bdev_io_stats& io_stats() { return io_stats_; }
  const bdev_io_stats& io_stats() const { return io_stats_; }

  // Claims: a bdev used by a namespace (or another bdev) is claimed and cannot be deleted.
  // Control thread only.
  bool claimed() const { return claim_count_ > 0; }
  const std::string& claimed_by() const { return claimed_by_; }
  void claim(std::string by) { ++claim_count_; claimed_by_ = std::move(by); }
  void release() { if (claim_count_ > 0) --claim_count_; }

  // Size changes: fn runs after the new size is in place, on the thread that resized it
  // (control thread, control reactor, or a backend's own: librbd's for an RBD image resized
  // by another client), under the bdev's observer lock: fn may post, take locks never held
  // around add/remove_resize_observer, and add or remove observers. Returns a token for
  // remove_resize_observer; once that returns, fn is not running and will not run again.
  // Any thread.
  uint64_t add_resize_observer(std::function<void()> fn);
  void remove_resize_observer(uint64_t token);

  // True when [offset, offset+count) lies inside the device; used by every backend.
  bool in_range(uint64_t offset_blocks, uint64_t count) const {
    uint64_t n = num_blocks();
    return offset_blocks <= n && count <= n - offset_blocks;
  }

 protected:
  // What a backend implements: the contract at the top of this file.
  virtual void do_submit(bdev_io& io) = 0;

  bdev(std::string name, uint32_t block_size, uint64_t num_blocks, uuid id)
      : name_(std::move(name)), block_size_(block_size), num_blocks_(num_blocks), uuid_(id) {}
  // How bdev_qos resubmits an I/O it held back; friend access to do_submit only.
  friend class bdev_qos;
  void qos_resubmit(bdev_io& io) { do_submit(io); }
  static bool admit_qos(bdev_qos& q, bdev_io& io);

  // A backend whose size changes (a resized volume); control thread, I/O may be running.
  // Observers are told afterwards.
  void set_num_blocks(uint64_t n);

 private:
  std::string name_;
  uint32_t block_size_;
  std::atomic<uint64_t> num_blocks_;
  uuid uuid_;
  bdev_io_stats io_stats_;
  // Created by the first set_qos_limits and kept (limits change in place); qos_ points at it
  // while any limit is set, else is null.
  std::shared_ptr<bdev_qos> qos_state_;
  std::atomic<bdev_qos*> qos_{nullptr};
  int claim_count_ = 0;
  std::string claimed_by_;
  // Serialises observer calls with their removal; recursive: an observer may add or remove.
  std::recursive_mutex observers_mu_;
  std::vector<std::pair<uint64_t, std::function<void()>>> resize_observers_;
  uint64_t next_observer_ = 1;
};

inline void bdev_io::complete_now() {
  if (bdev* b = counted_by) {
    counted_by = nullptr;
    uint64_t bytes = num_blocks * b->block_size();
    b->io_stats().record(owner->index(), op, bytes, tick_clock::batch_now() - submitted_ticks, status);
  }
  done->on_bdev_io_done(*this);
}

}  // namespace nvmfd
