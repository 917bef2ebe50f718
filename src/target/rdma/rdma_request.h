#pragma once
// rdma_request: one command slot of an RDMA queue pair (rdma_qpair): the neutral
// target_request plus what NVMe/RDMA needs to move the command: the receive buffer its
// capsule came in, the host buffer its keyed SGL names, the registered data buffer and its
// state. Preallocated per queue (twice the queue size: a slot stays busy until its
// response's send completes, while the host may already reuse the command identifier), so
// that a command allocates nothing.
// Threading: the queue pair's reactor only.
#include <cstdint>

#include "proto/nvme_rdma.h"
#include "target/rdma/rdma_buffer_pool.h"
#include "target/target_request.h"

namespace nvmfd {

class rdma_qpair;

enum class rdma_request_state : uint8_t {
  free,
  awaiting_buffer,  // validated; waits for the transport's data buffer budget
  reading,          // RDMA READ of the host's data under way (or queued behind the read limit)
  executing,        // in a handler, a bdev, or parked (AER)
  sending,          // response (after an RDMA WRITE of the data) posted; freed when the send completes
};

struct rdma_request final : target_request, bdev_io_callback {
  rdma_qpair* qp = nullptr;
  uint16_t index = 0;                  // slot number (work request ids carry it)
  rdma_request_state state = rdma_request_state::free;
  int32_t recv_slot = -1;              // the receive buffer holding the capsule, until re-posted
  keyed_sgl remote{};                  // the host buffer (keyed SGL), if the command has one
  bool keyed = false;
  rdma_buffer_pool::buffer data{};     // registered data buffer (buf), or none (in-capsule data)
  uint32_t budget_bytes = 0;           // of the transport's data_buffer_budget held by data
  uint8_t send_wrs = 0;                // work requests of the send queue this command has posted
  rdma_request* next = nullptr;        // on the free list, the buffer wait list or the read queue

  void on_bdev_io_done(bdev_io& io) override;
};

}  // namespace nvmfd
