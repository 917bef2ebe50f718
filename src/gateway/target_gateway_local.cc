#include "gateway/target_gateway_local.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "bdev/rbd/rbd_bdev.h"
#include "target/subsystem.h"

namespace nvmfd::gateway {

namespace {

// The RBD bdevs behind namespaces of NVM subsystems (in ANA group g, or all when g is 0),
// each once. Taken under the target's mutex; used after it is released.
std::vector<std::shared_ptr<rbd_bdev>> rbd_bdevs(nvmf_target& t, uint32_t g) {
  std::vector<std::shared_ptr<rbd_bdev>> out;
  std::lock_guard lk(t.mu());
  for (auto& s : t.subsystems_locked()) {
    if (s->type() != subsystem_kind::nvme) continue;
    for (auto& ns : s->namespaces_snapshot()->slots()) {
      if (!ns || (g != 0 && ns->anagrpid != g)) continue;
      auto r = std::dynamic_pointer_cast<rbd_bdev>(ns->dev);
      if (r && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace

void target_gateway_local::show(uint32_t g, ana_state st) { target_.apply_managed_ana_state(g, st); }

result<void> target_gateway_local::take_over(uint32_t g, bool fenced) {
  std::string failures;
  for (auto& b : rbd_bdevs(target_, g))
    if (auto r = fenced ? b->take_over_lock() : b->drop_cache(); !r)
      failures += fmt::format("{}{}: {}", failures.empty() ? "" : "; ", b->name(), r.err().message);
  if (!failures.empty()) return error{errc::io_error, failures};
  return success();
}

std::vector<std::string> target_gateway_local::client_addresses() {
  std::vector<std::string> out{group_address_};
  for (auto& b : rbd_bdevs(target_, 0)) {
    std::string a = b->cluster().address();
    if (!a.empty() && std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  return out;
}

}  // namespace nvmfd::gateway
