#include "discovery/centralized_discovery.h"

#include <mutex>

#include "base/log.h"

namespace nvmfd {

namespace {

std::string spdk_address_family(const transport_id& t) { return t.adrfam == "ipv6" ? "IPv6" : "IPv4"; }

// Referral mode: one referral to the discovery controller that reported the subsystems.
std::vector<discovery_referral> referrals_of(const std::vector<discovery_entry>& entries, const transport_id& reporter) {
  if (entries.empty()) return {};
  discovery_referral r;
  r.address.trtype = "TCP";
  r.address.adrfam = spdk_address_family(reporter);
  r.address.traddr = reporter.traddr;
  r.address.trsvcid = reporter.trsvcid;
  return {r};
}

// Direct mode: an entry per subsystem address.
std::vector<discovery_registration> registrations_of(const std::vector<discovery_entry>& entries) {
  std::vector<discovery_registration> out;
  for (const discovery_entry& e : entries) {
    discovery_registration r;
    r.subnqn = e.subnqn;
    r.address.trtype = "TCP";
    r.address.adrfam = spdk_address_family(e.trid());
    r.address.traddr = e.traddr;
    r.address.trsvcid = e.trsvcid;
    out.push_back(std::move(r));
  }
  return out;
}

// Takes every found entry out of the target's log (both modes).
void clear_found(nvmf_target& t) {
  for (auto& r : t.registrations())
    if (r.source != "rpc") t.set_registrations(r.source, {});
  for (auto& src : t.found_referral_sources()) t.set_found_referrals(src, {});
}

}  // namespace

std::string_view cdc_mode_name(cdc_mode m) { return m == cdc_mode::direct ? "direct" : "referral"; }

std::optional<cdc_mode> parse_cdc_mode(std::string_view name) {
  if (name == "direct") return cdc_mode::direct;
  if (name == "referral") return cdc_mode::referral;
  return std::nullopt;
}

struct centralized_discovery::state {
  explicit state(nvmf_target& t) : target(t) {}
  nvmf_target& target;
  mutable std::mutex mu;  // held while the log changes, so reports and mode changes do not interleave
  std::optional<cdc_mode> mode;
};

centralized_discovery::centralized_discovery(nvmf_target& target, nvme_controller_registry& registry)
    : st_(std::make_shared<state>(target)), registry_(registry) {}

void centralized_discovery::enable(cdc_mode mode) {
  {
    std::lock_guard lk(st_->mu);
    st_->mode = mode;
    clear_found(st_->target);  // a mode change starts from what the services report next
  }
  registry_.set_findings_sink([st = st_](const std::string& source, const std::vector<discovery_entry>& entries,
                                         const transport_id& reporter) {
    std::lock_guard lk(st->mu);
    if (!st->mode) return;
    if (*st->mode == cdc_mode::direct)
      st->target.set_registrations(source, registrations_of(entries));
    else
      st->target.set_found_referrals(source, referrals_of(entries, reporter));
  });
  NVMFD_LOG_INFO("CDC mode on ({}): the discovery log lists what discovery services find", cdc_mode_name(mode));
}

void centralized_discovery::disable() {
  {
    std::lock_guard lk(st_->mu);
    st_->mode.reset();
    clear_found(st_->target);
  }
  registry_.set_findings_sink({});
}

std::optional<cdc_mode> centralized_discovery::mode() const {
  std::lock_guard lk(st_->mu);
  return st_->mode;
}

}  // namespace nvmfd
