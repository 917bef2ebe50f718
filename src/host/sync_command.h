#pragma once
// Runs one command on a host queue from a control thread and waits for it. The waiter owns
// a copy of the data, so a caller that gives up (timeout) leaves nothing dangling: the
// queue's own command timeout completes the command later and frees the waiter.
#include <cstddef>
#include <vector>

#include "base/result.h"
#include "host/host_qpair.h"

namespace nvmfd {

struct sync_result {
  nvme_completion completion;
  std::vector<std::byte> data;  // the buffer after the command (read data)
};

// Not on q's reactor. wait_ms bounds the wait (the queue's own timeout normally fires first).
result<sync_result> run_sync(host_qpair& q, const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c,
                             uint32_t wait_ms);

}  // namespace nvmfd
