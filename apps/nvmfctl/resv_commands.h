#pragma once
// nvmfctl resv-register | resv-acquire | resv-release | resv-report: NVMe reservations on
// one of nvmfd's nvme bdevs (bdev_nvme_resv_*), in nvme-cli's shape with the bdev in place
// of the device:
//   nvmfctl [-s SOCKET] resv-register BDEV [-n NSID] [-c CRKEY] [-k NRKEY] [-r RREGA] [-p CPTPL] [-i]
//   nvmfctl [-s SOCKET] resv-acquire  BDEV [-n NSID] [-c CRKEY] [-p PRKEY] -t RTYPE [-a RACQA] [-i]
//   nvmfctl [-s SOCKET] resv-release  BDEV [-n NSID] [-c CRKEY] [-t RTYPE] [-a RRELA] [-i]
//   nvmfctl [-s SOCKET] resv-report   BDEV [-n NSID] [-e | --no-eds] [-o normal|json]
// Long forms as nvme-cli (--crkey, --nrkey, --prkey, --rrega, --cptpl, --rtype, --racqa,
// --rrela, --iekey, --namespace-id, --eds, --output-format), also --name=value. Numbers are
// decimal or 0x hex. -n, when given, must be the bdev's NSID. resv-report reads the extended
// data structure (128-bit host IDs, what NVMe over Fabrics hosts have) unless --no-eds.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace nvmfd::ctl {

struct resv_request {
  std::string method;      // bdev_nvme_resv_*
  nlohmann::json params;
  bool normal_output = false;  // resv-report -o normal
};

bool is_resv_command(const std::string& command);
// invalid_argument naming the problem (unknown option, missing or bad value, no BDEV).
result<resv_request> resv_params(const std::string& command, const std::vector<std::string>& args);
// nvme-cli's "normal" text of a resv-report result.
std::string resv_report_text(const nlohmann::json& report);

}  // namespace nvmfd::ctl
