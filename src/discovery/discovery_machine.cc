#include "discovery/discovery_machine.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/log.h"
#include "host/controller_connector.h"
#include "host/nvme_controller_registry.h"
#include "proto/features.h"
#include "proto/nqn.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {

namespace {

bool is_tcp_nvm_entry(const discovery_entry& e) {
  return e.subtype == static_cast<uint8_t>(subsystem_type::nvme) &&
         e.trtype == static_cast<uint8_t>(transport_type::tcp);
}

void disconnect_later(const std::shared_ptr<host_controller>& c) {
  if (c) c->disconnect_async([](result<void>) {});
}

}  // namespace

discovery_machine::discovery_machine(reactor_pool& pool, nvme_controller_registry& registry,
                                     discovery_service_params p, std::string owner, std::string findings_source)
    : pool_(pool),
      home_(pool.control()),
      registry_(registry),
      p_(std::move(p)),
      owner_(std::move(owner)),
      findings_source_(std::move(findings_source)) {}

// --- events -------------------------------------------------------------------------------

host_controller::event_handlers discovery_machine::handlers(uint64_t gen, bool is_referral) {
  host_controller::event_handlers h;
  std::weak_ptr<discovery_machine> weak = weak_from_this();
  reactor* home = &home_;
  h.on_event = [weak, home, gen](uint32_t dw0) {
    if (!aer_fields::decode(dw0).is_notice(aer_notice::discovery_log_change)) return;
    home->post([weak, gen] {
      if (auto m = weak.lock()) m->on_log_change(gen);
    });
  };
  h.on_failure = [weak, home, gen, is_referral](const std::string& why) {
    home->post([weak, gen, is_referral, why] {
      if (auto m = weak.lock()) m->on_failure(gen, is_referral, why);
    });
  };
  return h;
}

bool discovery_machine::live_referral(uint64_t gen) const {
  auto is = [gen](auto& kv) { return kv.second.gen == gen; };
  if (std::any_of(referral_ctrls_.begin(), referral_ctrls_.end(), is)) return true;
  return walk_ && std::any_of(walk_->kept.begin(), walk_->kept.end(), is);
}

void discovery_machine::on_log_change(uint64_t gen) {
  if (state_ == state::stopping || state_ == state::stopped) return;
  if (gen != gen_ && !live_referral(gen)) return;  // a connection already replaced
  refresh_pending_ = true;
  if (state_ == state::idle) step();
}

void discovery_machine::on_failure(uint64_t gen, bool is_referral, const std::string& why) {
  if (state_ == state::stopping || state_ == state::stopped) return;
  if (is_referral) {
    if (!live_referral(gen)) return;
    referral_retry_ = true;  // reconnected at the refresh after the retry delay
  } else {
    if (gen != gen_) return;
    failure_pending_ = true;
    set_error(why);
  }
  if (state_ == state::idle) step();
}

// --- connecting and delays ----------------------------------------------------------------

void discovery_machine::start_async(completion<void> done) {
  assert_on(home_, "discovery_machine::start_async");
  connect(std::move(done));
}

void discovery_machine::step() {
  state_ = state::idle;
  bool lost;
  {
    std::lock_guard lk(mu_);
    lost = !ctrl_ || ctrl_->failed();
  }
  if (failure_pending_ || lost) {
    failure_pending_ = false;
    std::shared_ptr<host_controller> old;
    {
      std::lock_guard lk(mu_);
      old = std::move(ctrl_);
    }
    if (old) {
      NVMFD_LOG_WARN("{}: discovery controller lost; reconnecting every {} s", p_.name,
                     std::max(1u, p_.reconnect.reconnect_delay_sec));
      disconnect_later(old);
    }
    connect({});
  } else if (refresh_pending_) {
    refresh();
  } else if (referral_retry_) {
    referral_retry_ = false;
    delay(false);
  }
}

void discovery_machine::connect(completion<void> first) {
  state_ = state::connecting;
  uint64_t gen = gen_ = ++next_gen_;
  connecting_ = host_controller::connect_async(
      pool_, p_.trid, p_.opts, handlers(gen, false),
      [self = shared_from_this(), first = std::move(first)](result<std::shared_ptr<host_controller>> c) mutable {
        self->connected(std::move(c), std::move(first));
      });
}

void discovery_machine::connected(result<std::shared_ptr<host_controller>> c, completion<void> first) {
  connecting_.reset();
  if (state_ == state::stopping || state_ == state::stopped) {
    if (c) disconnect_later(*c);
    if (first) first(error{errc::closed, fmt::format("{}: stopped while connecting", p_.name)});
    return;
  }
  if (!c) {
    error e = c.take_err();
    e.message = fmt::format("{}: discovery controller at {}:{}: {}", p_.name, p_.trid.traddr, p_.trid.trsvcid, e.message);
    set_error(e.message);
    if (first) {  // start(): the discovery controller must be reachable
      state_ = state::stopped;
      first(std::move(e));
      return;
    }
    failure_pending_ = true;  // try again after the delay
    delay(true);
    return;
  }
  {
    std::lock_guard lk(mu_);
    ctrl_ = std::move(c.value());
    last_error_.clear();
  }
  refresh_pending_ = true;
  if (first) first(success());
  step();
}

void discovery_machine::delay(bool reconnect) {
  state_ = state::delayed;
  std::weak_ptr<discovery_machine> weak = weak_from_this();
  timer().arm(std::chrono::seconds(std::max(1u, p_.reconnect.reconnect_delay_sec)), [weak, reconnect] {
    auto m = weak.lock();
    if (!m || m->state_ != state::delayed) return;
    if (!reconnect) m->refresh_pending_ = true;  // a referral's controller failed: reconnect it
    m->step();
  });
}

reactor_timer& discovery_machine::timer() {
  if (!timer_) timer_ = std::make_unique<reactor_timer>(home_);
  return *timer_;
}

void discovery_machine::set_error(std::string why) {
  std::lock_guard lk(mu_);
  last_error_ = std::move(why);
}

// --- refreshing -----------------------------------------------------------------------------

void discovery_machine::refresh() {
  refresh_pending_ = false;
  state_ = state::refreshing;
  std::shared_ptr<host_controller> c;
  {
    std::lock_guard lk(mu_);
    c = ctrl_;
    ++refreshes_;
  }
  read_discovery_log_async(c, [self = shared_from_this()](result<discovery_log> log) { self->got_log(std::move(log)); });
}

void discovery_machine::got_log(result<discovery_log> log) {
  if (state_ == state::stopping || state_ == state::stopped) return;
  if (!log) {
    set_error(log.err().message);
    std::lock_guard lk(mu_);
    if (ctrl_ && !ctrl_->failed()) NVMFD_LOG_WARN("{}: reading the discovery log: {}", p_.name, last_error_);
  }
  if (!log) return step();
  // Referrals, one hop: a persistent connection to each (its change events refresh this
  // service), its log merged with this one's.
  walk w;
  w.entries = log->entries;
  w.dropped.swap(referral_ctrls_);
  std::set<std::string> seen;
  for (const discovery_entry& e : log->entries) {
    if (!e.is_referral() || e.trtype != static_cast<uint8_t>(transport_type::tcp)) continue;
    transport_id r = e.trid();
    if (r.traddr == p_.trid.traddr && r.trsvcid == p_.trid.trsvcid) continue;  // itself
    if (!seen.insert(r.traddr + ":" + r.trsvcid).second) continue;            // listed twice
    w.referrals.push_back(r);
  }
  walk_ = std::move(w);
  next_referral();
}

void discovery_machine::next_referral() {
  walk& w = *walk_;
  if (w.next == w.referrals.size()) {
    for (auto& [key, rc] : w.dropped) disconnect_later(rc.ctrl);  // no longer referred to
    referral_ctrls_ = std::move(w.kept);
    {
      std::lock_guard lk(mu_);
      referrals_ = w.referrals;
    }
    return reconcile();
  }
  const transport_id& r = w.referrals[w.next];
  std::string key = r.traddr + ":" + r.trsvcid;
  referral rc;
  if (auto it = w.dropped.find(key); it != w.dropped.end()) {
    rc = std::move(it->second);
    w.dropped.erase(it);
    if (rc.ctrl->failed()) {
      disconnect_later(rc.ctrl);
      rc = {};
    }
  }
  if (rc.ctrl) return read_referral(key, std::move(rc));
  transport_id t = r;
  t.subnqn = std::string(discovery_nqn);
  uint64_t gen = ++next_gen_;
  connecting_ = host_controller::connect_async(
      pool_, t, p_.opts, handlers(gen, true),
      [self = shared_from_this(), r, gen](result<std::shared_ptr<host_controller>> c) {
        self->referral_connected(r, gen, std::move(c));
      });
}

void discovery_machine::referral_connected(const transport_id& r, uint64_t gen,
                                           result<std::shared_ptr<host_controller>> c) {
  connecting_.reset();
  if (state_ == state::stopping || state_ == state::stopped) {
    if (c) disconnect_later(*c);
    return;
  }
  std::string key = r.traddr + ":" + r.trsvcid;
  if (!c) {
    NVMFD_LOG_WARN("{}: referral {}: {}", p_.name, key, c.err().message);
    referral_retry_ = true;
    ++walk_->next;
    return next_referral();
  }
  read_referral(key, referral{std::move(c.value()), gen});
}

void discovery_machine::read_referral(const std::string& key, referral rc) {
  auto ctrl = rc.ctrl;
  walk_->kept.emplace(key, std::move(rc));  // stop() disconnects it from here on
  read_discovery_log_async(ctrl, [self = shared_from_this(), key](result<discovery_log> more) {
    if (self->state_ == state::stopping || self->state_ == state::stopped) return;
    walk& w = *self->walk_;
    if (!more) {
      NVMFD_LOG_WARN("{}: referral {}: reading its log: {}", self->p_.name, key, more.err().message);
      self->referral_retry_ = true;
    } else {
      w.entries.insert(w.entries.end(), more->entries.begin(), more->entries.end());
    }
    ++w.next;
    self->next_referral();
  });
}

// --- reconciling ----------------------------------------------------------------------------

void discovery_machine::reconcile() {
  walk w = std::move(*walk_);
  walk_.reset();
  std::map<path_key, discovery_entry> wanted;
  for (const discovery_entry& e : w.entries)
    if (is_tcp_nvm_entry(e) && !is_discovery_nqn(e.subnqn)) wanted.emplace(path_key{e.subnqn, e.traddr, e.trsvcid}, e);
  {
    std::vector<discovery_entry> found;
    for (auto& [key, e] : wanted) found.push_back(e);
    registry_.report_findings(findings_source_, std::move(found), p_.trid);  // a CDC's feed
  }
  change_ = {};
  for (auto& [key, t] : attached_)
    if (!wanted.count(key)) change_.detach.push_back(key);
  for (auto& [key, e] : wanted)
    if (!attached_.count(key)) change_.attach.emplace_back(key, e);
  if (change_.detach.empty() && change_.attach.empty()) return reconciled();
  // The registry is shared with RPC handlers: its control token, held across the calls.
  state_ = state::reconciling;
  std::weak_ptr<discovery_machine> weak = weak_from_this();
  ticket_ = registry_.control().acquire([weak](control_queue::token t) {
    if (auto m = weak.lock()) m->granted(std::move(t));
  });
}

void discovery_machine::granted(control_queue::token t) {
  ticket_.reset();
  if (state_ != state::reconciling) return;  // stopped meanwhile: t goes back
  token_ = std::move(t);
  next_change();
}

void discovery_machine::next_change() {
  if (state_ == state::stopping) {  // stop() waited for the call that just ended
    token_.unlock();
    return finish_stop();
  }
  if (!change_.detach.empty()) {
    // Gone from the log: detach that path (the controller goes with its last path).
    path_key key = change_.detach.back();
    change_.detach.pop_back();
    registry_call_ = true;
    registry_.detach_path_async(
        name_of_subsystem_[key.subnqn], key.traddr, key.trsvcid, owner_,
        [self = shared_from_this(), key](result<void> r) {
          self->registry_call_ = false;
          if (!r)
            NVMFD_LOG_WARN("{}: detaching {} at {}:{}: {}", self->p_.name, key.subnqn, key.traddr, key.trsvcid,
                           r.err().message);
          else
            NVMFD_LOG_INFO("{}: {} at {}:{} left the discovery log: detached", self->p_.name, key.subnqn, key.traddr,
                           key.trsvcid);
          self->attached_.erase(key);
          self->next_change();
        });
    return;
  }
  if (!change_.attach.empty()) {
    // New in the log: attach.
    // Named copies, not a structured binding: lambdas capture key (clang 14, the fuzz build).
    const auto key = change_.attach.front().first;
    const auto e = change_.attach.front().second;
    change_.attach.erase(change_.attach.begin());
    if (!name_of_subsystem_.count(key.subnqn)) name_of_subsystem_[key.subnqn] = fmt::format("{}{}", p_.name, next_index_++);
    nvme_attach_request req;
    req.name = name_of_subsystem_[key.subnqn];
    req.trid = e.trid();
    req.opts = p_.opts;
    req.reconnect = p_.reconnect;
    req.owner = owner_;
    req.multipath = registry_.find(req.name) ? "multipath" : "";  // the token is held: entries_ stand still
    registry_call_ = true;
    registry_.attach_async(req, [self = shared_from_this(), key, name = req.name,
                                 trid = req.trid](result<std::vector<std::string>> r) {
      self->registry_call_ = false;
      if (!r) {
        NVMFD_LOG_WARN("{}: attaching {} at {}:{}: {}", self->p_.name, key.subnqn, key.traddr, key.trsvcid,
                       r.err().message);  // tried again at the next refresh
      } else {
        self->attached_.emplace(key, trid);
        std::lock_guard lk(self->mu_);
        if (std::find(self->names_.begin(), self->names_.end(), name) == self->names_.end())
          self->names_.push_back(name);
      }
      self->next_change();
    });
    return;
  }
  token_.unlock();
  reconciled();
}

void discovery_machine::reconciled() {
  // Names with no path left are no longer this service's.
  std::set<std::string> live;
  for (auto& [key, t] : attached_) live.insert(name_of_subsystem_[key.subnqn]);
  {
    std::lock_guard lk(mu_);
    std::erase_if(names_, [&](const std::string& n) { return !live.count(n); });
    first_done_ = true;
  }
  cv_.notify_all();
  step();
}

// --- stopping -------------------------------------------------------------------------------

void discovery_machine::stop_async(completion<controllers> done) {
  assert_on(home_, "discovery_machine::stop_async");
  if (state_ == state::stopping || state_ == state::stopped) return done(controllers{});
  stop_done_ = std::move(done);
  bool waits_for_registry = registry_call_;
  state_ = state::stopping;
  if (timer_) timer_->cancel();
  if (ticket_) {
    registry_.control().cancel(*ticket_);  // false when the grant is posted: granted() gives it back
    ticket_.reset();
  }
  if (connecting_) connecting_->cancel();  // its completion finds the machine stopping
  if (!waits_for_registry) finish_stop();
}

void discovery_machine::finish_stop() {
  state_ = state::stopped;
  ++next_gen_;
  gen_ = 0;
  token_.unlock();
  timer_.reset();
  controllers out;
  {
    std::lock_guard lk(mu_);
    if (ctrl_) out.push_back(std::move(ctrl_));
    cv_.notify_all();
  }
  for (auto& [key, rc] : referral_ctrls_) out.push_back(rc.ctrl);
  referral_ctrls_.clear();
  if (walk_) {
    for (auto& [key, rc] : walk_->kept) out.push_back(rc.ctrl);
    for (auto& [key, rc] : walk_->dropped) out.push_back(rc.ctrl);
    walk_.reset();
  }
  attached_.clear();
  stop_done_(std::move(out));
}

// --- other threads --------------------------------------------------------------------------

bool discovery_machine::wait_first_attached(std::chrono::milliseconds limit) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, limit, [&] { return first_done_; });
}

discovery_service::info discovery_machine::info() const {
  std::lock_guard lk(mu_);
  discovery_service::info i;
  i.trid = p_.trid;
  i.referrals = referrals_;
  i.controllers = names_;
  i.connected = ctrl_ && !ctrl_->failed();
  i.last_error = last_error_;
  i.refreshes = refreshes_;
  return i;
}

}  // namespace nvmfd
