#pragma once
// ana_log_reader: reads a controller's Asymmetric Namespace Access log page (LID 0Ch, groups
// only: LSP.RGO) into a map from ANA group to state. Reading it with RAE cleared also
// re-enables the controller's ANA change events.
#include <cstdint>
#include <map>
#include <memory>
#include <span>

#include "base/result.h"
#include "host/host_controller.h"
#include "proto/ana_log.h"
#include "reactor/completion.h"

namespace nvmfd {

struct ana_log_snapshot {
  uint64_t change_count = 0;
  std::map<uint32_t, ana_state> groups;  // ANA group ID -> state
};

// Any thread; done runs on c's admin reactor. Errors: the controller does not report ANA
// (not_supported), the admin command failed, or the page is malformed (io_error naming the
// fault).
void read_ana_log_async(std::shared_ptr<host_controller> c, completion<ana_log_snapshot> done);
// Control thread (not a reactor): the same, waiting for it.
result<ana_log_snapshot> read_ana_log(host_controller& c);

// The page as read with RGO (header, then descriptors without NSID lists), len bytes asked
// for. io_error for a short header, descriptors past the page, or an invalid state.
result<ana_log_snapshot> parse_ana_log(std::span<const std::byte> page, uint32_t len);

// Whether I/O may be sent through a path in this state.
constexpr bool ana_usable(ana_state s) { return s == ana_state::optimized || s == ana_state::non_optimized; }

}  // namespace nvmfd
