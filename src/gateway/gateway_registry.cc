#include "gateway/gateway_registry.h"

#include <algorithm>

#include <fmt/format.h>

#include "target/subsystem.h"

namespace nvmfd::gateway {

gateway_registry::gateway_registry(nvmf_target& target) : target_(target) {
  target_.set_ana_manager(nvmf_target::ana_manager{
      "a gateway group (nvmf_gateway_group_move changes it)",
      [this](const std::string&, uint32_t g) { return state_of(g); },
      [this](const std::string&, uint32_t g, const bdev& dev) { return admit(g, dev); }});
}

gateway_registry::~gateway_registry() {
  stop_all();
  target_.set_ana_manager(std::nullopt);
}

std::optional<ana_state> gateway_registry::state_of(uint32_t g) const {
  std::lock_guard lk(mu_);
  for (auto& [name, r] : runners_)
    if (auto st = r->group().state_of(g)) return st;
  return std::nullopt;
}

result<void> gateway_registry::admit(uint32_t g, const bdev& dev) const {
  if (!state_of(g) || !dev.has_volatile_cache()) return success();
  return error{errc::invalid_argument,
               fmt::format("bdev {} has a volatile write cache (an RBD bdev: librbd's rbd_cache), but ANA group {} "
                           "is in a gateway group: a write acknowledged by one gateway would be lost when it dies, "
                           "even after a flush through another gateway succeeds; turn it off: config_param "
                           "{{\"rbd_cache\": \"false\"}} of bdev_rbd_register_cluster, or "
                           "`rbd image-meta set POOL/IMAGE conf_rbd_cache false`",
                           dev.name(), g)};
}

result<void> gateway_registry::check(const group_config& g) const {
  {
    std::lock_guard lk(mu_);
    if (auto c = check_locked(g); !c) return c;
  }
  // Namespaces already in the groups: the same rule as admit() (the target's mutex only).
  std::lock_guard lk(target_.mu());
  for (auto& s : target_.subsystems_locked())
    for (auto& ns : s->namespaces_snapshot()->slots())
      if (ns && ns->dev->has_volatile_cache() &&
          std::find(g.ana_groups.begin(), g.ana_groups.end(), ns->anagrpid) != g.ana_groups.end())
        return error{errc::invalid_argument,
                     fmt::format("namespace {} of {} (ANA group {}) is on bdev {}, which has a volatile write cache "
                                 "(rbd_cache): not allowed in a gateway group (docs/gateway.md)",
                                 ns->nsid.value, s->nqn(), ns->anagrpid, ns->dev->name())};
  return success();
}

result<void> gateway_registry::check_locked(const group_config& g) const {
  if (runners_.count(g.name)) return error{errc::already_exists, fmt::format("gateway group {} already exists", g.name)};
  for (auto& [other, o] : runners_)
    for (uint32_t id : g.ana_groups)
      if (o->group().covers(id))
        return error{errc::invalid_argument, fmt::format("ANA group {} is already in gateway group {}", id, other)};
  return success();
}

result<void> gateway_registry::add(std::unique_ptr<gateway_runner> r) {
  gateway_runner* added = r.get();
  {
    std::lock_guard lk(mu_);
    if (auto c = check_locked(r->params().group); !c) return c;
    runners_.emplace(r->params().group.name, std::move(r));
  }
  added->begin();
  return success();
}

result<void> gateway_registry::remove(const std::string& name) {
  gateway_runner* r = find(name);
  if (!r) return error{errc::not_found, fmt::format("gateway group {} not found", name)};
  r->stop();  // hands over; its groups show inaccessible until it is erased (control thread only)
  std::unique_ptr<gateway_runner> gone;
  {
    std::lock_guard lk(mu_);
    auto it = runners_.find(name);
    gone = std::move(it->second);
    runners_.erase(it);
  }
  return success();
}

gateway_runner* gateway_registry::find(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto it = runners_.find(name);
  return it == runners_.end() ? nullptr : it->second.get();
}

std::vector<gateway_runner*> gateway_registry::list() const {
  std::lock_guard lk(mu_);
  std::vector<gateway_runner*> out;
  for (auto& [name, r] : runners_) out.push_back(r.get());
  return out;
}

void gateway_registry::stop_all() {
  for (auto* r : list()) r->stop();
}

}  // namespace nvmfd::gateway
