#include "target/discovery_log_page.h"

#include <cstring>

#include "proto/discovery_log.h"
#include "target/nvmf_target.h"

namespace nvmfd {

std::vector<std::byte> build_discovery_log_page(nvmf_target& t, const std::string& hostnqn,
                                               const std::string& local_addr) {
  std::vector<discovery_log_entry> entries;
  discovery_log_header hdr{};
  {
    std::lock_guard lk(t.mu());
    uint16_t asqsz = static_cast<uint16_t>(t.options_locked().max_aq_depth);
    for (auto& s : t.subsystems_locked()) {
      if (s->type() != subsystem_kind::nvme || !s->host_allowed(hostnqn)) continue;
      for (auto& l : s->listeners) {
        discovery_log_entry e{};
        e.trtype = static_cast<uint8_t>(transport_type::tcp);
        e.adrfam = static_cast<uint8_t>(l.adrfam == "IPv6" ? address_family::ipv6 : address_family::ipv4);
        e.subtype = static_cast<uint8_t>(subsystem_type::nvme);
        e.treq = treq_bits::secure_channel_not_specified;
        e.portid = t.port_id_locked(l);
        e.cntlid = cntlid_dynamic;
        e.asqsz = asqsz;
        bool same_family = (l.adrfam == "IPv6") == (local_addr.find(':') != std::string::npos);
        const std::string& addr = is_wildcard_address(l.traddr) && same_family ? local_addr : l.traddr;
        set_discovery_entry_text(e, s->nqn(), addr, l.trsvcid);
        e.tsas[0] = static_cast<uint8_t>(tcp_sectype::none);
        entries.push_back(e);
      }
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
