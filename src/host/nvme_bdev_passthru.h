#pragma once
// nvme_bdev_passthru: one NVM command for an nvme bdev's namespace that is not a block I/O
// (the reservation commands), sent through one of the bdev's paths from a control thread.
// Every path presents the same Host ID, so whichever path carries a reservation command, the
// target sees the same registrant.
#include "base/result.h"
#include "host/nvme_bdev.h"
#include "host/reservation_request.h"

namespace nvmfd {

// Control thread (never a reactor). Tries the paths I/O would use now first, then the other
// usable ones, then any other connected one; a path-related failure (a host path error or
// ANA status, a lost connection) moves on to the next, any other completion is the answer.
// The command's NSID is the path's. Errors: closed ("<bdev>: no connected path") when no
// path took it; the last path's error otherwise.
result<sync_result> send_through_paths(const nvme_bdev& b, const nvm_command& c);

// A runner for reservation_request.h's functions.
inline nvm_command_runner path_runner(const nvme_bdev& b) {
  return [&b](const nvm_command& c) { return send_through_paths(b, c); };
}

}  // namespace nvmfd
