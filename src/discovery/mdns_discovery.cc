#include "discovery/mdns_discovery.h"

#include <fmt/format.h>

#include "base/log.h"
#include "mdns/avahi_connection.h"
#include "proto/nqn.h"

namespace nvmfd {

namespace {
std::string key_of(const mdns_discovered_service& s) { return s.traddr + ":" + std::to_string(s.port); }
}  // namespace

mdns_discovery::mdns_discovery(reactor& loop, nvme_controller_registry& registry, mdns_discovery_params p)
    : loop_(loop), reg_(registry), p_(std::move(p)) {}

result<std::shared_ptr<mdns_discovery>> mdns_discovery::start(reactor& loop, nvme_controller_registry& registry,
                                                              mdns_discovery_params p,
                                                              const browser_factory& browsers) {
  std::shared_ptr<mdns_discovery> d(new mdns_discovery(loop, registry, std::move(p)));
  mdns_browser::callbacks cb;
  std::weak_ptr<mdns_discovery> w = d;
  cb.found = [w](const mdns_discovered_service& s) {
    if (auto self = w.lock()) self->post_event(s, true);
  };
  cb.removed = [w](const mdns_discovered_service& s) {
    if (auto self = w.lock()) self->post_event(s, false);
  };
  auto b = browsers(d->p_.svcname, std::move(cb));
  if (!b) return b.take_err();
  d->browser_ = std::move(b.value());
  return d;
}

mdns_discovery::~mdns_discovery() { stop(); }

void mdns_discovery::post_event(const mdns_discovered_service& s, bool found) {
  if (found && !s.transport.empty() && s.transport != "tcp") return;  // TXT p= other than TCP
  loop_.post([w = weak_from_this(), s, found] {
    auto self = w.lock();
    if (!self || self->stopping_) return;
    if (found)
      self->found(s);
    else
      self->removed(s);
  });
}

void mdns_discovery::found(const mdns_discovered_service& s) {
  std::string key = key_of(s);
  {
    std::lock_guard lk(mu_);
    if (services_.count(key)) return;  // seen on another interface too
  }
  discovery_service_params p;
  p.name = fmt::format("{}{}_nvme", p_.name, next_index_++);
  p.trid.traddr = s.traddr;
  p.trid.trsvcid = std::to_string(s.port);
  p.trid.adrfam = s.adrfam == "IPv6" ? "ipv6" : "ipv4";
  p.trid.subnqn = s.nqn.empty() ? std::string(discovery_nqn) : s.nqn;
  p.opts.hostnqn = p_.hostnqn;
  p.opts.kato_ms = reg_.defaults().keep_alive_timeout_ms;
  p.reconnect = reg_.defaults().reconnect;
  // An owner per service: stopping one detaches exactly what it attached, not what the
  // other discovery controllers of this browser offered.
  p.owner = "mdns:" + p_.name + "/" + p.name;
  auto started = discovery_service::start(reg_.pool(), reg_, std::move(p));
  if (!started) {
    NVMFD_LOG_WARN("{}: discovery controller {} found over mDNS: {}", p_.name, key, started.err().message);
    return;
  }
  NVMFD_LOG_INFO("{}: discovery controller {} found over mDNS ({})", p_.name, key, s.name);
  std::lock_guard lk(mu_);  // kept even when stopping meanwhile: stop() stops it
  services_.emplace(key, std::move(started.value()));
}

void mdns_discovery::removed(const mdns_discovered_service& s) {
  std::string key = key_of(s);
  {
    std::lock_guard lk(mu_);
    if (!services_.count(key)) return;
  }
  // The registry's control lock, as the RPC handlers hold it; given up when stop() (whose
  // caller holds it) waits for this event: the service is then left for stop() to stop.
  auto control = reg_.lock_control(stop_.get_token());
  if (!control) return;
  std::unique_ptr<discovery_service> gone;
  {
    std::lock_guard lk(mu_);
    auto it = services_.find(key);
    if (it == services_.end()) return;
    gone = std::move(it->second);
    services_.erase(it);
  }
  NVMFD_LOG_INFO("{}: discovery controller {} left mDNS: detaching what it offered", p_.name, key);
  gone->stop();
}

void mdns_discovery::stop() {
  stopping_ = true;
  stop_.request_stop();  // a removal waiting for the control token gives up
  browser_.reset();  // no callback after this
  // After every event posted before (they find stopping_ set), and after the one being
  // handled, if any.
  std::map<std::string, std::unique_ptr<discovery_service>> services;
  run_on_loop(loop_, [&] {
    std::lock_guard lk(mu_);
    services.swap(services_);
  });
  for (auto& [key, s] : services) s->stop();
}

void mdns_discovery::for_each_service(
    const std::function<void(const std::string& key, const discovery_service&)>& fn) const {
  std::lock_guard lk(mu_);
  for (auto& [key, s] : services_) fn(key, *s);
}

}  // namespace nvmfd
