#include "config/spdk_only_methods.h"

#include <algorithm>
#include <array>

namespace nvmfd {

namespace {

constexpr std::array methods{
    spdk_only_method{"accel_assign_opc", "assigns an SPDK accel engine to an operation; nvmfd computes CRC32C inline (ISA-L)"},
    spdk_only_method{"accel_set_options", "SPDK accel framework pools; nvmfd has no accel framework"},
    spdk_only_method{"bdev_nvme_set_hotplug", "PCIe hotplug polling; nvmfd attaches NVMe/TCP controllers only"},
    spdk_only_method{"bdev_raid_set_options", "SPDK RAID rebuild window and bandwidth; nvmfd has no RAID bdev"},
    spdk_only_method{"bdev_set_options", "SPDK bdev layer I/O pools and caches; nvmfd's bdevs allocate per request"},
    spdk_only_method{"framework_set_scheduler", "SPDK thread scheduler; nvmfd's reactors poll as --poll-mode says"},
    spdk_only_method{"iobuf_set_options", "SPDK shared data buffer pools; nvmfd sizes buffers per connection"},
    spdk_only_method{"keyring_linux_set_options", "SPDK's Linux keyring module; nvmfd reads keys with keyring_file_add_key"},
    spdk_only_method{"log_set_flag", "SPDK log components; nvmfd logs at the level of -L"},
    spdk_only_method{"log_set_level", "SPDK log level; nvmfd logs at the level of -L"},
    spdk_only_method{"log_set_print_level", "SPDK log level printed to stderr; nvmfd logs at the level of -L"},
    spdk_only_method{"nvmf_set_crdt", "command retry delay times; nvmfd reports none (hosts retry at once)"},
    spdk_only_method{"nvmf_set_max_subsystems", "size of SPDK's subsystem array; nvmfd's has no fixed size"},
    spdk_only_method{"scheduler_set_options", "SPDK thread scheduler; nvmfd's reactors poll as --poll-mode says"},
    spdk_only_method{"sock_impl_set_options", "SPDK socket layer buffers and options; nvmfd sets its own"},
    spdk_only_method{"sock_set_default_impl", "SPDK socket implementation; nvmfd's is chosen by --io-backend"},
};

static_assert(std::is_sorted(methods.begin(), methods.end(),
                             [](const auto& a, const auto& b) { return a.name < b.name; }));

}  // namespace

std::span<const spdk_only_method> spdk_only_methods() { return methods; }

const spdk_only_method* find_spdk_only_method(std::string_view name) {
  auto it = std::lower_bound(methods.begin(), methods.end(), name,
                             [](const spdk_only_method& m, std::string_view n) { return m.name < n; });
  return it != methods.end() && it->name == name ? &*it : nullptr;
}

}  // namespace nvmfd
