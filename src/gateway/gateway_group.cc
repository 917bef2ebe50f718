#include "gateway/gateway_group.h"

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "base/log.h"

namespace nvmfd::gateway {

gateway_group::gateway_group(group_config cfg, lease_store& store, gateway_local& local,
                             std::function<clock::time_point()> now)
    : cfg_(std::move(cfg)), store_(store), local_(local), now_(std::move(now)) {
  for (uint32_t g : cfg_.ana_groups) {
    auto s = std::make_unique<slot>();
    s->id = g;
    slots_.push_back(std::move(s));
  }
}

gateway_group::slot* gateway_group::slot_of(uint32_t g) {
  for (auto& s : slots_)
    if (s->id == g) return s.get();
  return nullptr;
}

const gateway_group::slot* gateway_group::slot_of(uint32_t g) const {
  return const_cast<gateway_group*>(this)->slot_of(g);
}

bool gateway_group::live(const std::string& id) const {
  return std::any_of(members_.begin(), members_.end(), [&](const member& m) { return m.gateway_id == id; });
}

bool gateway_group::failed(const error& e, std::string_view what) {
  round_error_ = fmt::format("{}: {}", what, e.message);
  NVMFD_LOG_DEBUG("gateway group '{}': {}", cfg_.name, round_error_);
  if (e.sys_errno == ESHUTDOWN && !fenced_.exchange(true)) {
    NVMFD_LOG_ERROR(
        "gateway group '{}': gateway '{}' was fenced (blocklisted) by another gateway of the group; its "
        "namespaces are inaccessible here until nvmfd is restarted",
        cfg_.name, cfg_.gateway_id);
    show_all();
  }
  return fenced_;
}

void gateway_group::tick() {
  if (fenced_ || left_) return show_all();
  round_error_.clear();
  round();
  std::lock_guard lk(view_mu_);
  if (!round_error_.empty() && round_error_ != last_error_)
    NVMFD_LOG_WARN("gateway group '{}': {}", cfg_.name, round_error_);
  last_error_ = round_error_;
}

void gateway_group::round() {
  clock::time_point start = now_();
  if (auto j = store_.join(cfg_.lease); j) {
    member_until_ = start + cfg_.lease / 2;
  } else if (failed(j.err(), "renewing membership")) {
    return;
  }
  if (auto m = store_.members(); m) {
    std::lock_guard lk(view_mu_);
    members_ = std::move(m.value());
  } else if (failed(m.err(), "listing members")) {
    return;
  }
  show_all();
  for (auto& s : slots_) {
    round_for(*s, start);
    if (fenced_) return;
    show_all();
  }
}

bool gateway_group::eligible(const slot& s, const std::string& requested) const {
  if (!requested.empty() && live(requested)) return requested == cfg_.gateway_id;
  auto h = cfg_.home.find(s.id);
  if (h != cfg_.home.end() && live(h->second)) return h->second == cfg_.gateway_id;
  return true;
}

std::string gateway_group::handover_target(const slot& s, const std::string& requested) const {
  if (!requested.empty() && requested != cfg_.gateway_id && live(requested)) return requested;
  if (!cfg_.failback) return "";
  auto h = cfg_.home.find(s.id);
  if (h != cfg_.home.end() && h->second != cfg_.gateway_id && live(h->second)) return h->second;
  return "";
}

void gateway_group::round_for(slot& s, clock::time_point start) {
  auto req = store_.requested_owner(s.id);
  if (!req) {
    failed(req.err(), fmt::format("reading the requested owner of ANA group {}", s.id));
    return;
  }
  {
    std::lock_guard lk(view_mu_);
    s.requested = req.value();
  }
  if (s.owned) {
    auto r = store_.renew(s.id, cfg_.lease);
    if (!r) {
      failed(r.err(), fmt::format("renewing ANA group {}", s.id));
      return;
    }
    if (!r.value()) {
      NVMFD_LOG_WARN("gateway group '{}': lost ANA group {} (its lease ran out before it was renewed)", cfg_.name, s.id);
      s.owned = false;
      return;
    }
    s.valid_until = start + cfg_.lease / 2;
    {
      std::lock_guard lk(view_mu_);
      s.holder = cfg_.gateway_id;
    }
    if (auto to = handover_target(s, req.value()); !to.empty()) return hand_over(s, to);
    if (s.record_released) {  // a hand-over that did not finish: the record names us again
      if (store_.write_owner(s.id, {cfg_.gateway_id, local_.client_addresses(), false})) s.record_released = false;
    }
    return;
  }
  auto h = store_.holder(s.id);
  if (!h) {
    failed(h.err(), fmt::format("reading the holder of ANA group {}", s.id));
    return;
  }
  {
    std::lock_guard lk(view_mu_);
    s.holder = h.value();
  }
  if (!h.value().empty() || !eligible(s, req.value())) return;
  auto a = store_.acquire(s.id, cfg_.lease);
  if (!a) {
    failed(a.err(), fmt::format("taking ANA group {}", s.id));
    return;
  }
  if (a.value()) take_over(s, start);
}

void gateway_group::take_over(slot& s, clock::time_point start) {
  auto prev = store_.read_owner(s.id);
  if (!prev) {
    failed(prev.err(), fmt::format("reading the owner record of ANA group {}", s.id));
    (void)store_.release(s.id);
    return;
  }
  std::string from = prev.value() ? prev.value()->gateway_id : "";
  bool fenced = false;
  if (prev.value() && !prev.value()->released) {
    std::vector<std::string> fence;
    auto own = local_.client_addresses();
    for (auto& a : prev.value()->addresses)
      if (std::find(own.begin(), own.end(), a) == own.end()) fence.push_back(a);
    if (!fence.empty()) {
      if (auto f = store_.fence(fence); !f) {
        failed(f.err(), fmt::format("fencing the previous owner of ANA group {}", s.id));
        (void)store_.release(s.id);  // never optimized without the fence: another try next round
        return;
      }
      NVMFD_LOG_WARN("gateway group '{}': fenced gateway '{}' ({}) to take ANA group {} over", cfg_.name, from,
                     fmt::join(fence, ", "), s.id);
      fenced = true;
    }
  }
  if (auto t = local_.take_over(s.id, fenced); !t)
    NVMFD_LOG_WARN("gateway group '{}': ANA group {}: taking the images over: {} (librbd takes their locks on the "
                   "first write)",
                   cfg_.name, s.id, t.err().message);
  if (auto w = store_.write_owner(s.id, {cfg_.gateway_id, local_.client_addresses(), false}); !w) {
    failed(w.err(), fmt::format("writing the owner record of ANA group {}", s.id));
    (void)store_.release(s.id);
    return;
  }
  std::string requested;
  {
    std::lock_guard lk(view_mu_);
    requested = s.requested;
  }
  if (requested == cfg_.gateway_id) (void)store_.request_owner(s.id, "");
  s.owned = true;
  s.record_released = false;
  s.valid_until = start + cfg_.lease / 2;
  {
    std::lock_guard lk(view_mu_);
    s.holder = cfg_.gateway_id;
    if (requested == cfg_.gateway_id) s.requested.clear();
  }
  NVMFD_LOG_INFO("gateway group '{}': gateway '{}' owns ANA group {}{}", cfg_.name, cfg_.gateway_id, s.id,
                 from.empty() || from == cfg_.gateway_id ? "" : fmt::format(" (was '{}')", from));
}

void gateway_group::hand_over(slot& s, const std::string& to) {
  // Non-optimized first: hosts move their I/O away before the lease is released.
  s.shown = ana_state::non_optimized;
  local_.show(s.id, ana_state::non_optimized);
  if (auto w = store_.write_owner(s.id, {cfg_.gateway_id, local_.client_addresses(), true}); !w) {
    failed(w.err(), fmt::format("handing ANA group {} over", s.id));
    return;
  }
  s.record_released = true;
  if (auto r = store_.release(s.id); !r) {
    failed(r.err(), fmt::format("releasing ANA group {}", s.id));
    return;
  }
  s.owned = false;
  s.record_released = false;
  NVMFD_LOG_INFO("gateway group '{}': handed ANA group {} over to '{}'", cfg_.name, s.id, to);
}

result<void> gateway_group::move(uint32_t g, const std::string& to) {
  slot* s = slot_of(g);
  if (!s) return error{errc::invalid_argument, fmt::format("ANA group {} is not in gateway group '{}'", g, cfg_.name)};
  if (!live(to))
    return error{errc::invalid_argument, fmt::format("'{}' is not a live member of gateway group '{}'", to, cfg_.name)};
  return store_.request_owner(g, to);
}

void gateway_group::leave() {
  for (auto& s : slots_)
    if (s->owned && !fenced_) hand_over(*s, "(none: leaving)");
  if (!fenced_)
    if (auto l = store_.leave(); !l) NVMFD_LOG_WARN("gateway group '{}': leaving: {}", cfg_.name, l.err().message);
  left_ = true;  // no more rounds: show inaccessible
  show_all();
}

void gateway_group::show_all() {
  for (auto& s : slots_) show(*s);
}

void gateway_group::show(slot& s) {
  clock::time_point now = now_();
  ana_state st = ana_state::inaccessible;
  if (!fenced_ && !left_) {
    if (s.owned && now < s.valid_until)
      st = ana_state::optimized;
    else if (now < member_until_)
      st = ana_state::non_optimized;
  }
  if (s.shown.exchange(st) != st)
    NVMFD_LOG_INFO("gateway group '{}': ANA group {} is {} on gateway '{}'", cfg_.name, s.id, ana_state_rpc_name(st),
                   cfg_.gateway_id);
  local_.show(s.id, st);
}

std::optional<ana_state> gateway_group::state_of(uint32_t g) const {
  const slot* s = slot_of(g);
  if (!s) return std::nullopt;
  return s->shown.load();
}

group_view gateway_group::view() const {
  group_view v;
  std::lock_guard lk(view_mu_);
  v.members = members_;
  v.fenced = fenced_;
  v.last_error = last_error_;
  for (auto& s : slots_) {
    ana_group_view a;
    a.anagrpid = s->id;
    a.owner = s->holder;
    auto h = cfg_.home.find(s->id);
    if (h != cfg_.home.end()) a.home = h->second;
    a.requested = s->requested;
    a.shown = s->shown.load();
    v.groups.push_back(a);
  }
  return v;
}

}  // namespace nvmfd::gateway
