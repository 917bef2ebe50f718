#pragma once
// The Keep Alive Timeout a controller runs with, for the one its host asked for (Connect
// KATO, or Set Features Keep Alive Timer), so that no host can hold a controller forever
// by never speaking:
//  - a discovery controller keeps the host's KATO, and 0 (a one-shot `nvme discover`, which
//    asks for no keep-alive) becomes 120 s, as Linux nvmet and SPDK do;
//  - an I/O controller gets at least the transport's min_kato (SPDK's rule), 0 included:
//    Linux nvmet runs such a controller without keep-alive, nvmfd does not (docs/security.md).
//    Set Features with KATO 0 on an I/O controller is refused (Keep Alive Timeout Invalid,
//    as SPDK answers) rather than raised.
#include <algorithm>
#include <cstdint>

namespace nvmfd {

inline constexpr uint32_t discovery_default_kato_ms = 120000;

inline uint32_t granted_kato(bool discovery, uint32_t requested_ms, uint32_t min_kato_ms) {
  if (discovery) return requested_ms ? requested_ms : discovery_default_kato_ms;
  return std::max(requested_ms, min_kato_ms);
}

}  // namespace nvmfd
