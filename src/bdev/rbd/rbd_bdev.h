#pragma once
// rbd_bdev: a block device on a Ceph RBD image through librbd (SPDK's "Ceph Rbd Disk",
// bdev_rbd_create).
//
// Completions (docs/architecture.md "RBD bdev"): the image is opened once, on the control
// thread (rbd_open blocks), and put in librbd's eventfd mode
// (rbd_set_image_notification): librbd's threads only queue finished completions on the
// image and signal the eventfd; no librbd thread runs our code. The eventfd is watched by
// one reactor, the image's home (chosen at creation, spread over the pool). I/O is
// submitted from any reactor straight into librbd (thread-safe, non-blocking); the home
// reactor collects the completions (rbd_poll_io_events) and hands each bdev_io to its
// submitting reactor with reactor::post(deferred_task&), which allocates nothing. One
// handle rather than one per reactor: librbd allows the notification only once per open
// image, a handle per reactor would multiply the opens (and librbd's cache, which is per
// handle, so a flush on one would not cover writes through another), and the hop costs
// one cross-thread post only for I/O submitted off the home reactor.
// Allocation: librbd allocates one completion per I/O (rbd_aio_create_completion; it has
// no reusable form); nothing else is allocated per I/O.
//
// Ops:
//  - read, write: rbd_aio_read / rbd_aio_write2 on the bdev_io's buffer.
//  - flush: rbd_aio_flush (durable in RADOS when it completes).
//  - write_zeroes and unmap: rbd_aio_write_zeroes (flags 0): librbd discards whole objects
//    and zeroes partial ones, so the range reads as zeroes (rbd_aio_discard alone may skip
//    partial-object ranges: rbd_skip_partial_discard).
//  - fua on a bdev with a volatile cache: the write, then rbd_aio_flush, then completion.
//  - has_volatile_cache(): rbd_cache as librbd sees it for the image (image metadata
//    conf_rbd_cache, else the connection's config; true by default in Ceph 16).
// Errors: librbd's negative errno (-ETIMEDOUT once rados_osd_op_timeout expires when the
// cluster is gone; rbd_cluster.h), logged once per burst; the burst ends, with an "I/O
// succeeds again" line, at a success that shows the cluster answers (proves_reachable: not a
// write that only reached librbd's cache).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/result.h"
#include "bdev/bdev.h"
#include "bdev/rbd/rbd_cluster.h"

typedef void* rados_ioctx_t;
typedef void* rbd_image_t;
typedef void* rbd_completion_t;

namespace nvmfd {

class rbd_bdev final : public bdev, private event_handler {
 public:
  // Control thread (it blocks while librbd opens the image). cluster: the connection (a
  // registered one, or the bdev's own); home: the reactor that watches the completions,
  // running. Fails with not_found (pool or image missing), invalid_argument (block size,
  // an image smaller than one block) or io_error (librbd's errno).
  static result<std::shared_ptr<rbd_bdev>> create(std::string name, std::shared_ptr<rbd_cluster> cluster,
                                                  std::string pool_name, std::string rbd_name,
                                                  uint32_t block_size, std::optional<uuid> id, reactor& home);
  // Any thread; no I/O in flight (the bdev contract). Stops the watch on the home reactor,
  // then closes the image (rbd_close flushes librbd's cache) through rbd_image_closer: waits
  // up to 1 s for it (not at all when the cluster is known unreachable, nor on a reactor of
  // the pool), then lets it finish in the background; the cluster counts the bdev as a user
  // until then.
  ~rbd_bdev() override;

  std::string_view product_name() const override { return "Ceph Rbd Disk"; }
  bool has_volatile_cache() const override { return volatile_cache_; }
  bool supports(bdev_op) const override { return true; }
  void do_submit(bdev_io& io) override;

  // Control thread (rbd_resize blocks). Grows the image to new_size bytes (a multiple of
  // the block size, not smaller than now: SPDK's bdev_rbd_resize refuses to shrink), then
  // the bdev, whose resize observers run (the target's Namespace Attribute Changed AEN).
  // Fails with invalid_argument, or io_error with librbd's errno.
  result<void> resize(uint64_t new_size);
  // A resize by another client (rbd resize, another gateway) is seen too: librbd's header
  // watch (rbd_update_watch) calls back on a librbd thread, which reads the new size
  // (rbd_get_size, allowed there: the callback runs on librbd's update-watcher queue) and
  // sets it; the resize observers then run on that thread. The size is set once whichever
  // of resize() and the callback sees it first.

  // A gateway taking this image over (src/gateway, blocking: not on a reactor): when another
  // client holds the image's exclusive lock, break it (librbd blocklists that client first,
  // so a dead or cut-off gateway cannot write afterwards); then drop librbd's cached data,
  // which another gateway's writes may have made stale. io_error with librbd's errno.
  result<void> take_over_lock();
  // Drops librbd's cached data of the image (rbd_invalidate_cache; blocking).
  result<void> drop_cache();

  const std::string& pool_name() const { return pool_name_; }
  const std::string& rbd_name() const { return rbd_name_; }
  const rbd_cluster& cluster() const { return *cluster_; }
  reactor& home() const { return home_; }

 private:
  rbd_bdev(std::string name, uint32_t block_size, uint64_t num_blocks, uuid id, std::shared_ptr<rbd_cluster> cluster,
           std::string pool_name, std::string rbd_name, rados_ioctx_t ioctx, rbd_image_t image, int efd,
           bool volatile_cache, reactor& home);
  void on_events(uint32_t events) override;  // home reactor: collect completions
  static void on_header_update(void* self);  // librbd's thread
  void refresh_size();                       // control thread or librbd's thread
  void finish(rbd_completion_t c);
  int start(bdev_io& io, bdev_op op);  // submits op for io to librbd; 0 or -errno
  void complete(bdev_io& io, int status);
  bool proves_reachable(bdev_op done) const;  // a success of `done` ends a burst of errors
  static int64_t now_ns();

  std::shared_ptr<rbd_cluster> cluster_;
  std::string pool_name_;
  std::string rbd_name_;
  rados_ioctx_t ioctx_;
  rbd_image_t image_;
  int efd_;
  bool volatile_cache_;
  reactor& home_;
  bool watched_ = false;
  bool header_watched_ = false;
  uint64_t header_watch_ = 0;
  std::mutex size_mu_;  // serialises refresh_size
  std::atomic<bool> failing_{false};  // an I/O error was logged; cleared by a success that proves_reachable
  std::atomic<int64_t> last_error_ns_{0};
  const int64_t quiet_ns_;  // rados_osd_op_timeout (at least 1 s)
};

}  // namespace nvmfd
