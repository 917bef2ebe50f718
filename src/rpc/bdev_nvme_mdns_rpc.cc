// bdev_nvme_start_mdns_discovery / bdev_nvme_stop_mdns_discovery /
// bdev_nvme_get_mdns_discovery_info (SPDK's names, params and result shape): an mDNS browser
// of _nvme-disc._tcp per service; every discovery controller it finds gets a discovery
// service ("<name><n>_nvme", owner "mdns:<name>") that attaches what it offers; when the
// controller's announcement goes (goodbye or expiry) that discovery service stops and
// detaches exactly what it attached.
#include "rpc/bdev_nvme_mdns_rpc.h"

#include <condition_variable>
#include <deque>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>

#include "base/log.h"
#include "discovery/discovery_service.h"
#include "mdns/mdns_browser.h"
#include "proto/nqn.h"
#include "reactor/thread_name.h"
#include "rpc/bdev_nvme_discovery_rpc.h"
#include "rpc/bdev_nvme_rpc.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

// One bdev_nvme_start_mdns_discovery. The browser's callbacks only queue events; the
// service's own thread starts and stops discovery services (which block).
class mdns_discovery {
 public:
  mdns_discovery(std::string name, std::string svcname, std::string hostnqn, nvme_controller_registry& reg)
      : name_(std::move(name)), svcname_(std::move(svcname)), hostnqn_(std::move(hostnqn)), reg_(reg) {}
  ~mdns_discovery() { stop(); }

  result<void> start() {
    mdns_browser::callbacks cb;
    cb.found = [this](const mdns_discovered_service& s) { queue(s, true); };
    cb.removed = [this](const mdns_discovered_service& s) { queue(s, false); };
    auto b = mdns_browser::start(std::move(cb), svcname_);
    if (!b) return b.take_err();
    browser_ = std::move(b.value());
    thread_ = std::thread([this] { run(); });
    set_thread_name(thread_, "mdns-disc");
    return success();
  }

  // Stops the browser and every discovery service it started (detaching what they attached).
  // The caller holds the registry's control token, or nothing else runs.
  void stop() {
    browser_.reset();  // no callback after this
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    stop_.request_stop();
    if (thread_.joinable()) thread_.join();
    for (auto& [key, s] : services_) s->stop();
    services_.clear();
  }

  const std::string& name() const { return name_; }
  const std::string& svcname() const { return svcname_; }

  const std::string& hostnqn() const { return hostnqn_; }

  void append_discovery_info(json& out) const {
    std::lock_guard lk(mu_);
    for (auto& [key, s] : services_) out.push_back(discovery_info_json(s->params().name, *s));
  }

  json info() const {
    std::lock_guard lk(mu_);
    json refs = json::array();
    for (auto& [key, s] : services_) {
      transport_id t = s->params().trid;
      refs.push_back({{"name", s->params().name}, {"trid", nvme_trid_json(t)}});
    }
    return {{"name", name_}, {"svcname", svcname_}, {"referrals", std::move(refs)}};
  }

 private:
  struct event {
    mdns_discovered_service svc;
    bool found;
  };
  static std::string key_of(const mdns_discovered_service& s) { return s.traddr + ":" + std::to_string(s.port); }

  void queue(const mdns_discovered_service& s, bool found) {
    if (found && !s.transport.empty() && s.transport != "tcp") return;  // TXT p= other than TCP
    std::lock_guard lk(mu_);
    events_.push_back({s, found});
    cv_.notify_all();
  }

  void run() {
    std::unique_lock lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return stopping_ || !events_.empty(); });
      if (stopping_) return;
      event ev = std::move(events_.front());
      events_.pop_front();
      lk.unlock();
      handle(ev);
      lk.lock();
    }
  }

  void handle(const event& ev) {
    std::string key = key_of(ev.svc);
    if (ev.found) {
      {
        std::lock_guard lk(mu_);
        if (services_.count(key)) return;  // seen on another interface too
      }
      discovery_service_params p;
      p.name = fmt::format("{}{}_nvme", name_, next_index_++);
      p.trid.traddr = ev.svc.traddr;
      p.trid.trsvcid = std::to_string(ev.svc.port);
      p.trid.adrfam = ev.svc.adrfam == "IPv6" ? "ipv6" : "ipv4";
      p.trid.subnqn = ev.svc.nqn.empty() ? std::string(discovery_nqn) : ev.svc.nqn;
      p.opts.hostnqn = hostnqn_;
      p.opts.kato_ms = reg_.defaults().keep_alive_timeout_ms;
      p.reconnect = reg_.defaults().reconnect;
      p.owner = "mdns:" + name_;
      auto s = discovery_service::start(reg_.pool(), reg_, std::move(p));
      if (!s) {
        NVMFD_LOG_WARN("{}: discovery controller {} found over mDNS: {}", name_, key, s.err().message);
        return;
      }
      NVMFD_LOG_INFO("{}: discovery controller {} found over mDNS ({})", name_, key, ev.svc.name);
      std::lock_guard lk(mu_);
      services_.emplace(key, std::move(s.value()));
      return;
    }
    std::unique_ptr<discovery_service> gone;
    {
      std::lock_guard lk(mu_);
      auto it = services_.find(key);
      if (it == services_.end()) return;
      gone = std::move(it->second);
      services_.erase(it);
    }
    NVMFD_LOG_INFO("{}: discovery controller {} left mDNS: detaching what it offered", name_, key);
    // The registry's control token, as the RPC handlers hold it. When stop() ends the wait,
    // the service goes back to the others, which stop() stops holding the token.
    auto control = reg_.lock_control(stop_.get_token());
    if (!control) {
      std::lock_guard lk(mu_);
      services_.emplace(key, std::move(gone));
      return;
    }
    gone->stop();
  }

  std::string name_, svcname_, hostnqn_;
  nvme_controller_registry& reg_;
  std::unique_ptr<mdns_browser> browser_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<event> events_;
  bool stopping_ = false;
  std::stop_source stop_;  // requested by stop(): ends the thread's wait for the control token
  unsigned next_index_ = 0;
  std::map<std::string, std::unique_ptr<discovery_service>> services_;  // by address:port
  std::thread thread_;
};

}  // namespace

struct mdns_discoveries {
  std::map<std::string, std::unique_ptr<mdns_discovery>> by_name;
};

json mdns_discovery_calls(const mdns_discoveries& all) {
  json calls = json::array();
  for (auto& [name, d] : all.by_name) {
    json params = {{"name", name}, {"svcname", d->svcname()}};
    if (!d->hostnqn().empty()) params["hostnqn"] = d->hostnqn();
    calls.push_back({{"method", "bdev_nvme_start_mdns_discovery"}, {"params", std::move(params)}});
  }
  return calls;
}

void append_mdns_discovery_info(const mdns_discoveries& all, json& out) {
  for (auto& [name, d] : all.by_name) d->append_discovery_info(out);
}

std::shared_ptr<mdns_discoveries> add_bdev_nvme_mdns_methods(rpc_method_table& m,
                                                             nvme_controller_registry& controllers) {
  auto all = std::make_shared<mdns_discoveries>();
  m.add("bdev_nvme_start_mdns_discovery", [all, &controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto svcname = p.required_string("svcname");
    auto hostnqn = p.optional_string("hostnqn");
    if (!p.ok()) return p.finish().take_err();
    if (name.empty()) p.fail("name", "must not be empty");
    if (svcname != "_nvme-disc._tcp") p.fail("svcname", "only _nvme-disc._tcp (TP8009) is browsed");
    if (hostnqn)
      if (auto v = validate_nqn(*hostnqn); !v) p.fail("hostnqn", v.err().message);
    if (auto f = p.finish(); !f) return f.take_err();
    auto control = controllers.lock_control();
    if (all->by_name.count(name))
      return error{errc::already_exists, fmt::format("mDNS discovery {} already exists", name), EEXIST};
    auto d = std::make_unique<mdns_discovery>(name, svcname, hostnqn.value_or(""), controllers);
    if (auto r = d->start(); !r) return r.take_err();
    all->by_name.emplace(name, std::move(d));
    return json(true);
  });
  m.add("bdev_nvme_stop_mdns_discovery", [all, &controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    if (auto f = p.finish(); !f) return f.take_err();
    auto control = controllers.lock_control();
    auto it = all->by_name.find(name);
    if (it == all->by_name.end()) return error{errc::not_found, fmt::format("mDNS discovery {} not found", name)};
    auto d = std::move(it->second);
    all->by_name.erase(it);
    d->stop();
    return json(true);
  });
  m.add("bdev_nvme_get_mdns_discovery_info", [all, &controllers](const json& params) -> result<json> {
    param_reader p(params);
    if (auto f = p.finish(); !f) return f.take_err();
    auto control = controllers.lock_control();
    json out = json::array();
    for (auto& [name, d] : all->by_name) out.push_back(d->info());
    return out;
  });
  return all;
}

}  // namespace nvmfd
