#pragma once
// The Discovery log page a host sees (NVMe-oF 1.1 5.3): one entry per listener of every
// NVM subsystem the host may connect to, with the target's generation counter. Built under
// the target mutex, so it is a consistent snapshot; numrec counts every record even when
// the host reads only part of the page.
#include <cstddef>
#include <string>
#include <vector>

namespace nvmfd {

class nvmf_target;

// local_addr: the address the host reached the discovery controller on; a wildcard listener
// (0.0.0.0 / ::) is reported with it, as Linux nvmet does, so the entry is usable.
std::vector<std::byte> build_discovery_log_page(nvmf_target& t, const std::string& hostnqn,
                                               const std::string& local_addr);

}  // namespace nvmfd
