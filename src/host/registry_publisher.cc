#include "host/registry_publisher.h"

#include "reactor/blocking_call.h"
#include "reactor/countdown.h"
#include "reactor/post_all.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {

std::shared_ptr<registry_publisher> registry_publisher::make(reactor_pool& pool, build_fn build) {
  return std::shared_ptr<registry_publisher>(new registry_publisher(pool, std::move(build)));
}

void registry_publisher::schedule_locked() {
  if (scheduled_ || stopping_) return;
  scheduled_ = true;
  pool_.control().post([self = shared_from_this()] { self->run_round(); });
}

void registry_publisher::mark_dirty(uint64_t id) {
  std::lock_guard lk(mu_);
  dirty_.insert(id);
  schedule_locked();
}

void registry_publisher::publish_async(uint64_t id, completion<void> done) {
  assert_on(pool_.control(), "registry_publisher::publish_async");
  {
    std::lock_guard lk(mu_);
    if (stopping_) return pool_.control().post([done = std::move(done)]() mutable { done(success()); });
    dirty_.insert(id);
    schedule_locked();
  }
  // The round under way (if any) took its ids before this one: the next round takes it.
  waiters_.emplace_back(rounds_started_ + 1, std::move(done));
}

void registry_publisher::publish_and_wait(uint64_t id) {
  (void)blocking_call<void>(
      pool_.control(), [this, id](completion<void> done) { publish_async(id, std::move(done)); }, std::nullopt,
      "registry_publisher::publish_and_wait");
}

void registry_publisher::stop() {
  (void)blocking_call<void>(pool_.control(), [this](completion<void> done) {
    std::lock_guard lk(mu_);
    stopping_ = true;
    if (!scheduled_) return done(success());
    stopped_ = std::move(done);  // the round posted or under way ends first
  }, std::nullopt, "registry_publisher::stop");
}

void registry_publisher::run_round() {
  std::set<uint64_t> ids;
  {
    std::lock_guard lk(mu_);
    if (stopping_) return idle();
    ids.swap(dirty_);
  }
  ++rounds_started_;
  refresh_then_disconnect(build_(ids));
}

void registry_publisher::refresh_then_disconnect(published work) {
  auto self = shared_from_this();
  auto bdevs = std::make_shared<std::vector<std::shared_ptr<nvme_bdev>>>(std::move(work.bdevs));
  auto retired = std::make_shared<std::vector<std::shared_ptr<host_controller>>>(std::move(work.retired));
  post_all(
      pool_,
      [bdevs](reactor& r) {
        for (auto& b : *bdevs) b->refresh_on(r);
      },
      pool_.control(),
      [self, bdevs, retired] {
        auto left = std::make_shared<countdown>(retired->size(), self->pool_.control(), [self] { self->round_ended(); });
        for (auto& c : *retired) c->disconnect_async([left](result<void>) { left->arrive(); });
        // The retired controllers are gone when the last reference (here) goes, on this reactor:
        // each has been disconnected by then, or holds itself until it is.
      });
}

void registry_publisher::round_ended() {
  ++rounds_ended_;
  std::erase_if(waiters_, [&](auto& w) {
    if (w.first > rounds_ended_) return false;
    w.second(success());
    return true;
  });
  std::lock_guard lk(mu_);
  if (!dirty_.empty() && !stopping_) {
    pool_.control().post([self = shared_from_this()] { self->run_round(); });
    return;
  }
  idle();
}

// Under mu_: no round is posted any more.
void registry_publisher::idle() {
  scheduled_ = false;
  if (stopped_) stopped_(success());
  if (stopping_)
    for (auto& w : std::exchange(waiters_, {})) w.second(success());
}

}  // namespace nvmfd
