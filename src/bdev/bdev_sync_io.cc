#include "bdev/bdev_sync_io.h"

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fmt/format.h>
#include <mutex>
#include <new>

#include "reactor/reactor_assert.h"

namespace nvmfd {

namespace {

struct sync_waiter final : bdev_io_callback {
  void on_bdev_io_done(bdev_io&) override {
    std::lock_guard lk(mu);
    done = true;
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bdev_io io;
};

}  // namespace

result<void> sync_bdev_io(reactor_pool& pool, bdev& b, bdev_op op, uint64_t offset_blocks, uint64_t num_blocks,
                          std::byte* buf, bool fua) {
  assert_off_reactor("sync_bdev_io");
  sync_waiter w;
  w.io.op = op;
  w.io.fua = fua;
  w.io.offset_blocks = offset_blocks;
  w.io.num_blocks = num_blocks;
  w.io.buf = buf;
  w.io.done = &w;
  reactor& r = pool.at(0);
  w.io.owner = &r;
  r.post([&w, &b] { b.submit(w.io); });
  std::unique_lock lk(w.mu);
  w.cv.wait(lk, [&] { return w.done; });
  if (w.io.status == 0) return success();
  int e = -w.io.status;
  return error{e == EINVAL ? errc::invalid_argument : errc::io_error,
               fmt::format("{} of {} blocks at {} on {}: {}",
                           op == bdev_op::read ? "read" : op == bdev_op::flush ? "flush" : "write", num_blocks,
                           offset_blocks, b.name(), std::strerror(e)),
               e};
}

aligned_buffer::aligned_buffer(std::size_t n) : len(n) {
  std::size_t rounded = (n + 4095) / 4096 * 4096;
  auto* raw = static_cast<std::byte*>(std::aligned_alloc(4096, rounded ? rounded : 4096));
  if (!raw) throw std::bad_alloc();
  std::memset(raw, 0, rounded ? rounded : 4096);
  p.reset(raw);
}

}  // namespace nvmfd
