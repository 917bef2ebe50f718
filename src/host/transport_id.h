#pragma once
// transport_id: where a controller is (SPDK's spdk_nvme_transport_id, nvme-cli's -t -a -s -n).
#include <string>

#include "base/result.h"

namespace nvmfd {

struct transport_id {
  std::string trtype = "tcp";
  std::string adrfam = "ipv4";
  std::string traddr;
  std::string trsvcid = "4420";
  std::string subnqn;

  // Parses SPDK's form "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn...."
  // (keys case-insensitive, '=' accepted for ':'). Fails naming an unknown key or a bad value.
  static result<transport_id> parse(const std::string& text);
  std::string to_string() const;
};

}  // namespace nvmfd
