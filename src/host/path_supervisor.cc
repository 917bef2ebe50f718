#include "host/path_supervisor.h"

#include <fmt/format.h>

#include "base/log.h"
#include "host/controller_connector.h"
#include "proto/features.h"
#include "reactor/countdown.h"

namespace nvmfd {

namespace {

bool same_path(const transport_id& a, const transport_id& b) {
  return a.traddr == b.traddr && a.trsvcid == b.trsvcid;
}

bool any_in_change(const std::map<uint32_t, ana_state>& groups) {
  for (auto& [grp, st] : groups)
    if (st == ana_state::change) return true;
  return false;
}

void disconnect_quietly(const std::shared_ptr<host_controller>& c) {
  c->disconnect_async([](result<void>) {});
}

std::atomic<uint64_t> size_stamps{0};

}  // namespace

const char* path_state_name(path_state s) {
  switch (s) {
    case path_state::enabled: return "enabled";
    case path_state::resetting: return "resetting";
    case path_state::reconnect_is_delayed: return "reconnect_is_delayed";
    case path_state::failed: return "failed";
    case path_state::deleting: return "deleting";
  }
  return "unknown";
}

path_supervisor_seams real_path_seams(reactor_pool& pool) {
  path_supervisor_seams s;
  s.connect = [&pool](const transport_id& trid, const controller_options& opts, host_controller::event_handlers h,
                      completion<std::shared_ptr<host_controller>> done) -> std::function<void()> {
    auto k = host_controller::connect_async(
        pool, trid, opts, std::move(h), [&pool, done](result<std::shared_ptr<host_controller>> c) mutable {
          if (!c || (*c)->io_queue_count() >= pool.size()) return done(std::move(c));
          // nvme_bdev sends each I/O on its reactor's own queue: a reactor without one would fail it.
          error e{errc::invalid_argument,
                  fmt::format("the controller granted {} I/O queues; nvmfd needs one per reactor ({})",
                              (*c)->io_queue_count(), pool.size())};
          (*c)->disconnect_async([done, e](result<void>) mutable { done(e); });
        });
    if (!k) return {};
    return [k] { k->cancel(); };
  };
  s.read_ana = [](std::shared_ptr<host_controller> c, completion<ana_log_snapshot> done) {
    read_ana_log_async(std::move(c), std::move(done));
  };
  s.read_namespace_changes = [](std::shared_ptr<host_controller> c, completion<std::vector<namespace_change>> done) {
    read_namespace_changes_async(std::move(c), std::move(done));
  };
  return s;
}

path_supervisor::path_supervisor(reactor& home, nvme_attach_request req, path_supervisor_seams seams,
                                 change_listener on_change)
    : home_(home), seams_(std::move(seams)), on_change_(std::move(on_change)), req_(std::move(req)) {}

path_supervisor::~path_supervisor() = default;

std::string path_supervisor::where(const transport_id& t) const {
  return fmt::format("{}: {} at {}:{}", req_.name, t.subnqn, t.traddr, t.trsvcid);
}

host_controller::event_handlers path_supervisor::handlers(uint64_t gen) {
  std::weak_ptr<path_supervisor> weak = weak_from_this();
  host_controller::event_handlers h;
  h.on_event = [weak, gen](uint32_t dw0) {
    auto event = aer_fields::decode(dw0);
    bool ana = event.is_notice(aer_notice::ana_change);
    if (!ana && !event.is_notice(aer_notice::namespace_attribute_changed)) return;
    if (auto s = weak.lock())
      s->home_.post([s, gen, ana] {
        if (gen != s->gen_ || s->phase_ != phase::connected) return;
        if (ana) s->refresh_ana();
        else s->refresh_namespaces();
      });
  };
  h.on_failure = [weak, gen](const std::string& why) {
    if (auto s = weak.lock()) s->home_.post([s, gen, why] { s->on_failure(gen, why); });
  };
  return h;
}

// --- start and stop ---

void path_supervisor::start(completion<void> done) {
  home_.post([self = shared_from_this(), done = std::move(done)]() mutable {
    self->phase_ = phase::starting;
    uint64_t gen = ++self->gen_;
    transport_id trid = self->request().trid;
    std::weak_ptr<path_supervisor> weak = self;
    self->cancel_attempt_ = self->seams_.connect(
        trid, self->req_.opts, self->handlers(gen),
        [weak, done = std::move(done)](result<std::shared_ptr<host_controller>> c) mutable {
          if (auto s = weak.lock()) return s->on_started(std::move(c), std::move(done));
          if (c) disconnect_quietly(*c);
          done(error{errc::closed, "the path is gone"});
        });
  });
}

void path_supervisor::on_started(result<std::shared_ptr<host_controller>> c, completion<void> done) {
  cancel_attempt_ = nullptr;
  if (phase_ == phase::stopping) {
    if (c) disconnect_quietly(*c);
    finish_stop();
    return done(error{errc::closed, "the path was stopped while connecting"});
  }
  if (!c) {
    phase_ = phase::stopped;
    error e = c.take_err();
    e.message = fmt::format("{}: {}", where(req_.trid), e.message);
    return done(e);
  }
  std::shared_ptr<host_controller> ctrl = *c;
  {
    std::lock_guard lk(mu_);
    // Reconnects present the same host: an allow list names it, and the target keys state on it.
    req_.opts.hostnqn = ctrl->hostnqn();
    req_.opts.hostid = ctrl->hostid();
    ctrl_ = ctrl;
    cntlid_ = ctrl->cntlid();
    ana_reporting_ = ctrl->ana_reporting();
    take_sizes_locked(*ctrl);
  }
  auto connected = [this, ctrl] {
    phase_ = phase::connected;
    if (ctrl->failed()) {  // failed before we were listening
      {
        std::lock_guard lk(mu_);
        last_error_ = ctrl->failure_reason();
      }
      start_reconnect();
    }
  };
  if (!ctrl->ana_reporting()) {
    connected();
    return done(success());
  }
  seams_.read_ana(ctrl, [self = shared_from_this(), ctrl, connected, done = std::move(done)](
                            result<ana_log_snapshot> snap) mutable {
    if (self->phase_ == phase::stopping) {
      self->finish_stop();
      return done(error{errc::closed, "the path was stopped while connecting"});
    }
    if (!snap) {
      self->phase_ = phase::stopped;
      {
        std::lock_guard lk(self->mu_);
        self->ctrl_.reset();
      }
      error e = snap.take_err();
      e.message = "reading the ANA log page: " + e.message;
      return ctrl->disconnect_async([done = std::move(done), e](result<void>) mutable { done(e); });
    }
    {
      std::lock_guard lk(self->mu_);
      self->ana_ = std::move(snap->groups);
    }
    if (any_in_change(self->ana_)) {
      self->anatt_timer_ = std::make_unique<reactor_timer>(self->home_);
      unsigned anatt = ctrl->identity().anatt ? ctrl->identity().anatt : 10;
      self->anatt_timer_->arm(std::chrono::seconds(anatt), [s = self.get()] { s->on_anatt_expired(); });
    }
    connected();
    done(success());
  });
}

void path_supervisor::stop(completion<void> done) {
  home_.post([self = shared_from_this(), done = std::move(done)]() mutable {
    if (self->phase_ == phase::stopped || self->phase_ == phase::stopping) return done(success());
    bool attempt_under_way = self->phase_ == phase::starting || self->phase_ == phase::connecting;
    self->phase_ = phase::stopping;
    self->stop_done_ = std::move(done);
    ++self->gen_;  // late events of every connection are not ours any more
    {
      std::lock_guard lk(self->mu_);
      self->state_ = path_state::deleting;
    }
    self->reconnect_timer_.reset();
    self->anatt_timer_.reset();
    if (!attempt_under_way) return self->finish_stop();
    // The attempt's completion (soon, once cancelled) finishes the stop.
    if (auto cancel = std::exchange(self->cancel_attempt_, nullptr)) cancel();
  });
}

void path_supervisor::finish_stop() {
  phase_ = phase::stopped;
  reconnect_timer_.reset();
  anatt_timer_.reset();
  std::vector<std::shared_ptr<host_controller>> all;
  {
    std::lock_guard lk(mu_);
    all = std::move(retired_);
    retired_.clear();
    if (ctrl_) all.push_back(std::move(ctrl_));
    ctrl_.reset();
  }
  auto done = std::move(stop_done_);
  if (!done) {  // a start that failed while nobody stops: only the controllers go
    for (auto& c : all) disconnect_quietly(c);
    return;
  }
  auto left = std::make_shared<countdown>(static_cast<unsigned>(all.size()), home_,
                                         [done]() mutable { done(success()); });
  for (auto& c : all) c->disconnect_async([left](result<void>) { left->arrive(); });
}

// --- accessors and events from other threads ---

nvme_attach_request path_supervisor::request() const {
  std::lock_guard lk(mu_);
  return req_;
}

path_status path_supervisor::get_status() const {
  std::lock_guard lk(mu_);
  path_status s;
  s.ctrl = ctrl_;
  s.state = state_;
  // Failed on a reactor, not yet seen by the supervisor: already on its way to reconnecting.
  if (state_ == path_state::enabled && ctrl_ && ctrl_->failed()) s.state = path_state::resetting;
  s.cntlid = cntlid_;
  s.trid = req_.trid;
  s.alternates = alternates_;
  s.ana = ana_;
  s.ana_reporting = ana_reporting_;
  s.last_error = last_error_;
  s.sizes = sizes_;
  s.identified = identified_;
  return s;
}

void path_supervisor::request_ana_refresh() {
  ana_pending_.store(true, std::memory_order_release);
  home_.post([self = shared_from_this()] {
    if (self->phase_ == phase::connected) self->refresh_ana();
  });
}

void path_supervisor::add_alternate(const transport_id& t) {
  std::lock_guard lk(mu_);
  alternates_.push_back(t);
}

bool path_supervisor::remove_transport(const transport_id& t) {
  std::string why;
  {
    std::lock_guard lk(mu_);
    for (auto it = alternates_.begin(); it != alternates_.end(); ++it) {
      if (same_path(*it, t)) {
        alternates_.erase(it);
        return true;
      }
    }
    if (!same_path(req_.trid, t) || alternates_.empty()) return false;
    // The one in use goes: the next attempt takes the first alternate, and this one is gone.
    req_.trid = alternates_.front();
    alternates_.erase(alternates_.begin());
    skip_rotation_ = true;
    why = fmt::format("path {}:{} removed", t.traddr, t.trsvcid);
  }
  reset(why);
  return true;
}

void path_supervisor::reset(const std::string& why) {
  home_.post([self = shared_from_this(), why] { self->on_failure(self->gen_, why); });
}

std::vector<std::shared_ptr<host_controller>> path_supervisor::take_retired() {
  std::lock_guard lk(mu_);
  return std::move(retired_);
}

// --- reconnecting ---

void path_supervisor::on_failure(uint64_t gen, const std::string& why) {
  if (gen != gen_ || phase_ != phase::connected) return;  // a connection already replaced, or no connection
  {
    std::lock_guard lk(mu_);
    last_error_ = why;
  }
  start_reconnect();
}

void path_supervisor::start_reconnect() {
  {
    std::lock_guard lk(mu_);
    if (ctrl_) {
      NVMFD_LOG_WARN("{}: connection lost ({}); reconnect policy: loss timeout {} s, delay {} s", where(req_.trid),
                     last_error_, req_.reconnect.ctrlr_loss_timeout_sec, req_.reconnect.reconnect_delay_sec);
      retired_.push_back(std::move(ctrl_));
      ctrl_.reset();
    }
    state_ = path_state::resetting;
  }
  ++gen_;
  anatt_timer_.reset();
  anatt_expired_ = false;
  notify();
  since_ = home_.now();
  attempt_ = 0;
  try_attempt();
}

void path_supervisor::try_attempt() {
  const reconnect_policy& pol = req_.reconnect;  // fixed at attach
  transport_id trid;
  {
    std::unique_lock lk(mu_);
    auto elapsed = home_.now() - since_;
    bool give_up = pol.ctrlr_loss_timeout_sec == 0 ||
                   (pol.ctrlr_loss_timeout_sec > 0 && elapsed >= std::chrono::seconds(pol.ctrlr_loss_timeout_sec));
    if (give_up) {
      phase_ = phase::failed;
      state_ = path_state::failed;
      NVMFD_LOG_WARN("{}: path failed for good ({}){}", where(req_.trid), last_error_,
                     pol.ctrlr_loss_timeout_sec ? fmt::format(" after {} s of reconnecting", pol.ctrlr_loss_timeout_sec)
                                                : std::string(": ctrlr_loss_timeout_sec is 0"));
      lk.unlock();
      notify();
      return;
    }
    // Failover: each attempt goes to the next transport ID (the one that failed last).
    if (!alternates_.empty() && !skip_rotation_) {
      alternates_.push_back(req_.trid);
      req_.trid = alternates_.front();
      alternates_.erase(alternates_.begin());
    }
    skip_rotation_ = false;
    trid = req_.trid;
    state_ = path_state::resetting;
  }
  if (attempt_ > 0) notify();
  phase_ = phase::connecting;
  uint64_t gen = ++gen_;
  std::weak_ptr<path_supervisor> weak = weak_from_this();
  cancel_attempt_ = seams_.connect(trid, req_.opts, handlers(gen),
                                   [weak, gen, trid](result<std::shared_ptr<host_controller>> c) {
                                     if (auto s = weak.lock()) return s->on_attempt_done(gen, trid, std::move(c));
                                     if (c) disconnect_quietly(*c);
                                   });
}

void path_supervisor::on_attempt_done(uint64_t gen, const transport_id& trid,
                                      result<std::shared_ptr<host_controller>> c) {
  cancel_attempt_ = nullptr;
  if (phase_ == phase::stopping) {
    if (c) disconnect_quietly(*c);
    return finish_stop();
  }
  if (gen != gen_ || phase_ != phase::connecting) {  // not the attempt we wait for
    if (c) disconnect_quietly(*c);
    return;
  }
  if (c) return install(std::move(*c));
  {
    std::lock_guard lk(mu_);
    last_error_ = fmt::format("{}: {}", where(trid), c.err().message);
    state_ = path_state::reconnect_is_delayed;
    NVMFD_LOG_INFO("{}: reconnect attempt {} failed: {}", where(trid), attempt_ + 1, last_error_);
  }
  notify();
  ++attempt_;
  phase_ = phase::delayed;
  if (!reconnect_timer_) reconnect_timer_ = std::make_unique<reactor_timer>(home_);
  reconnect_timer_->arm(std::chrono::seconds(req_.reconnect.reconnect_delay_sec), [this] {
    if (phase_ == phase::delayed) try_attempt();
  });
}

void path_supervisor::install(std::shared_ptr<host_controller> c) {
  {
    std::lock_guard lk(mu_);
    ctrl_ = c;
    cntlid_ = c->cntlid();
    ana_reporting_ = c->ana_reporting();
    if (!ana_reporting_) ana_.clear();
    take_sizes_locked(*c);
    state_ = path_state::enabled;
    last_error_.clear();
  }
  phase_ = phase::connected;
  NVMFD_LOG_INFO("{}: reconnected (cntlid {})", where(c->trid()), c->cntlid());
  if (c->failed()) {  // failed before we were listening
    {
      std::lock_guard lk(mu_);
      last_error_ = c->failure_reason();
    }
    return start_reconnect();
  }
  refresh_ana();
  notify();
}

// --- ANA ---

void path_supervisor::refresh_ana() {
  std::shared_ptr<host_controller> c;
  {
    std::lock_guard lk(mu_);
    c = ctrl_;
  }
  if (!c || c->failed()) return;
  if (!c->ana_reporting()) {
    ana_pending_.store(false, std::memory_order_release);
    notify();
    return;
  }
  if (ana_reading_) {
    ana_again_ = true;
    return;
  }
  ana_reading_ = true;
  std::weak_ptr<path_supervisor> weak = weak_from_this();
  seams_.read_ana(c, [weak, c](result<ana_log_snapshot> snap) {
    if (auto s = weak.lock()) s->on_ana_read(c, std::move(snap));
  });
}

void path_supervisor::on_ana_read(const std::shared_ptr<host_controller>& c, result<ana_log_snapshot> snap) {
  ana_reading_ = false;
  if (phase_ != phase::connected) return;
  bool decide = std::exchange(anatt_expired_, false);
  bool current;
  {
    std::lock_guard lk(mu_);
    current = ctrl_ == c;
  }
  if (current && !snap) {
    // A failed controller is handled by the failure path; anything else is worth a word.
    if (!c->failed()) NVMFD_LOG_WARN("{}: reading the ANA log page: {}", where(c->trid()), snap.err().message);
  } else if (current) {
    bool in_change = any_in_change(snap->groups);
    if (!in_change) {
      anatt_timer_.reset();
    } else if (!anatt_timer_ || !anatt_timer_->armed()) {
      if (!anatt_timer_) anatt_timer_ = std::make_unique<reactor_timer>(home_);
      unsigned anatt = c->identity().anatt ? c->identity().anatt : 10;
      anatt_timer_->arm(std::chrono::seconds(anatt), [this] { on_anatt_expired(); });
    }
    {
      std::lock_guard lk(mu_);
      ana_ = std::move(snap->groups);
    }
    ana_pending_.store(false, std::memory_order_release);
    if (decide && in_change) {
      {
        std::lock_guard lk(mu_);
        last_error_ = "an ANA group stayed in the change state longer than ANATT";
        NVMFD_LOG_WARN("{}: {}: resetting the connection", where(req_.trid), last_error_);
      }
      return start_reconnect();
    }
    notify();
  }
  if (std::exchange(ana_again_, false)) refresh_ana();
}

// A group stayed in the change state past ANATT: read once more, then reset if it still is.
void path_supervisor::on_anatt_expired() {
  anatt_expired_ = true;
  refresh_ana();
}

// --- namespace changes ---

void path_supervisor::take_sizes_locked(const host_controller& c) {
  sizes_.clear();
  identified_.clear();
  uint64_t stamp = ++size_stamps;
  for (auto& ns : c.namespaces()) sizes_[ns.nsid.value] = {ns.num_blocks, stamp};
}

void path_supervisor::refresh_namespaces() {
  std::shared_ptr<host_controller> c;
  {
    std::lock_guard lk(mu_);
    c = ctrl_;
  }
  if (!c || c->failed() || !seams_.read_namespace_changes) return;
  if (ns_reading_) {
    ns_again_ = true;
    return;
  }
  ns_reading_ = true;
  std::weak_ptr<path_supervisor> weak = weak_from_this();
  seams_.read_namespace_changes(c, [weak, c](result<std::vector<namespace_change>> changes) {
    if (auto s = weak.lock()) s->on_namespaces_read(c, std::move(changes));
  });
}

void path_supervisor::on_namespaces_read(const std::shared_ptr<host_controller>& c,
                                         result<std::vector<namespace_change>> changes) {
  ns_reading_ = false;
  if (phase_ != phase::connected) return;
  bool current;
  {
    std::lock_guard lk(mu_);
    current = ctrl_ == c;
  }
  if (current && !changes) {
    if (!c->failed()) NVMFD_LOG_WARN("{}: reading namespace changes: {}", where(c->trid()), changes.err().message);
  } else if (current) {
    {
      std::lock_guard lk(mu_);
      uint64_t stamp = ++size_stamps;
      for (auto& ch : *changes) {
        if (!ch.ns) {
          identified_.erase(ch.nsid.value);
          if (sizes_.erase(ch.nsid.value))
            NVMFD_LOG_INFO("{}: namespace {} is no longer active", where(c->trid()), ch.nsid);
          continue;
        }
        auto it = sizes_.find(ch.nsid.value);
        if (it == sizes_.end())
          NVMFD_LOG_INFO("{}: namespace {} is active now ({} blocks)", where(c->trid()), ch.nsid,
                         ch.ns->num_blocks);
        sizes_[ch.nsid.value] = {ch.ns->num_blocks, stamp};
        identified_[ch.nsid.value] = std::make_shared<const remote_namespace>(std::move(*ch.ns));
      }
    }
    notify();
  }
  if (std::exchange(ns_again_, false)) refresh_namespaces();
}

}  // namespace nvmfd
