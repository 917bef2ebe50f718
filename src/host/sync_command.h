#pragma once
// One command on a host queue outside the I/O path (admin commands, the public blocking
// host API): submit_async() from any thread, with the completion on the queue's reactor,
// and run_sync(), its blocking form for control threads. The operation owns a copy of the
// data, so a caller that gives up (timeout) leaves nothing dangling: the queue's own
// command timeout completes the command later and frees it.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/result.h"
#include "host/host_queue.h"
#include "reactor/completion.h"

namespace nvmfd {

struct sync_result {
  nvme_completion completion;
  std::vector<std::byte> data;  // the buffer after the command (read data)
};

// Any thread. Sends cmd on q with data as its buffer (h2c: written to the controller) and
// calls done on q's reactor, never inside this call. A queue that has failed or has no free
// slot completes the command with a host path error status (an NVMe status, not an error).
// timeout_ms: how long the controller has (0: the queue's io_timeout_ms).
void submit_async(host_queue& q, const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c,
                  completion<sync_result> done, uint32_t timeout_ms = 0);

// Not on a reactor: submit_async, waiting for it. wait_ms bounds the wait (the queue's own
// timeout normally fires first); timed_out after it.
result<sync_result> run_sync(host_queue& q, const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c,
                             uint32_t wait_ms);

}  // namespace nvmfd
