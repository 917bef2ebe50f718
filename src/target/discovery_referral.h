#pragma once
// discovery_referral: a discovery log entry that sends the host to another discovery
// service, or to an NVM subsystem elsewhere (SPDK's nvmf_discovery_add_referral; NVMe-oF
// 1.1 5.3, "Discovery subsystem" entries). The target keeps them under its mutex.
#include <string>
#include <vector>

#include "proto/nqn.h"
#include "target/subsystem.h"

namespace nvmfd {

struct discovery_referral {
  // Where the other service listens: trtype TCP, adrfam, traddr, trsvcid (ANA fields unused).
  listen_address address;
  // The NQN the entry names: the well-known discovery NQN unless given. As in SPDK, an
  // entry naming the discovery NQN is SUBTYPE 1 (referral), any other is SUBTYPE 2.
  std::string subnqn{discovery_nqn};
  // TREQ: secure channel required (true) or not required (false).
  bool secure_channel = false;
  // The hosts (host NQNs) whose discovery log shows it; empty: every host. A referral naming
  // an NVM subsystem this target serves is shown only to hosts that subsystem allows.
  std::vector<std::string> hosts;

  // The key SPDK finds a referral by: address, service and NQN.
  bool same_as(const discovery_referral& o) const {
    return address.traddr == o.address.traddr && address.trsvcid == o.address.trsvcid && subnqn == o.subnqn;
  }
};

}  // namespace nvmfd
