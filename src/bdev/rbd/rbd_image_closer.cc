#include "bdev/rbd/rbd_image_closer.h"

#include <memory>
#include <system_error>
#include <thread>

#include "base/log.h"
#include "reactor/thread_name.h"

namespace nvmfd {

rbd_image_closer& rbd_image_closer::instance() {
  static rbd_image_closer* c = new rbd_image_closer;  // never destroyed: jobs may outlive main
  return *c;
}

bool rbd_image_closer::close(std::string what, std::function<void()> job, std::chrono::milliseconds grace,
                             std::chrono::seconds expect) {
  struct state {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto st = std::make_shared<state>();
  {
    std::lock_guard lk(mu_);
    ++running_;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto body = [this, st, what, job = std::move(job), t0]() mutable {
    job();
    job = nullptr;  // what it holds (a cluster's last reference: rados_shutdown) goes before wait_all returns
    {
      std::lock_guard lk(st->mu);
      st->done = true;
      st->cv.notify_all();
    }
    auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (took >= 1.0) NVMFD_LOG_INFO("closed {} after {:.1f} s", what, took);
    std::lock_guard lk(mu_);
    --running_;
    cv_.notify_all();
  };
  try {
    std::thread t(body);  // a copy: body stays whole for the fallback below
    set_thread_name(t, "rbd-close");
    t.detach();
  } catch (const std::system_error& e) {  // no thread to be had: close here, blocking
    NVMFD_LOG_WARN("closing {}: no thread ({}), closing on this one", what, e.what());
    body();
  }
  std::unique_lock lk(st->mu);
  if (st->cv.wait_for(lk, grace, [&] { return st->done; })) return true;
  NVMFD_LOG_WARN("closing {}: cluster unreachable, waiting up to {} s in the background", what, expect.count());
  return false;
}

std::size_t rbd_image_closer::wait_all(std::chrono::milliseconds bound) {
  std::unique_lock lk(mu_);
  if (running_ == 0) return 0;
  NVMFD_LOG_INFO("waiting up to {} s for {} RBD image(s) to close", bound.count() / 1000, running_);
  cv_.wait_for(lk, bound, [&] { return running_ == 0; });
  if (running_ > 0) NVMFD_LOG_ERROR("{} RBD image(s) still closing after {} s; not waiting longer", running_,
                                    bound.count() / 1000);
  return running_;
}

std::size_t rbd_image_closer::running() const {
  std::lock_guard lk(mu_);
  return running_;
}

}  // namespace nvmfd
