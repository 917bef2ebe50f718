// nvmf_target's DH-HMAC-CHAP configuration (nvmf_target.h): host keys, policy, resolver.
#include <fmt/format.h>

#include "target/nvmf_target.h"

namespace nvmfd {

namespace {

result<auth::dhchap_key> resolve(const dhchap_key_resolver& r, const std::string& name) {
  if (!r) return error{errc::not_found, fmt::format("key {}: no keyring to find it in", name)};
  return r(name);
}

}  // namespace

result<void> nvmf_target::set_host_keys(const std::string& nqn, const std::string& hostnqn,
                                        const host_dhchap_keys& keys) {
  if (keys.key.empty() && !keys.ctrlr_key.empty())
    return error{errc::invalid_argument, "a controller key (dhchap_ctrlr_key) needs a host key (dhchap_key)"};
  dhchap_key_resolver r;
  {
    std::lock_guard lk(mu_);
    r = dhchap_resolver_;
  }
  for (const std::string* name : {&keys.key, &keys.ctrlr_key}) {
    if (name->empty()) continue;
    auto k = resolve(r, *name);
    if (!k) return error{k.err().code, fmt::format("key {}: {}", *name, k.err().message)};
  }
  std::lock_guard lk(mu_);
  auto s = find_locked(nqn);
  if (!s) return error{errc::not_found, fmt::format("subsystem {} does not exist", nqn)};
  if (!s->hosts.count(hostnqn))
    return error{errc::not_found, fmt::format("host {} is not on the allow list of {}", hostnqn, nqn)};
  if (keys.empty()) {
    s->host_keys.erase(hostnqn);
  } else {
    s->host_keys[hostnqn] = keys;
  }
  return success();
}

void nvmf_target::set_dhchap_policy(const dhchap_policy& p) {
  std::lock_guard lk(mu_);
  dhchap_policy_ = p;
}

dhchap_policy nvmf_target::current_dhchap_policy() const {
  std::lock_guard lk(mu_);
  return dhchap_policy_;
}

void nvmf_target::set_dhchap_key_resolver(dhchap_key_resolver r) {
  std::lock_guard lk(mu_);
  dhchap_resolver_ = std::move(r);
}

result<std::optional<auth::controller_auth_config>> nvmf_target::dhchap_config_for(const subsystem& s,
                                                                                   const std::string& hostnqn) const {
  host_dhchap_keys names;
  dhchap_policy policy;
  dhchap_key_resolver r;
  {
    std::lock_guard lk(mu_);
    auto it = s.host_keys.find(hostnqn);
    if (it == s.host_keys.end() || it->second.key.empty()) return std::optional<auth::controller_auth_config>{};
    names = it->second;
    policy = dhchap_policy_;
    r = dhchap_resolver_;
  }
  auth::controller_auth_config cfg{hostnqn, s.nqn(), {}, std::nullopt, policy.digests, policy.dhgroups};
  auto k = resolve(r, names.key);
  if (!k) return error{k.err().code, fmt::format("host key {}: {}", names.key, k.err().message)};
  cfg.host_key = std::move(*k);
  if (!names.ctrlr_key.empty()) {
    auto c = resolve(r, names.ctrlr_key);
    if (!c) return error{c.err().code, fmt::format("controller key {}: {}", names.ctrlr_key, c.err().message)};
    cfg.ctrl_key = std::move(*c);
  }
  return std::optional<auth::controller_auth_config>{std::move(cfg)};
}

}  // namespace nvmfd
