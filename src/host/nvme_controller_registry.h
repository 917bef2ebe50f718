#pragma once
// nvme_controller_registry: the remote NVMe-oF controllers this process has attached (SPDK's
// bdev_nvme controllers), by name, each with the nvme_bdevs ("<name>n<nsid>") made from its
// namespaces. attach() connects and publishes the bdevs in a bdev_registry; detach() removes
// them and disconnects.
//
// Threading: control thread only (RPC handlers, config loading). attach() blocks while it
// connects (up to the connect timeout per step); nothing here runs on a reactor.
// Lifetime: the registry must be destroyed before its reactor_pool stops (host_controller
// tears its queues down on their reactors); its destructor disconnects every controller.
// Every controller has one path for now: multipath and reconnect are later issues (the
// reconnect parameters are kept, reported and saved, and not acted on yet).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "bdev/bdev_registry.h"
#include "host/host_controller.h"
#include "host/nvme_bdev.h"
#include "host/transport_id.h"
#include "reactor/reactor.h"

namespace nvmfd {

// What bdev_nvme_attach_controller asked for, kept to report and to save the config.
struct nvme_attach_request {
  std::string name;
  transport_id trid;            // trtype "tcp", adrfam "ipv4"/"ipv6" (lower case)
  controller_options opts;      // what host_controller::connect gets
  std::string multipath;        // "", "disable", "failover" or "multipath"
  uint32_t num_io_queues = 0;   // as given; 0: not given (one per reactor)
  uint64_t fabrics_connect_timeout_us = 0;  // as given; 0: not given
  uint32_t max_bdevs = 128;     // more active namespaces than this: the attach fails (-ERANGE)
  bool prchk_reftag = false;    // accepted and saved; without protection information, no effect
  bool prchk_guard = false;
  // Reconnect policy (SPDK's meaning), validated and saved; reconnecting is a later issue:
  // today a failed controller stays failed and its bdevs fail I/O with -EIO.
  int32_t ctrlr_loss_timeout_sec = 0;
  uint32_t reconnect_delay_sec = 0;
  uint32_t fast_io_fail_timeout_sec = 0;
};

// Optional fields of bdev_nvme_detach_controller: each one given must match the path.
struct nvme_path_filter {
  std::optional<std::string> trtype, adrfam, traddr, trsvcid, subnqn, hostaddr, hostsvcid;
};

struct nvme_controller_entry {
  nvme_attach_request request;
  std::shared_ptr<host_controller> ctrl;
  std::vector<std::shared_ptr<nvme_bdev>> bdevs;  // by NSID
};

class nvme_controller_registry {
 public:
  nvme_controller_registry(reactor_pool& pool, bdev_registry& bdevs);
  ~nvme_controller_registry();
  nvme_controller_registry(const nvme_controller_registry&) = delete;
  nvme_controller_registry& operator=(const nvme_controller_registry&) = delete;

  reactor_pool& pool() { return pool_; }

  // Connects, then creates and registers one nvme_bdev per active namespace; returns their
  // names in NSID order. Nothing is left behind on failure. Errors:
  //  - already_exists (EALREADY): the name is taken (multipath absent or "disable"), or the
  //    same network path is attached under that name already;
  //  - not_supported (EOPNOTSUPP): the name is taken and multipath/failover asks for a
  //    second path (a later issue);
  //  - the connect's error, its message prefixed with the name and address (invalid_argument
  //    for an unknown subsystem or a host the subsystem refuses, timed_out, io_error with
  //    the socket's errno, ...);
  //  - invalid_argument: the controller granted fewer I/O queues than there are reactors;
  //  - io_error (ERANGE): more namespaces than max_bdevs;
  //  - already_exists (EEXIST): a bdev "<name>n<nsid>" exists already.
  result<std::vector<std::string>> attach(nvme_attach_request req);

  // Removes the controller's bdevs from the bdev registry and disconnects it. Errors:
  // not_found (no such controller, or a given filter field does not match its path);
  // busy (EBUSY) naming the first claimed bdev and its user; nothing is changed then.
  result<void> detach(const std::string& name, const nvme_path_filter& filter = {});

  const nvme_controller_entry* find(const std::string& name) const;
  // In attach order.
  std::vector<const nvme_controller_entry*> list() const;

 private:
  reactor_pool& pool_;
  bdev_registry& bdevs_;
  std::vector<std::unique_ptr<nvme_controller_entry>> entries_;
};

// "TCP", "IPv4"/"IPv6": SPDK's spellings in RPC results and saved configs.
std::string spdk_trtype(const transport_id& t);
std::string spdk_adrfam(const transport_id& t);

}  // namespace nvmfd
