#pragma once
// target_request: one command of a target queue, whatever the transport, as Linux's
// nvmet_req and SPDK's spdk_nvmf_request are. The command handlers read and write only
// these fields. A transport embeds it in its own request slot (tcp_request) and owns the
// slots: preallocated per queue, so that a command allocates nothing.
//
// The data buffer, as handed to the handlers (command_handlers.h):
//  - before begin_command: in_capsule_len bytes of in-capsule data at buf (Connect's 1024);
//  - before execute_command: when dir != none and xfer_len > 0, and not in_place, buf holds
//    at least xfer_len bytes (host-to-controller: the command's data);
//  - after a controller-to-host command succeeds: c2h_len bytes to send, at c2h_data if set
//    (a read the bdev served from its own memory), else at buf.
// Threading: the queue's reactor only.
#include <cstddef>
#include <cstdint>
#include <span>

#include "bdev/bdev.h"
#include "proto/nvme_command.h"

namespace nvmfd {

class target_queue;
struct target_namespace;
struct ns_snapshot;

// Data direction of a command, from opcode bits 1:0 (NVMe Base 2.0 Figure 88).
enum class data_direction : uint8_t { none = 0, host_to_controller = 1, controller_to_host = 2, bidirectional = 3 };

struct target_request {
  target_queue* queue = nullptr;      // the queue whose slot this is (set by the transport)
  nvme_sqe cmd{};
  nvme_cqe cqe{};
  data_direction dir = data_direction::none;
  uint32_t xfer_len = 0;              // bytes of data the command moves (SGL length)
  uint32_t c2h_len = 0;               // bytes to send to the host (<= xfer_len)
  uint32_t in_capsule_len = 0;        // bytes of in-capsule data at buf
  bool in_bdev = false;               // a bdev I/O of this command is outstanding

  std::byte* buf = nullptr;           // the transport's buffer (contiguous)
  uint32_t buf_len = 0;
  bool in_place = false;              // a read the bdev serves from its own memory: no buf
  const std::byte* c2h_data = nullptr;  // a read's data to send (buf, or the bdev's memory)

  // I/O commands
  bdev_io io;                         // io.done and io.owner: set by the transport
  const target_namespace* ns = nullptr;
  ns_snapshot* snap = nullptr;        // keeps ns alive while the command runs
  uint32_t dsm_next = 0;              // Dataset Management: next range to deallocate
  uint32_t dsm_count = 0;

  uint16_t cid() const { return cmd.cid.get(); }
  // The command's data: xfer_len bytes at buf.
  std::span<std::byte> data() const { return {buf, xfer_len}; }
  // The in-capsule data, as it arrived.
  std::span<const std::byte> in_capsule_data() const { return {buf, in_capsule_len}; }
  // Clears what one command left behind, for the next (the transport's fields, the buffer
  // and the io callback stay).
  void reset() {
    cqe = {};
    dir = data_direction::none;
    xfer_len = c2h_len = in_capsule_len = 0;
    in_place = false;
    c2h_data = nullptr;
    ns = nullptr;
    snap = nullptr;
    dsm_next = dsm_count = 0;
  }
};

}  // namespace nvmfd
