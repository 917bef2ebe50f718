#pragma once
// target_gateway_local: gateway_local (gateway_group.h) on this nvmfd's target and its RBD
// bdevs: an ANA group's state goes to every listener of every NVM subsystem
// (nvmf_target::apply_managed_ana_state), taking a group over takes over the images of the
// namespaces in it (rbd_bdev::take_over_lock), and the client addresses are the group's own
// connection's plus those of every RBD bdev's connection that a namespace uses.
//
// Threads: the group's thread (blocking calls into librbd).
#include <string>

#include "gateway/gateway_group.h"
#include "target/nvmf_target.h"

namespace nvmfd::gateway {

class target_gateway_local final : public gateway_local {
 public:
  target_gateway_local(nvmf_target& target, std::string group_address)
      : target_(target), group_address_(std::move(group_address)) {}

  void show(uint32_t g, ana_state st) override;
  result<void> take_over(uint32_t g, bool fenced) override;
  std::vector<std::string> client_addresses() override;

 private:
  nvmf_target& target_;
  std::string group_address_;
};

}  // namespace nvmfd::gateway
