#pragma once
// nvmfctl disconnect: removes connections that nvmfd's host side made, by subsystem and owner
// (the bdev_nvme_disconnect method). Never a host-wide "disconnect all" by accident:
//   nvmfctl [-s SOCKET] disconnect -n NQN [-a ADDR] [-p PORT] [--owner NAME] [--force]
//   nvmfctl [-s SOCKET] disconnect --all --force [--owner NAME]
// Without --owner only what bdev_nvme_attach_controller made (owner "rpc") goes; --owner
// names a discovery service ("discovery:NAME") or an mDNS one ("mdns:NAME"); --force without
// --owner takes every owner's connections.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace nvmfd::ctl {

// The params of bdev_nvme_disconnect for the arguments after "disconnect"; invalid_argument
// naming the problem (unknown option, missing value, --all without --force, no -n nor --all).
result<nlohmann::json> disconnect_params(const std::vector<std::string>& args);

}  // namespace nvmfd::ctl
