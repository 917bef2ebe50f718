#include "target/discovery_log_page.h"

#include <algorithm>
#include <cstring>

#include "proto/discovery_log.h"
#include "target/nvmf_target.h"

namespace nvmfd {

namespace {

uint8_t adrfam_of(const listen_address& a) {
  return static_cast<uint8_t>(a.adrfam == "IPv6" ? address_family::ipv6 : address_family::ipv4);
}

// TRTYPE and TSAS of an entry for address a: its transport's when the target has one by that
// name (always, for the target's own listeners), else the type its trtype names with TSAS 0
// (another service's port: a referral or a registration made before any transport).
void set_transport_fields(nvmf_target& t, discovery_log_entry& e, const listen_address& a) {
  if (auto* tr = t.find_transport_locked(a.trtype)) return tr->describe(e, a);
  if (auto type = transport_type_named(a.trtype)) e.trtype = static_cast<uint8_t>(*type);
}

// ASQSZ of an entry for address a: its transport's admin queue depth, or the default one.
uint16_t asqsz_of(nvmf_target& t, const listen_address& a) {
  auto* tr = t.find_transport_locked(a.trtype);
  return static_cast<uint16_t>(tr ? tr->limits().max_aq_depth : queue_limits{}.max_aq_depth);
}

// The log shows a registration or referral of subnqn, limited to `hosts` (empty: any), to
// hostnqn: as for the target's own subsystems, a host sees only what it may use. When the
// target serves subnqn itself, that subsystem's allow list applies too.
bool shown_to(nvmf_target& t, const std::string& subnqn, const std::vector<std::string>& hosts,
              const std::string& hostnqn) {
  if (!hosts.empty() && std::find(hosts.begin(), hosts.end(), hostnqn) == hosts.end()) return false;
  auto s = t.find_subsystem_locked(subnqn);
  return !s || s->type() == subsystem_kind::discovery || s->host_allowed(hostnqn);
}

}  // namespace

std::vector<std::byte> build_discovery_log_page(nvmf_target& t, const std::string& hostnqn,
                                               const std::string& local_addr, const std::string& local_svcid) {
  std::vector<discovery_log_entry> entries;
  discovery_log_header hdr{};
  {
    std::lock_guard lk(t.mu());
    const auto& filter = t.discovery_filter_locked();
    for (auto& s : t.subsystems_locked()) {
      if (!s->host_allowed(hostnqn)) continue;
      const bool current = s->type() == subsystem_kind::discovery;
      for (auto& l : s->listeners) {
        if (!filter.admits(l, local_addr, local_svcid)) continue;
        discovery_log_entry e{};
        set_transport_fields(t, e, l);
        e.adrfam = adrfam_of(l);
        e.subtype = static_cast<uint8_t>(current ? subsystem_type::current_discovery : subsystem_type::nvme);
        e.treq = l.secure_channel ? treq_bits::secure_channel_required : treq_bits::secure_channel_not_specified;
        e.portid = t.port_id_locked(l);
        e.cntlid = cntlid_dynamic;
        e.asqsz = asqsz_of(t, l);
        if (current) e.eflags = eflags_bits::duplicate_returned_info | eflags_bits::explicit_persistent_connection;
        bool same_family = (l.adrfam == "IPv6") == (local_addr.find(':') != std::string::npos);
        const std::string& addr = is_wildcard_address(l.traddr) && same_family ? local_addr : l.traddr;
        set_discovery_entry_text(e, s->nqn(), addr, l.trsvcid);
        entries.push_back(e);
      }
    }
    // Registrations (other targets' subsystems, a CDC's view): each (subnqn, address) once,
    // and not when the target serves that subsystem there itself.
    std::vector<const discovery_registration*> listed;
    for (auto& r : t.registrations_locked()) {
      bool dup = std::any_of(listed.begin(), listed.end(), [&](auto* o) { return o->same_entry(r); });
      for (auto& s : t.subsystems_locked())
        if (s->nqn() == r.subnqn)
          for (auto& l : s->listeners) dup |= l.traddr == r.address.traddr && l.trsvcid == r.address.trsvcid;
      if (dup || !shown_to(t, r.subnqn, r.hosts, hostnqn)) continue;
      listed.push_back(&r);
      discovery_log_entry e{};
      set_transport_fields(t, e, r.address);
      e.adrfam = adrfam_of(r.address);
      e.subtype = static_cast<uint8_t>(subsystem_type::nvme);
      e.treq = treq_bits::secure_channel_not_specified;
      e.portid = 0;  // not a port of ours
      e.cntlid = cntlid_dynamic;
      e.asqsz = asqsz_of(t, r.address);
      set_discovery_entry_text(e, r.subnqn, r.address.traddr, r.address.trsvcid);
      entries.push_back(e);
    }
    // Referrals: another service's port, so no port ID of ours (0) and its own TREQ.
    // RPC-made referrals, then those a CDC in referral mode found (each one once).
    std::vector<discovery_referral> all_referrals = t.referrals_locked();
    for (auto& [source, refs] : t.found_referrals_locked())
      for (auto& r : refs)
        if (std::none_of(all_referrals.begin(), all_referrals.end(), [&](auto& o) { return o.same_as(r); }))
          all_referrals.push_back(r);
    for (auto& r : all_referrals) {
      if (!shown_to(t, r.subnqn, r.hosts, hostnqn)) continue;
      discovery_log_entry e{};
      set_transport_fields(t, e, r.address);
      e.adrfam = adrfam_of(r.address);
      e.subtype = static_cast<uint8_t>(is_discovery_nqn(r.subnqn) ? subsystem_type::referral : subsystem_type::nvme);
      // Without secure_channel: "not specified", as Linux nvmet says, not SPDK's "not required"
      // (libnvme 1.3's connect-all asks the kernel for TLS on a "not required" TCP entry, which
      // a kernel without TLS refuses: the referral could not be followed).
      e.treq = r.secure_channel ? treq_bits::secure_channel_required : treq_bits::secure_channel_not_specified;
      e.portid = 0;
      e.cntlid = cntlid_dynamic;
      e.asqsz = asqsz_of(t, r.address);
      set_discovery_entry_text(e, r.subnqn, r.address.traddr, r.address.trsvcid);
      entries.push_back(e);
    }
    hdr.genctr = t.discovery_genctr_locked();
  }
  hdr.numrec = entries.size();
  hdr.recfmt = 0;
  std::vector<std::byte> page(discovery_log_size(entries.size()));
  std::memcpy(page.data(), &hdr, sizeof(hdr));
  if (!entries.empty())
    std::memcpy(page.data() + sizeof(hdr), entries.data(), entries.size() * sizeof(discovery_log_entry));
  return page;
}

}  // namespace nvmfd
