#include "host/nvme_path.h"

#include <fmt/format.h>

#include "base/log.h"
#include "host/ana_log_reader.h"
#include "proto/features.h"
#include "reactor/thread_name.h"

namespace nvmfd {

namespace {

std::atomic<uint64_t> next_path_id{1};

bool same_path(const transport_id& a, const transport_id& b) {
  return a.traddr == b.traddr && a.trsvcid == b.trsvcid;
}

std::string where(const nvme_attach_request& r, const transport_id& t) {
  return fmt::format("{}: {} at {}:{}", r.name, t.subnqn, t.traddr, t.trsvcid);
}

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

nvme_path::nvme_path(reactor_pool& pool, nvme_attach_request req, change_listener on_change)
    : pool_(pool), id_(next_path_id.fetch_add(1)), req_(std::move(req)), on_change_(std::move(on_change)) {}

result<std::unique_ptr<nvme_path>> nvme_path::connect(reactor_pool& pool, nvme_attach_request req,
                                                      change_listener on_change) {
  std::unique_ptr<nvme_path> p(new nvme_path(pool, std::move(req), std::move(on_change)));
  auto c = p->connect_once(p->req_.trid);
  if (!c) return c.take_err();
  // Reconnects present the same host: an allow list names it, and the target keys state on it.
  p->req_.opts.hostnqn = (*c)->hostnqn();
  p->req_.opts.hostid = (*c)->hostid();
  {
    std::lock_guard lk(p->mu_);
    p->ctrl_ = *c;
    p->cntlid_ = (*c)->cntlid();
    p->ana_reporting_ = (*c)->ana_reporting();
  }
  if (p->ana_reporting_) {
    auto ana = read_ana_log(**c);
    if (!ana) {
      (*c)->disconnect();
      error e = ana.take_err();
      e.message = "reading the ANA log page: " + e.message;
      return e;
    }
    p->ana_ = std::move(ana->groups);
  }
  p->supervisor_ = std::thread([raw = p.get()] { raw->supervise(); });
  set_thread_name(p->supervisor_, "nvme-path");
  return p;
}

nvme_path::~nvme_path() { stop(); }

host_controller::event_handlers nvme_path::handlers() {
  uint64_t gen;
  {
    std::lock_guard lk(mu_);
    gen = ++ctrl_generation_;
  }
  host_controller::event_handlers h;
  h.on_event = [this, gen](uint32_t dw0) {
    if (!aer_fields::decode(dw0).is_notice(aer_notice::ana_change)) return;
    std::lock_guard lk(mu_);
    if (gen != ctrl_generation_) return;
    ana_refresh_pending_ = true;
    cv_.notify_all();
  };
  h.on_failure = [this, gen](const std::string& why) {
    std::lock_guard lk(mu_);
    if (gen != ctrl_generation_) return;  // a connection already replaced
    failure_pending_ = true;
    last_error_ = why;
    cv_.notify_all();
  };
  return h;
}

result<std::shared_ptr<host_controller>> nvme_path::connect_once(const transport_id& trid) {
  auto c = host_controller::connect(pool_, trid, req_.opts, handlers());
  if (!c) {
    error e = c.take_err();
    e.message = fmt::format("{}: {}", where(req_, trid), e.message);
    return e;
  }
  // nvme_bdev sends each I/O on its reactor's own queue: a reactor without one would fail it.
  if ((*c)->io_queue_count() < pool_.size()) {
    (*c)->disconnect();
    return error{errc::invalid_argument,
                 fmt::format("{}: the controller granted {} I/O queues; nvmfd needs one per reactor ({})",
                             where(req_, trid), (*c)->io_queue_count(), pool_.size())};
  }
  return c;
}

nvme_attach_request nvme_path::request() const {
  std::lock_guard lk(mu_);
  return req_;
}

nvme_path::status nvme_path::get_status() const {
  std::lock_guard lk(mu_);
  status s;
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
  return s;
}

std::optional<ana_state> nvme_path::ana_state_of(const status& s, uint32_t grpid) {
  if (!s.ana_reporting) return ana_state::optimized;
  auto it = s.ana.find(grpid);
  if (it == s.ana.end()) return std::nullopt;
  return it->second;
}

void nvme_path::request_ana_refresh() {
  ana_pending_.store(true, std::memory_order_release);
  std::lock_guard lk(mu_);
  ana_refresh_pending_ = true;
  cv_.notify_all();
}

void nvme_path::add_alternate(const transport_id& t) {
  std::lock_guard lk(mu_);
  alternates_.push_back(t);
}

bool nvme_path::remove_transport(const transport_id& t) {
  std::unique_lock lk(mu_);
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
  failure_pending_ = true;
  last_error_ = fmt::format("path {}:{} removed", t.traddr, t.trsvcid);
  skip_rotation_ = true;
  cv_.notify_all();
  return true;
}

void nvme_path::reset(const std::string& why) {
  std::lock_guard lk(mu_);
  failure_pending_ = true;
  last_error_ = why;
  cv_.notify_all();
}

std::vector<std::shared_ptr<host_controller>> nvme_path::take_retired() {
  std::lock_guard lk(mu_);
  return std::move(retired_);
}

void nvme_path::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    state_ = path_state::deleting;
    cv_.notify_all();
  }
  if (supervisor_.joinable()) supervisor_.join();
  std::vector<std::shared_ptr<host_controller>> all;
  {
    std::lock_guard lk(mu_);
    all = std::move(retired_);
    if (ctrl_) all.push_back(std::move(ctrl_));
    ++ctrl_generation_;  // late events of these are not ours any more
  }
  for (auto& c : all) c->disconnect();
}

void nvme_path::supervise() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    auto now = clock_type::now();
    auto wait = std::chrono::milliseconds(1000);
    if (anatt_deadline_ != clock_type::time_point::max())
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(anatt_deadline_ - now) +
                                std::chrono::milliseconds(1));
    cv_.wait_for(lk, std::max(wait, std::chrono::milliseconds(1)),
                 [&] { return stopping_ || failure_pending_ || ana_refresh_pending_; });
    if (stopping_) break;
    if (failure_pending_) {
      failure_pending_ = false;
      lk.unlock();
      reconnect_loop();
      lk.lock();
      continue;
    }
    if (ana_refresh_pending_) {
      ana_refresh_pending_ = false;
      lk.unlock();
      refresh_ana();
      lk.lock();
      continue;
    }
    if (clock_type::now() >= anatt_deadline_) {
      // A group stayed in the change state past ANATT: read once more, then reset.
      anatt_deadline_ = clock_type::time_point::max();
      lk.unlock();
      refresh_ana();
      lk.lock();
      bool still = false;
      for (auto& [grp, st] : ana_) still |= st == ana_state::change;
      if (still && ctrl_) {
        last_error_ = "an ANA group stayed in the change state longer than ANATT";
        NVMFD_LOG_WARN("{}: {}: resetting the connection", where(req_, req_.trid), last_error_);
        failure_pending_ = true;
      }
    }
  }
}

void nvme_path::reconnect_loop() {
  auto since = clock_type::now();
  {
    std::lock_guard lk(mu_);
    if (ctrl_) {
      NVMFD_LOG_WARN("{}: connection lost ({}); reconnect policy: loss timeout {} s, delay {} s",
                     where(req_, req_.trid), last_error_, req_.reconnect.ctrlr_loss_timeout_sec,
                     req_.reconnect.reconnect_delay_sec);
      retired_.push_back(std::move(ctrl_));
      ctrl_.reset();
    }
    ++ctrl_generation_;
    state_ = path_state::resetting;
  }
  notify();
  const reconnect_policy& pol = req_.reconnect;
  for (unsigned attempt = 0;; ++attempt) {
    transport_id trid;
    {
      std::unique_lock lk(mu_);
      if (stopping_) return;
      auto elapsed = clock_type::now() - since;
      bool give_up = pol.ctrlr_loss_timeout_sec == 0 ||
                     (pol.ctrlr_loss_timeout_sec > 0 && elapsed >= std::chrono::seconds(pol.ctrlr_loss_timeout_sec));
      if (give_up) {
        state_ = path_state::failed;
        NVMFD_LOG_WARN("{}: path failed for good ({}){}", where(req_, req_.trid), last_error_,
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
    if (attempt > 0) notify();
    auto c = connect_once(trid);
    if (c) {
      install(std::move(c.value()));
      return;
    }
    {
      std::unique_lock lk(mu_);
      last_error_ = c.err().message;
      state_ = path_state::reconnect_is_delayed;
      NVMFD_LOG_INFO("{}: reconnect attempt {} failed: {}", where(req_, trid), attempt + 1, last_error_);
    }
    notify();
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, std::chrono::seconds(pol.reconnect_delay_sec), [&] { return stopping_; });
  }
}

void nvme_path::install(std::shared_ptr<host_controller> c) {
  {
    std::lock_guard lk(mu_);
    ctrl_ = c;
    cntlid_ = c->cntlid();
    ana_reporting_ = c->ana_reporting();
    if (!ana_reporting_) ana_.clear();
    state_ = path_state::enabled;
    last_error_.clear();
    // Failures reported before the controller was installed belong to attempts now over,
    // unless this one failed already.
    failure_pending_ = c->failed();
    if (failure_pending_) last_error_ = c->failure_reason();
  }
  NVMFD_LOG_INFO("{}: reconnected (cntlid {})", where(req_, c->trid()), c->cntlid());
  refresh_ana();
  notify();
}

void nvme_path::refresh_ana() {
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
  auto snap = read_ana_log(*c);
  if (!snap) {
    // A failed controller is handled by the failure path; anything else is worth a word.
    if (!c->failed()) NVMFD_LOG_WARN("{}: reading the ANA log page: {}", where(req_, c->trid()), snap.err().message);
    return;
  }
  {
    std::lock_guard lk(mu_);
    if (ctrl_ != c) return;  // replaced meanwhile
    bool in_change = false;
    for (auto& [grp, st] : snap->groups) in_change |= st == ana_state::change;
    if (!in_change) {
      anatt_deadline_ = clock_type::time_point::max();
    } else if (anatt_deadline_ == clock_type::time_point::max()) {
      unsigned anatt = c->identity().anatt ? c->identity().anatt : 10;
      anatt_deadline_ = clock_type::now() + std::chrono::seconds(anatt);
    }
    ana_ = std::move(snap->groups);
  }
  ana_pending_.store(false, std::memory_order_release);
  notify();
}

}  // namespace nvmfd
