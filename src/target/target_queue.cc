#include "target/target_queue.h"

#include <algorithm>
#include <mutex>

#include "auth/controller_auth.h"
#include "base/log.h"
#include "reactor/reactor.h"
#include "target/controller.h"
#include "target/nvmf_target.h"
#include "target/subsystem.h"
#include "target/target_namespace.h"

namespace nvmfd {

target_queue::target_queue(nvmf_target& t, reactor& r, queue_limits limits)
    : target_(t), reactor_(r), stats_(t.poll_group(r.index())), limits_(limits) {}

target_queue::~target_queue() = default;

void target_queue::require_authentication(auth::controller_auth_config cfg) {
  auth_ = std::make_unique<auth::controller_auth>(std::move(cfg));
  const uint32_t timeout_ms = ctrl_ && ctrl_->granted_kato_ms() ? ctrl_->granted_kato_ms() : default_authentication_timeout_ms;
  std::weak_ptr<target_queue> weak = weak_from_this();
  reactor_.schedule(std::chrono::milliseconds(timeout_ms), [weak, timeout_ms] {
    if (auto q = weak.lock(); q && q->awaiting_authentication()) q->authentication_expired(timeout_ms);
  });
}

void target_queue::authentication_expired(uint32_t timeout_ms) {
  if (!ctrl_ || unbound_) return;  // closing already
  NVMFD_LOG_WARN("authentication timeout: host '{}' at {} did not authenticate on {} (controller {}, qid {}) within {} ms; "
                 "closing the queue",
                 ctrl_->hostnqn(), peer_, ctrl_->subsys()->nqn(), ctrl_->cntlid(), qid_, timeout_ms);
  close("authentication timeout");
}

bool target_queue::awaiting_authentication() const { return auth_ && (auth_busy_ || !auth_->authenticated()); }

void target_queue::run_authentication_step(target_request& req, std::function<void(auth::controller_auth&)> step,
                                           std::function<nvme_status()> finish) {
  auth_busy_ = true;
  hold(req);
  auto self = shared_from_this();
  auth::controller_auth* a = auth_.get();
  target_.worker().post([self = std::move(self), a, &req, step = std::move(step), finish = std::move(finish)]() mutable {
    step(*a);
    reactor& home = self->reactor_;
    home.post([self = std::move(self), &req, finish = std::move(finish)] {
      self->auth_busy_ = false;
      self->finish_held(req, self->unbound_ ? nvme_status::generic(sc_generic::command_sequence_error) : finish());
    });
  });
}

void target_queue::finish_held(target_request& req, nvme_status st) {
  bdev_io_finished(req);
  complete(req, st);
}

bool target_queue::older_io_done(uint64_t generation) const {
  if (snap_ && snap_->generation < generation && snap_->in_bdev > 0) return false;
  for (auto& s : retired_snaps_)
    if (s->generation < generation && s->in_bdev > 0) return false;
  return true;
}

void target_queue::after_older_io(uint64_t generation, std::function<void()> done) {
  if (older_io_done(generation)) {
    reactor_.post(std::move(done));
    return;
  }
  older_io_waiters_.emplace_back(generation, std::move(done));
}

void target_queue::wake_older_io_waiters() {
  for (size_t i = 0; i < older_io_waiters_.size();) {
    if (older_io_done(older_io_waiters_[i].first)) {
      reactor_.post(std::move(older_io_waiters_[i].second));
      older_io_waiters_.erase(older_io_waiters_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

void target_queue::set_endpoints(queue_endpoint local, std::string peer) {
  local_ = std::move(local);
  peer_ = std::move(peer);
}

void target_queue::bind(std::shared_ptr<controller> c, qid_t qid, uint16_t queue_size,
                        bool sq_flow_control_disabled) {
  sq_flow_control_disabled_ = sq_flow_control_disabled;
  ctrl_ = std::move(c);
  ns_generation_ = &ctrl_->subsys()->ns_generation_counter();
  qid_ = qid;
  queue_size_ = queue_size;
  poll_group_stats::bump(is_admin() ? stats_.admin_qpairs : stats_.io_qpairs);
  on_bound();
}

void target_queue::unbind() {
  if (!ctrl_ || unbound_) return;
  unbound_ = true;
  if (is_admin())
    ctrl_->detach_admin_queue();
  else
    ctrl_->unregister_io_queue(qid_);
}

ns_snapshot* target_queue::current_snapshot() {
  if (!snap_ || !snapshot_is_current(*snap_)) {
    auto& sub = *ctrl_->subsys();
    auto fresh = std::make_unique<ns_snapshot>();
    {
      std::lock_guard lk(target_.mu());
      fresh->table = sub.namespaces_snapshot();
      fresh->generation = sub.ns_generation();
      // ANA states of this controller's listener, resolved per namespace so that the I/O
      // path indexes a vector instead of looking anything up.
      // Namespaces hidden from this controller's host (per-host visibility).
      for (auto& ns : fresh->table->slots())
        if (ns && !ns->visible_to(ctrl_->hostnqn())) {
          if (fresh->hidden.empty()) fresh->hidden.assign(fresh->table->slots().size(), 0);
          fresh->hidden[namespace_table::slot_of(ns->nsid)] = 1;
        }
      if (auto* l = sub.find_listener(ctrl_->listener_traddr(), ctrl_->listener_trsvcid()); l && !l->ana_states.empty()) {
        fresh->ana.assign(fresh->table->slots().size(), ana_state::optimized);
        for (auto& ns : fresh->table->slots())
          if (ns) fresh->ana[namespace_table::slot_of(ns->nsid)] = l->state_of(ns->anagrpid);
      }
    }
    if (snap_ && snap_->inflight > 0) retired_snaps_.push_back(std::move(snap_));
    snap_ = std::move(fresh);
  }
  ++snap_->inflight;
  return snap_.get();
}

void target_queue::retire_snapshot(ns_snapshot* s) {
  std::erase_if(retired_snaps_, [s](auto& p) { return p.get() == s; });
}

void target_queue::submit_bdev_io(target_request& req) {
  hold(req);
  req.ns->dev->submit(req.io);
}

}  // namespace nvmfd
