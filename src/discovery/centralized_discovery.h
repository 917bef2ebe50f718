#pragma once
// centralized_discovery: nvmfd's Centralized Discovery Controller mode (issue 5). While on,
// this target's discovery log also lists what the host side's discovery services find, kept
// current as they see changes:
//  - direct: an NVM entry per discovered subsystem address, pointing at the real target
//    (nvmf_target::set_registrations, one source per discovery service, merged there with
//    explicit registrations);
//  - referral: instead, one referral (SUBTYPE 1) per discovery controller that reported
//    something, so hosts ask that controller themselves.
// Each change of the log is one new generation and one Discovery Log Change notice to
// connected hosts (the target's doing).
//
// It is the registry's findings sink (nvme_controller_registry::set_findings_sink): the
// services report on their own threads, and the sink then takes nvmf_target's lock.
// Threading: enable/disable/state from the control thread (RPC handlers, config load); the
// sink from any thread. A report racing with disable lands before the clearing or not at all.
// Lifetime: the target must outlive the registry's discovery services; the sink shares this
// object's state, so destroying it early leaves the sink harmless, not dangling.
#include <memory>
#include <optional>
#include <string_view>

#include "host/nvme_controller_registry.h"
#include "target/nvmf_target.h"

namespace nvmfd {

enum class cdc_mode { direct, referral };

std::string_view cdc_mode_name(cdc_mode m);                   // "direct", "referral"
std::optional<cdc_mode> parse_cdc_mode(std::string_view name);

class centralized_discovery {
 public:
  centralized_discovery(nvmf_target& target, nvme_controller_registry& registry);
  centralized_discovery(const centralized_discovery&) = delete;
  centralized_discovery& operator=(const centralized_discovery&) = delete;

  // Turns the mode on (or switches it): found entries of the other mode leave the log, and
  // every view the services hold so far comes in at once.
  void enable(cdc_mode mode);
  // Turns it off: every found entry leaves the log (explicit registrations stay).
  void disable();
  // The mode while on (for the saved config), nullopt while off.
  std::optional<cdc_mode> mode() const;

 private:
  struct state;
  std::shared_ptr<state> st_;
  nvme_controller_registry& registry_;
};

}  // namespace nvmfd
