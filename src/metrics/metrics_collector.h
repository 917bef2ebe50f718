#pragma once
// metrics_collector: renders nvmfd's Prometheus page (docs/metrics.md lists every family).
// It asks the RPC methods in-process (bdev_get_iostat, framework_get_reactors,
// nvmf_get_subsystems, nvmf_subsystem_get_listeners / _get_controllers, bdev_nvme_get_io_paths,
// bdev_nvme_get_path_iostat, bdev_lvol_get_lvstores), so the page and the RPCs never disagree,
// and reads what no RPC reports directly: the bdevs' latency histograms and the discovery
// log's generation. A method the table lacks, or one that fails, leaves its families out.
//
// Threading: render() runs where RPC handlers run (the RPC thread), one call at a time.
#include <cstdint>
#include <map>
#include <string>

#include "bdev/bdev_registry.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd::metrics {

class metrics_collector {
 public:
  // All three outlive the collector.
  metrics_collector(const rpc_method_table& methods, bdev_registry& bdevs, nvmf_target& target)
      : methods_(methods), bdevs_(bdevs), target_(target) {}

  std::string render();

 private:
  struct reactor_sample {
    uint64_t busy = 0, idle = 0;
  };
  const rpc_method_table& methods_;
  bdev_registry& bdevs_;
  nvmf_target& target_;
  // framework_get_reactors at the previous render: the busy ratio is over the time between.
  std::map<int64_t, reactor_sample> last_reactors_;
};

}  // namespace nvmfd::metrics
