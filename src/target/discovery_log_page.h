#pragma once
// The Discovery log page a host sees (NVMe-oF 1.1 5.3; TP8013/TP8014 for SUBTYPE 3 and
// EFLAGS), built under the target mutex, so it is a consistent snapshot:
//   1. one "current discovery subsystem" entry (SUBTYPE 3) per listener of the discovery
//      subsystem, with EFLAGS DUPRETINFO (every such listener returns this same log) and
//      EPCSD (this controller takes Keep Alive and sends Discovery Log Page Change notices,
//      so a host may keep the connection), as SPDK reports them;
//   2. one entry (SUBTYPE 2) per listener of every NVM subsystem the host may connect to;
//   3. the referrals (SUBTYPE 1 for the discovery NQN, else 2), shown to every host.
// Entries 1 and 2 pass the target's discovery filter first. numrec counts every record
// even when the host reads only part of the page; genctr is the target's.
#include <cstddef>
#include <string>
#include <vector>

namespace nvmfd {

class nvmf_target;

// local_addr, local_svcid: where the host reached the discovery controller (its
// connection's local side). A wildcard listener (0.0.0.0 / ::) is reported with local_addr,
// as Linux nvmet does, so the entry is usable; the filter compares with both.
std::vector<std::byte> build_discovery_log_page(nvmf_target& t, const std::string& hostnqn,
                                               const std::string& local_addr, const std::string& local_svcid);

}  // namespace nvmfd
