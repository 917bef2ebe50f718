#pragma once
// nvmfctl migrate-config IN OUT: turns a configuration written by SPDK's save_config into one
// nvmfd loads without warnings, and reports what it kept, ignored and refused.
//   kept     calls to methods the running nvmfd has (its rpc_get_methods)
//   ignored  calls to SPDK's tuning methods (config/spdk_only_methods.h), each with its reason
//   refused  calls to any other method (its meaning is not nvmfd's: bdev_raid_create, ...), and
//            nvmf_subsystem_add_ns of a bdev that no kept call creates (an SPDK lvol, found by
//            examining SPDK's blobstore, which nvmfd cannot read; a bdev of a refused method)
// OUT holds the kept calls, in IN's sections and order (sections left empty are dropped).
#include <set>
#include <string>
#include <vector>

#include "rpc_client.h"

namespace nvmfd::ctl {

struct config_migration {
  json out;                               // {"subsystems": [...]} of the kept calls
  std::vector<std::string> kept;          // "section: method", one per call
  std::vector<std::string> ignored;       // "method (N calls): reason", one per method
  std::vector<std::string> refused;       // "section: method ...: why", one per call
};

// invalid_argument when `in` has no "subsystems" array or a call has no "method" string.
result<config_migration> migrate_spdk_config(const json& in, const std::set<std::string>& nvmfd_methods);

// The report printed by migrate-config: the three lists, each with its count.
std::string migration_report(const config_migration& m);

// migrate-config IN OUT ('-' as IN: stdin). Asks the nvmfd on the client's socket for its
// methods, writes OUT (indent 2), prints the report to stdout. Exit status 0 when nothing was
// refused; 1 when something was (OUT is still written, without the refused calls) or on error.
int migrate_config_command(rpc_client& client, const std::vector<std::string>& args);

}  // namespace nvmfd::ctl
