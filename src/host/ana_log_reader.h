#pragma once
// ana_log_reader: reads a controller's Asymmetric Namespace Access log page (LID 0Ch, groups
// only: LSP.RGO) into a map from ANA group to state. Reading it with RAE cleared also
// re-enables the controller's ANA change events. Control thread (a synchronous admin command).
#include <cstdint>
#include <map>

#include "base/result.h"
#include "host/host_controller.h"
#include "proto/ana_log.h"

namespace nvmfd {

struct ana_log_snapshot {
  uint64_t change_count = 0;
  std::map<uint32_t, ana_state> groups;  // ANA group ID -> state
};

// Errors: the controller does not report ANA (not_supported), the admin command failed, or
// the page is malformed (io_error naming the fault).
result<ana_log_snapshot> read_ana_log(host_controller& c);

// Whether I/O may be sent through a path in this state.
constexpr bool ana_usable(ana_state s) { return s == ana_state::optimized || s == ana_state::non_optimized; }

}  // namespace nvmfd
