#include "host/registry_worker.h"

#include "reactor/thread_name.h"

namespace nvmfd {

void registry_worker::enqueue(std::function<void()> job) {
  std::lock_guard lk(mu_);
  if (stopping_) return;  // the registry is going: nobody may call it any more
  jobs_.push_back(std::move(job));
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { loop(); });
    set_thread_name(thread_, "nvme-control");
  }
  cv_.notify_all();
}

void registry_worker::loop() {
  std::unique_lock lk(mu_);
  for (;;) {
    cv_.wait(lk, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, nothing left
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lk.unlock();
    job();
    lk.lock();
  }
}

void registry_worker::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace nvmfd
