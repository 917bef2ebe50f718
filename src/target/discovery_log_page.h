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

std::vector<std::byte> build_discovery_log_page(nvmf_target& t, const std::string& hostnqn);

}  // namespace nvmfd
