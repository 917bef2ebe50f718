#pragma once
// nvmfctl save_config and load_config: SPDK rpc.py's save_config / load_config
// (python/spdk/rpc/config.py) over rpc_client, so their files are interchangeable.
// Both print their own diagnostics to stderr and return the process exit code.
#include <string>
#include <vector>

#include "rpc_client.h"

namespace nvmfd::ctl {

// save_config [-o FILE] [-i INDENT] [-s SUBSYSTEM[,SUBSYSTEM...]]: framework_get_subsystems,
// then framework_get_config for each (with the dependencies of the chosen ones), printed as
// {"subsystems": [{"subsystem": ..., "config": [...]}, ...]} with INDENT (2; < 0: compact).
int save_config_command(rpc_client& client, const std::vector<std::string>& args);

// load_config [-j FILE | -i FILE | FILE | -]: FILE, or '-' and by default stdin; rpc.py's -j
// also takes the JSON text itself. Sections with empty config are dropped; SPDK's tuning
// methods (config/spdk_only_methods.h) that nvmfd lacks are dropped with one warning each; every
// other method must be listed by rpc_get_methods (else all that are not are named, and nothing
// is called); then each call (or batch) in file order. On the first error: the error, and the calls left unapplied.
// (rpc.py's -i is --include-aliases; nvmfd has no aliases, so `-i` alone is accepted and
// `-i FILE` names the file.)
int load_config_command(rpc_client& client, const std::vector<std::string>& args);

// Prints a JSON-RPC error object for `what` to stderr.
void print_rpc_error(const std::string& what, const json& error);

}  // namespace nvmfd::ctl
