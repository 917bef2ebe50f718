#include "rpc/cdc_rpc.h"

#include <memory>
#include <mutex>

#include "base/log.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

struct cdc_state {
  std::mutex mu;
  bool enabled = false;
  std::string mode;  // "direct" or "referral"
};

// Referral mode: one referral to the discovery controller that reported the subsystems.
std::vector<discovery_referral> referrals_of(const std::vector<discovery_entry>& entries, const transport_id& reporter) {
  if (entries.empty()) return {};
  discovery_referral r;
  r.address.trtype = "TCP";
  r.address.adrfam = reporter.adrfam == "ipv6" ? "IPv6" : "IPv4";
  r.address.traddr = reporter.traddr;
  r.address.trsvcid = reporter.trsvcid;
  return {r};
}

// Takes every found entry out of the target's log (both modes).
void clear_found(nvmf_target& t) {
  for (auto& r : t.registrations())
    if (r.source != "rpc") t.set_registrations(r.source, {});
  for (auto& src : t.found_referral_sources()) t.set_found_referrals(src, {});
}

std::vector<discovery_registration> registrations_of(const std::vector<discovery_entry>& entries) {
  std::vector<discovery_registration> out;
  for (const discovery_entry& e : entries) {
    discovery_registration r;
    r.subnqn = e.subnqn;
    transport_id t = e.trid();
    r.address.trtype = "TCP";
    r.address.adrfam = t.adrfam == "ipv6" ? "IPv6" : "IPv4";
    r.address.traddr = e.traddr;
    r.address.trsvcid = e.trsvcid;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

void add_cdc_methods(rpc_method_table& m, nvmf_target& t, nvme_controller_registry& controllers) {
  auto st = std::make_shared<cdc_state>();
  m.add("nvmf_discovery_enable_cdc", [st, &t, &controllers](const json& params) -> result<json> {
    param_reader p(params);
    auto mode = p.required_enum("mode", {"direct", "referral"});
    if (!p.ok()) return p.finish().take_err();
    if (auto f = p.finish(); !f) return f.take_err();
    {
      std::lock_guard lk(st->mu);
      st->enabled = true;
      st->mode = mode;
      clear_found(t);  // a mode change starts from what the services report next
    }
    controllers.set_findings_sink([st, &t](const std::string& owner, const std::vector<discovery_entry>& entries,
                                           const transport_id& reporter) {
      // Under st->mu: a report racing with disable lands before the clearing or not at all.
      std::lock_guard lk(st->mu);
      if (!st->enabled) return;
      if (st->mode == "direct")
        t.set_registrations(owner, registrations_of(entries));
      else
        t.set_found_referrals(owner, referrals_of(entries, reporter));
    });
    NVMFD_LOG_INFO("CDC mode on ({}): the discovery log lists what discovery services find", mode);
    return json(true);
  });
  m.add("nvmf_discovery_disable_cdc", [st, &t, &controllers](const json& params) -> result<json> {
    param_reader p(params);
    if (auto f = p.finish(); !f) return f.take_err();
    {
      std::lock_guard lk(st->mu);
      st->enabled = false;
      clear_found(t);
    }
    controllers.set_findings_sink({});
    return json(true);
  });
  m.add_config_section({"nvmf_cdc", {"nvmf"}, [st] {
                          std::lock_guard lk(st->mu);
                          json calls = json::array();
                          if (st->enabled)
                            calls.push_back({{"method", "nvmf_discovery_enable_cdc"}, {"params", {{"mode", st->mode}}}});
                          return calls;
                        }});
}

}  // namespace nvmfd
