#include "discovery/discovery_services.h"

#include <fmt/format.h>

#include "host/nvme_controller_registry.h"

namespace nvmfd {

discovery_services::~discovery_services() {
  // Nobody else calls the registry now (the RPC server has stopped): no control token needed.
  for (auto& [name, s] : by_name_) s->stop();
}

result<void> discovery_services::check_unused(const discovery_service_params& p) const {
  if (by_name_.count(p.name))
    return error{errc::already_exists, fmt::format("discovery service {} already exists", p.name), EEXIST};
  for (auto& [n, s] : by_name_)
    if (s->params().trid.traddr == p.trid.traddr && s->params().trid.trsvcid == p.trid.trsvcid)
      return error{errc::already_exists,
                   fmt::format("discovery service {} already uses {}:{}", n, p.trid.traddr, p.trid.trsvcid), EEXIST};
  return success();
}

result<void> discovery_services::start(discovery_service_params p) {
  auto control = registry_.lock_control();
  if (auto r = check_unused(p); !r) return r;
  std::string name = p.name;
  // The service attaches under the control token: given back while it starts (wait_for_attach).
  control.unlock();
  auto s = discovery_service::start(registry_.pool(), registry_, std::move(p));
  if (!s) return s.take_err();
  control = registry_.lock_control();
  if (by_name_.count(name)) {  // started meanwhile by another caller
    s.value()->stop();
    return error{errc::already_exists, fmt::format("discovery service {} already exists", name), EEXIST};
  }
  by_name_.emplace(name, std::move(s.value()));
  return success();
}

result<void> discovery_services::stop(const std::string& name) {
  auto control = registry_.lock_control();
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return error{errc::not_found, fmt::format("discovery service {} not found", name)};
  auto s = std::move(it->second);
  by_name_.erase(it);
  s->stop();  // its request for the control token, if queued, is cancelled
  return success();
}

}  // namespace nvmfd
