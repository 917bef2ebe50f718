#pragma once
// SPDK configuration methods that only tune SPDK's own internals: buffer pools, socket
// options, the accel framework, the bdev layer's pools, PCIe hotplug polling, the subsystem
// array size, the thread scheduler, logging. nvmfd has nothing they would set, so a config
// written by SPDK's save_config loads with one warning per such method (rpc/config_loader)
// and `nvmfctl migrate-config` reports them as ignored. docs/spdk-migration.md lists them.
//
// Only methods nvmfd does not implement belong here: a method nvmfd has (bdev_nvme_set_options,
// nvmf_set_config, ...) always runs. A method that is neither here nor nvmfd's (bdev_raid_create,
// vmd_enable, nbd_start_disk, ...) has a meaning nvmfd lacks, and a config calling it is refused.
// No state; any thread.
#include <span>
#include <string_view>

namespace nvmfd {

struct spdk_only_method {
  std::string_view name;    // "iobuf_set_options"
  std::string_view reason;  // why ignoring it changes nothing nvmfd does (one line)
};

// All of them, sorted by name.
std::span<const spdk_only_method> spdk_only_methods();

// The entry for `name`, or nullptr when it is not one of them.
const spdk_only_method* find_spdk_only_method(std::string_view name);

}  // namespace nvmfd
