#pragma once
// rbd_image_closer: closes RBD images (rbd_close and what follows it) on threads of their
// own, so that a cluster that has gone away blocks neither the thread that drops a bdev (the
// RPC thread in bdev_rbd_delete, a reactor holding the last reference) nor shutdown image by
// image. With the cluster gone, rbd_close waits for librbd's timeouts (flushing the cache,
// releasing the exclusive lock: docs/ceph.md measures it); closes run in parallel, so
// shutdown takes about one image's close, not one per image.
//
// One per process (instance()): bdevs are dropped from many places that know nothing of it.
// Threads: close() and wait_all() from any thread but a close job's own.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

namespace nvmfd {

class rbd_image_closer {
 public:
  static rbd_image_closer& instance();

  // Runs job (which closes one image and releases what it holds) on a new thread and waits
  // for it up to `grace` (a reachable cluster closes an image in milliseconds, so a delete
  // then behaves as a synchronous one). Past grace, logs "closing <what>: cluster
  // unreachable, waiting up to <expect> in the background" and returns; the job goes on.
  // False when it returned before the job finished.
  bool close(std::string what, std::function<void()> job, std::chrono::milliseconds grace,
             std::chrono::seconds expect);

  // Waits until every job started has finished, or `bound` has passed; logs what it waits
  // for and what is still running at the end. Returns the number of jobs still running.
  std::size_t wait_all(std::chrono::milliseconds bound);

  std::size_t running() const;

 private:
  rbd_image_closer() = default;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::size_t running_ = 0;
};

}  // namespace nvmfd
