#pragma once
// Builds Discovery Log Page byte images for the host-side discovery tests.
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "proto/discovery_log.h"

namespace nvmfd::test {

struct entry_spec {
  uint8_t trtype = static_cast<uint8_t>(transport_type::tcp);
  uint8_t adrfam = static_cast<uint8_t>(address_family::ipv4);
  uint8_t subtype = static_cast<uint8_t>(subsystem_type::nvme);
  uint8_t treq = 0;
  uint16_t portid = 1;
  uint16_t cntlid = cntlid_dynamic;
  uint16_t asqsz = 32;
  uint16_t eflags = 0;
  std::string traddr = "127.0.0.1";
  std::string trsvcid = "4420";
  std::string subnqn = "nqn.2016-06.io.nvmfd:cnode1";
  uint8_t sectype = 0;
  char pad = '\0';  // Linux nvmet NUL pads TRADDR/TRSVCID, SPDK space pads them
};

inline discovery_log_entry make_entry(const entry_spec& s) {
  discovery_log_entry e{};
  e.trtype = s.trtype;
  e.adrfam = s.adrfam;
  e.subtype = s.subtype;
  e.treq = s.treq;
  e.portid = s.portid;
  e.cntlid = s.cntlid;
  e.asqsz = s.asqsz;
  e.eflags = s.eflags;
  set_discovery_entry_text(e, s.subnqn, s.traddr, s.trsvcid, s.pad);
  e.tsas[0] = s.sectype;
  return e;
}

inline std::vector<std::byte> make_log(uint64_t genctr, const std::vector<entry_spec>& entries,
                                       std::optional<uint64_t> numrec_override = std::nullopt) {
  std::vector<std::byte> page(discovery_log_size(entries.size()));
  discovery_log_header h{};
  h.genctr = genctr;
  h.numrec = numrec_override.value_or(entries.size());
  h.recfmt = 0;
  std::memcpy(page.data(), &h, sizeof(h));
  for (size_t i = 0; i < entries.size(); ++i) {
    auto e = make_entry(entries[i]);
    std::memcpy(page.data() + discovery_entry_offset(i), &e, sizeof(e));
  }
  return page;
}

}  // namespace nvmfd::test
