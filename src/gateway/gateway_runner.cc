#include "gateway/gateway_runner.h"

#include <fmt/format.h>

#include "base/log.h"
#include "reactor/blocking_call.h"

namespace nvmfd::gateway {

namespace {

// Whole seconds (librados' *_op_timeout options take no fractions), rounded up.
std::string seconds(std::chrono::milliseconds d) { return std::to_string((d.count() + 999) / 1000); }

// Runs fn on r and waits for it (r is a loop that is not the caller's).
template <class Fn>
void run_on(reactor& r, Fn fn) {
  (void)blocking_call<void>(r, [fn = std::move(fn)](completion<void> done) mutable {
    fn();
    done(success());
  });
}

}  // namespace

result<std::unique_ptr<gateway_runner>> gateway_runner::create(runner_params p, const rbd_cluster& registered,
                                                               nvmf_target& target) {
  rbd_cluster_options opts = registered.options();
  std::string t = seconds(p.group.lease / 4);
  for (const char* o : {"rados_osd_op_timeout", "rados_mon_op_timeout"}) opts.config_param[o] = t;
  auto conn = rbd_cluster::connect("gateway:" + p.group.name, std::move(opts));
  if (!conn) return conn.take_err();
  auto store = rados_lease_store::open(conn.value(), p.pool, p.group.name, p.group.gateway_id);
  if (!store) return store.take_err();
  return std::unique_ptr<gateway_runner>(
      new gateway_runner(std::move(p), std::move(conn.value()), std::move(store.value()), target));
}

gateway_runner::gateway_runner(runner_params p, std::shared_ptr<rbd_cluster> conn,
                               std::unique_ptr<rados_lease_store> store, nvmf_target& target)
    : params_(std::move(p)),
      conn_(std::move(conn)),
      store_(std::move(store)),
      local_(target, store_->own_address()),
      group_(params_.group, *store_, local_),
      loop_("gw-" + params_.group.name) {}

gateway_runner::~gateway_runner() { stop(); }

void gateway_runner::begin() {
  begun_ = true;
  run_on(loop_.loop(), [this] {
    timer_ = std::make_unique<reactor_timer>(loop_.loop());
    round();
  });
}

void gateway_runner::round() {
  group_.tick();
  timer_->arm(group_.period(), [this] { round(); });
}

void gateway_runner::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!begun_) return loop_.stop();  // never ran a round: nothing to hand over or show
  run_on(loop_.loop(), [this] {
    timer_.reset();
    group_.leave();
  });
  loop_.stop();
}

result<void> gateway_runner::move(uint32_t g, const std::string& to) {
  return blocking_call<void>(loop_.loop(), [this, g, to](completion<void> done) { done(group_.move(g, to)); });
}

}  // namespace nvmfd::gateway
