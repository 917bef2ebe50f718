#pragma once
// discovery_registration: an NVM subsystem of another target that this target's discovery
// log lists, so that a Centralized Discovery Controller shows subsystems it does not serve
// (issue 5; nvmfd's nvmf_discovery_register). Each has a source: "rpc" for an explicit
// registration, "discovery:NAME" / "mdns:NAME" for what a discovery service found. The log
// lists each (subnqn, address) once, whatever the number of sources, and not at all when
// the target serves that subsystem there itself.
#include <string>
#include <vector>

#include "target/subsystem.h"

namespace nvmfd {

struct discovery_registration {
  std::string subnqn;
  listen_address address;  // trtype TCP, adrfam, traddr, trsvcid
  std::string source = "rpc";
  // The hosts (host NQNs) whose discovery log shows it; empty: every host. A registration of a
  // subsystem this target also serves is shown only to hosts that subsystem allows.
  std::vector<std::string> hosts;

  bool same_entry(const discovery_registration& o) const {
    return subnqn == o.subnqn && address.traddr == o.address.traddr && address.trsvcid == o.address.trsvcid;
  }
  bool operator==(const discovery_registration& o) const { return same_entry(o) && source == o.source; }
};

}  // namespace nvmfd
