#include "discovery/discovery_service.h"

#include <fmt/format.h>

#include <set>

#include "base/log.h"
#include "host/nvme_controller_registry.h"
#include "proto/features.h"
#include "proto/nqn.h"
#include "reactor/thread_name.h"

namespace nvmfd {

namespace {


bool is_tcp_nvm_entry(const discovery_entry& e) {
  return e.subtype == static_cast<uint8_t>(subsystem_type::nvme) &&
         e.trtype == static_cast<uint8_t>(transport_type::tcp);
}

}  // namespace

discovery_service::discovery_service(reactor_pool& pool, nvme_controller_registry& registry,
                                     discovery_service_params p)
    : pool_(pool), registry_(registry), p_(std::move(p)) {
  owner_ = p_.owner.empty() ? "discovery:" + p_.name : p_.owner;
  findings_source_ = "discovery:" + p_.name;
  if (p_.trid.subnqn.empty()) p_.trid.subnqn = std::string(discovery_nqn);
}

result<std::unique_ptr<discovery_service>> discovery_service::start(reactor_pool& pool,
                                                                    nvme_controller_registry& registry,
                                                                    discovery_service_params p) {
  std::unique_ptr<discovery_service> s(new discovery_service(pool, registry, std::move(p)));
  if (auto c = s->connect(); !c) return c.take_err();
  s->thread_ = std::thread([raw = s.get()] { raw->run(); });
  set_thread_name(s->thread_, "nvme-disc");
  if (s->p_.wait_for_attach) {
    // The service attaches holding the registry's control token: the caller must not hold it.
    std::unique_lock lk(s->mu_);
    auto done = [&] { return s->first_done_; };
    auto limit = std::chrono::milliseconds(s->p_.attach_timeout_ms ? s->p_.attach_timeout_ms : UINT32_MAX);
    if (!s->cv_.wait_for(lk, limit, done)) {
      lk.unlock();
      auto control = registry.lock_control();  // stop() detaches what it attached so far
      s->stop();
      return error{errc::timed_out, fmt::format("{}: the discovered subsystems were not attached within {} ms",
                                                s->p_.name, s->p_.attach_timeout_ms)};
    }
  }
  return s;
}

discovery_service::~discovery_service() { stop(); }

result<void> discovery_service::connect() {
  uint64_t gen;
  {
    std::lock_guard lk(mu_);
    gen = ++ctrl_generation_;
  }
  host_controller::event_handlers h;
  h.on_event = [this, gen](uint32_t dw0) {
    if (!aer_fields::decode(dw0).is_notice(aer_notice::discovery_log_change)) return;
    std::lock_guard lk(mu_);
    if (gen != ctrl_generation_) return;
    refresh_pending_ = true;
    cv_.notify_all();
  };
  h.on_failure = [this, gen](const std::string& why) {
    std::lock_guard lk(mu_);
    if (gen != ctrl_generation_) return;
    failure_pending_ = true;
    last_error_ = why;
    cv_.notify_all();
  };
  auto c = host_controller::connect(pool_, p_.trid, p_.opts, std::move(h));
  if (!c) {
    error e = c.take_err();
    e.message = fmt::format("{}: discovery controller at {}:{}: {}", p_.name, p_.trid.traddr, p_.trid.trsvcid, e.message);
    return e;
  }
  std::lock_guard lk(mu_);
  ctrl_ = std::move(c.value());
  refresh_pending_ = true;
  last_error_.clear();
  return success();
}

result<std::shared_ptr<host_controller>> discovery_service::connect_referral(const transport_id& r) {
  host_controller::event_handlers h;
  h.on_event = [this](uint32_t dw0) {
    if (!aer_fields::decode(dw0).is_notice(aer_notice::discovery_log_change)) return;
    std::lock_guard lk(mu_);
    refresh_pending_ = true;
    cv_.notify_all();
  };
  h.on_failure = [this](const std::string&) {
    std::lock_guard lk(mu_);
    referral_retry_ = true;
    cv_.notify_all();
  };
  transport_id t = r;
  t.subnqn = std::string(discovery_nqn);
  return host_controller::connect(pool_, t, p_.opts, std::move(h));
}

void discovery_service::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  stop_.request_stop();
  if (thread_.joinable()) thread_.join();
  std::shared_ptr<host_controller> c;
  std::map<std::string, std::shared_ptr<host_controller>> referral_ctrls;
  {
    std::lock_guard lk(mu_);
    c = std::move(ctrl_);
    referral_ctrls.swap(referral_ctrls_);
    ++ctrl_generation_;
  }
  if (c) c->disconnect();
  for (auto& [key, rc] : referral_ctrls) rc->disconnect();
  registry_.report_findings(findings_source_, {}, p_.trid);
  // The caller holds the control token (RPC handlers do), or nothing else runs (teardown).
  registry_.detach_owned(owner_);
  std::lock_guard lk(mu_);
  attached_.clear();
}

discovery_service::info discovery_service::get_info() const {
  std::lock_guard lk(mu_);
  info i;
  i.trid = p_.trid;
  i.referrals = referrals_;
  i.controllers = names_;
  i.connected = ctrl_ && !ctrl_->failed();
  i.last_error = last_error_;
  return i;
}

void discovery_service::run() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    cv_.wait_for(lk, std::chrono::seconds(1), [&] { return stopping_ || refresh_pending_ || failure_pending_; });
    if (stopping_) break;
    if (failure_pending_ || (ctrl_ && ctrl_->failed())) {
      failure_pending_ = false;
      auto old = std::move(ctrl_);
      lk.unlock();
      if (old) {
        NVMFD_LOG_WARN("{}: discovery controller lost; reconnecting every {} s", p_.name,
                       std::max(1u, p_.reconnect.reconnect_delay_sec));
        old->disconnect();
      }
      auto r = connect();
      lk.lock();
      if (!r) {
        last_error_ = r.err().message;
        failure_pending_ = true;  // try again after the delay
        cv_.wait_for(lk, std::chrono::seconds(std::max(1u, p_.reconnect.reconnect_delay_sec)), [&] { return stopping_; });
      }
      continue;
    }
    if (referral_retry_) {  // a referral's controller failed: reconnect it at the next refresh
      referral_retry_ = false;
      cv_.wait_for(lk, std::chrono::seconds(std::max(1u, p_.reconnect.reconnect_delay_sec)), [&] { return stopping_; });
      refresh_pending_ = true;
      continue;
    }
    if (refresh_pending_) {
      refresh_pending_ = false;
      lk.unlock();
      refresh();
      lk.lock();
    }
  }
}

void discovery_service::refresh() {
  std::shared_ptr<host_controller> c;
  {
    std::lock_guard lk(mu_);
    c = ctrl_;
  }
  if (!c) return;
  auto log = read_discovery_log(*c);
  if (!log) {
    std::lock_guard lk(mu_);
    last_error_ = log.err().message;
    if (!c->failed()) NVMFD_LOG_WARN("{}: reading the discovery log: {}", p_.name, last_error_);
    return;
  }
  std::vector<discovery_entry> entries = log->entries;
  // Referrals, one hop: a persistent connection to each (its change events refresh this
  // service), its log merged with this one's.
  std::vector<transport_id> referrals;
  std::map<std::string, std::shared_ptr<host_controller>> kept, dropped;
  {
    std::lock_guard lk(mu_);
    dropped.swap(referral_ctrls_);
  }
  for (const discovery_entry& e : log->entries) {
    if (!e.is_referral() || e.trtype != static_cast<uint8_t>(transport_type::tcp)) continue;
    transport_id r = e.trid();
    if (r.traddr == p_.trid.traddr && r.trsvcid == p_.trid.trsvcid) continue;  // itself
    std::string key = r.traddr + ":" + r.trsvcid;
    if (kept.count(key)) continue;  // listed twice
    referrals.push_back(r);
    std::shared_ptr<host_controller> rc;
    if (auto it = dropped.find(key); it != dropped.end()) {
      rc = std::move(it->second);
      dropped.erase(it);
      if (rc->failed()) {
        rc->disconnect();
        rc.reset();
      }
    }
    if (!rc) {
      auto c2 = connect_referral(r);
      if (!c2) {
        NVMFD_LOG_WARN("{}: referral {}: {}", p_.name, key, c2.err().message);
        std::lock_guard lk(mu_);
        referral_retry_ = true;
        continue;
      }
      rc = std::move(c2.value());
    }
    auto more = read_discovery_log(*rc);
    if (!more) {
      NVMFD_LOG_WARN("{}: referral {}: reading its log: {}", p_.name, key, more.err().message);
      std::lock_guard lk(mu_);
      referral_retry_ = true;
    } else {
      entries.insert(entries.end(), more->entries.begin(), more->entries.end());
    }
    kept.emplace(key, std::move(rc));
  }
  for (auto& [key, rc] : dropped) rc->disconnect();  // no longer referred to
  {
    std::lock_guard lk(mu_);
    referrals_ = referrals;
    referral_ctrls_ = std::move(kept);  // stop() takes them once this thread has ended
  }
  reconcile(entries);
  std::lock_guard lk(mu_);
  first_done_ = true;
  cv_.notify_all();
}

void discovery_service::reconcile(const std::vector<discovery_entry>& entries) {
  std::map<path_key, discovery_entry> wanted;
  for (const discovery_entry& e : entries)
    if (is_tcp_nvm_entry(e) && !is_discovery_nqn(e.subnqn)) wanted.emplace(path_key{e.subnqn, e.traddr, e.trsvcid}, e);

  {
    std::vector<discovery_entry> found;
    for (auto& [key, e] : wanted) found.push_back(e);
    registry_.report_findings(findings_source_, std::move(found), p_.trid);  // a CDC's feed
  }
  // The registry is shared with RPC handlers: its control token; the wait ends when stop()
  // is called (by a caller that may hold the token).
  auto control = registry_.lock_control(stop_.get_token());
  if (!control) return;

  // Gone from the log: detach those paths (the controller goes with its last path).
  for (auto it = attached_.begin(); it != attached_.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    std::string name;
    {
      std::lock_guard lk(mu_);
      name = name_of_subsystem_[it->first.subnqn];
    }
    if (auto r = registry_.detach_path(name, it->first.traddr, it->first.trsvcid, owner_); !r)
      NVMFD_LOG_WARN("{}: detaching {} at {}:{}: {}", p_.name, it->first.subnqn, it->first.traddr,
                     it->first.trsvcid, r.err().message);
    else
      NVMFD_LOG_INFO("{}: {} at {}:{} left the discovery log: detached", p_.name, it->first.subnqn,
                     it->first.traddr, it->first.trsvcid);
    it = attached_.erase(it);
  }
  // New in the log: attach.
  for (auto& [key, e] : wanted) {
    if (attached_.count(key)) continue;
    nvme_attach_request req;
    bool known;
    {
      std::lock_guard lk(mu_);
      known = name_of_subsystem_.count(key.subnqn) > 0;
      if (!known) name_of_subsystem_[key.subnqn] = fmt::format("{}{}", p_.name, next_index_++);
      req.name = name_of_subsystem_[key.subnqn];
    }
    req.trid = e.trid();
    req.opts = p_.opts;
    req.reconnect = p_.reconnect;
    req.owner = owner_;
    req.multipath = registry_.find(req.name) ? "multipath" : "";
    auto r = registry_.attach(req);
    if (!r) {
      NVMFD_LOG_WARN("{}: attaching {} at {}:{}: {}", p_.name, key.subnqn, key.traddr, key.trsvcid, r.err().message);
      continue;  // tried again at the next refresh
    }
    attached_.emplace(key, req.trid);
    std::lock_guard lk(mu_);
    if (std::find(names_.begin(), names_.end(), req.name) == names_.end()) names_.push_back(req.name);
  }
  // Names with no path left are no longer this service's.
  std::set<std::string> live;
  for (auto& [key, t] : attached_) live.insert(name_of_subsystem_[key.subnqn]);
  std::lock_guard lk(mu_);
  std::erase_if(names_, [&](const std::string& n) { return !live.count(n); });
}

}  // namespace nvmfd
