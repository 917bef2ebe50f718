#pragma once
// gateway_registry: the gateway groups this nvmfd belongs to, by name
// (nvmf_gateway_group_create). It is the target's ANA manager (nvmf_target::ana_manager):
// an ANA group of a gateway group shows what that group decided on every listener.
//
// Threads: add, remove, stop_all and find on the control thread; the target calls the
// manager under its mutex from any thread (a short lock of our own, never the other way
// round: nothing here calls the target while holding it).
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway/gateway_runner.h"
#include "target/nvmf_target.h"

namespace nvmfd::gateway {

class gateway_registry {
 public:
  explicit gateway_registry(nvmf_target& target);
  ~gateway_registry();  // stop_all(), then the target forgets the manager
  gateway_registry(const gateway_registry&) = delete;
  gateway_registry& operator=(const gateway_registry&) = delete;

  // already_exists for a taken name; invalid_argument when an ANA group is in another group
  // (check() alone tells before a runner is made). Runs the first round before it returns.
  result<void> check(const group_config& g) const;
  result<void> add(std::unique_ptr<gateway_runner> r);
  // not_found; else hands the groups over and leaves.
  result<void> remove(const std::string& name);
  gateway_runner* find(const std::string& name) const;
  std::vector<gateway_runner*> list() const;  // by name
  // Graceful exit of every group (before the target shuts its listeners).
  void stop_all();

 private:
  std::optional<ana_state> state_of(uint32_t g) const;
  // A namespace in one of our ANA groups must not sit on a bdev with a volatile write cache:
  // each gateway's cache is its own, so a flush through one does not cover writes that
  // another acknowledged and lost when it died.
  result<void> admit(uint32_t g, const bdev& dev) const;
  result<void> check_locked(const group_config& g) const;

  nvmf_target& target_;
  mutable std::mutex mu_;  // guards runners_ (the map, not the runners)
  std::map<std::string, std::unique_ptr<gateway_runner>> runners_;
};

}  // namespace nvmfd::gateway
