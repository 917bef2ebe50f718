#include "discovery/discovery_service.h"

#include <fmt/format.h>

#include "discovery/discovery_machine.h"
#include "host/nvme_controller_registry.h"
#include "proto/nqn.h"
#include "reactor/blocking_call.h"

namespace nvmfd {

discovery_service::discovery_service(reactor_pool& pool, nvme_controller_registry& registry,
                                     discovery_service_params p)
    : pool_(pool), registry_(registry), p_(std::move(p)) {
  owner_ = p_.owner.empty() ? "discovery:" + p_.name : p_.owner;
  findings_source_ = "discovery:" + p_.name;
  if (p_.trid.subnqn.empty()) p_.trid.subnqn = std::string(discovery_nqn);
  m_ = std::make_shared<discovery_machine>(pool_, registry_, p_, owner_, findings_source_);
}

result<std::unique_ptr<discovery_service>> discovery_service::start(reactor_pool& pool,
                                                                    nvme_controller_registry& registry,
                                                                    discovery_service_params p) {
  std::unique_ptr<discovery_service> s(new discovery_service(pool, registry, std::move(p)));
  auto started = blocking_call<void>(
      pool.control(), [m = s->m_](completion<void> done) { m->start_async(std::move(done)); }, std::nullopt,
      "discovery_service::start");
  if (!started) return started.take_err();
  if (s->p_.wait_for_attach) {
    // The service attaches holding the registry's control token: the caller must not hold it.
    auto limit = std::chrono::milliseconds(s->p_.attach_timeout_ms ? s->p_.attach_timeout_ms : UINT32_MAX);
    if (!s->m_->wait_first_attached(limit)) {
      auto control = registry.lock_control();  // stop() detaches what it attached so far
      s->stop();
      return error{errc::timed_out, fmt::format("{}: the discovered subsystems were not attached within {} ms",
                                                s->p_.name, s->p_.attach_timeout_ms)};
    }
  }
  return s;
}

discovery_service::~discovery_service() { stop(); }

void discovery_service::stop() {
  if (stopped_) return;
  stopped_ = true;
  auto left = blocking_call<discovery_machine::controllers>(
      pool_.control(), [m = m_](completion<discovery_machine::controllers> done) { m->stop_async(std::move(done)); },
      std::nullopt, "discovery_service::stop");
  if (left)
    for (auto& c : *left) c->disconnect();
  registry_.report_findings(findings_source_, {}, p_.trid);
  // The caller holds the control token (RPC handlers do), or nothing else runs (teardown).
  registry_.detach_owned(owner_);
}

discovery_service::info discovery_service::get_info() const { return m_->info(); }

}  // namespace nvmfd
