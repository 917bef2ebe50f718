#pragma once
// Saved configuration in SPDK's format (what rpc.py save_config writes and load_config or
// `nvmf_tgt --json` read):
//   {"subsystems": [{"subsystem": "bdev", "config": [{"method": "...", "params": {...}}, ...]},
//                   ...]}
// A "config" element may also be an array of calls (SPDK's batches); it is flattened.
// All functions run on the control thread: they call handlers of the table directly.
#include <set>
#include <string>
#include <vector>

#include "rpc/rpc_method_table.h"

namespace nvmfd {

// The table's config sections, each after the sections in its depends_on (names not in the
// table are ignored), otherwise in registration order. A dependency cycle (a bug) is broken
// by registration order.
std::vector<const config_section*> ordered_config_sections(const rpc_method_table& methods);

struct load_config_options {
  // SPDK's configs call methods that only tune SPDK's internals ("iobuf_set_options",
  // "sock_impl_set_options", "bdev_set_options", ...: config/spdk_only_methods.h). true: such a
  // call, to a method the table does not have, is skipped, with one warning per method
  // naming its reason. false: it is refused like any method the table does not have.
  bool accept_spdk_only_methods = true;
  // Methods whose failure is logged as a warning and loading goes on: services that depend on
  // something outside nvmfd (nvmfd itself: nvmf_publish_mdns_prr without an avahi-daemon, so
  // that a saved config with mDNS still starts the daemon, which runs on without mDNS).
  std::set<std::string> warn_only_methods;
};

// Applies a saved configuration through the table's handlers.
// - Shape errors (no "subsystems" array, a section without a name, a call without a
//   "method" string or with non-object params): errc::invalid_argument naming the place.
// - Sections whose config is empty or null are skipped whatever their name.
// - Before any call runs, every method must be in the table or (see accept_spdk_only_methods)
//   one of SPDK's tuning methods; otherwise errc::not_supported with a message that names
//   every such method (once, in file order, with its section), and nothing is applied.
// - Order: sections the table does not know first (in file order: they are SPDK's lower
//   layers), then the known ones in ordered_config_sections() order; calls in file order.
// - The first failing call stops loading: its error code is kept and the message names the
//   method, its params and the handler's message. Calls before it stay applied.
result<void> load_config(const json& config, const rpc_method_table& methods,
                         const load_config_options& options = {});

// Reads and parses a JSON file. not_found / io_error for a file that cannot be read (with the
// errno text), invalid_argument for a syntax error (line, column and what was expected).
// Comments (// and /* */) are accepted, as SPDK's --json loader does.
result<json> read_config_file(const std::string& path);

// {"subsystems": [{"subsystem": name, "config": section.get_config()}, ...]} in
// ordered_config_sections() order; a section's non-array config is saved as [].
json save_config(const rpc_method_table& methods);

}  // namespace nvmfd
