#pragma once
// fake_browsers: a browser_factory (discovery/service_browser.h) whose browsers the test
// drives: found() and removed() call the callbacks of every live browser on the test's
// thread, as Avahi would on its loop. A browser gone (its handle destroyed) gets no call
// after that, as the contract says.
#include <memory>
#include <mutex>
#include <vector>

#include "discovery/service_browser.h"

namespace nvmfd::test {

class fake_browsers {
 public:
  browser_factory factory() {
    auto s = s_;
    return [s](const std::string&, mdns_browser::callbacks cb) -> result<std::unique_ptr<service_browser>> {
      std::lock_guard lk(s->mu);
      auto b = std::make_unique<browser>(s);
      s->live.push_back({b.get(), std::move(cb)});
      return std::unique_ptr<service_browser>(std::move(b));
    };
  }
  void found(const mdns_discovered_service& svc) {
    std::lock_guard lk(s_->mu);
    for (auto& [b, cb] : s_->live) cb.found(svc);
  }
  void removed(const mdns_discovered_service& svc) {
    std::lock_guard lk(s_->mu);
    for (auto& [b, cb] : s_->live) cb.removed(svc);
  }
  size_t live() const {
    std::lock_guard lk(s_->mu);
    return s_->live.size();
  }

 private:
  struct browser;
  struct state {
    mutable std::mutex mu;
    std::vector<std::pair<browser*, mdns_browser::callbacks>> live;
  };
  struct browser final : service_browser {
    explicit browser(std::shared_ptr<state> s) : s_(std::move(s)) {}
    ~browser() override {
      std::lock_guard lk(s_->mu);
      std::erase_if(s_->live, [this](auto& e) { return e.first == this; });
    }
    std::shared_ptr<state> s_;
  };
  std::shared_ptr<state> s_ = std::make_shared<state>();
};

// What Avahi reports for a discovery controller of ours on 127.0.0.1:port.
inline mdns_discovered_service announced(uint16_t port, int interface = 1) {
  mdns_discovered_service s;
  s.name = "nvmfd test 127.0.0.1:" + std::to_string(port);
  s.type = "_nvme-disc._tcp";
  s.domain = "local";
  s.interface = interface;
  s.adrfam = "IPv4";
  s.traddr = "127.0.0.1";
  s.port = port;
  s.transport = "tcp";
  s.nqn = "nqn.2014-08.org.nvmexpress.discovery";
  return s;
}

}  // namespace nvmfd::test
