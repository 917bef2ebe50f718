#pragma once
// Options of the RDMA transport (SPDK's nvmf_create_transport parameters that apply to RDMA,
// with SPDK's defaults where nvmfd has the same meaning).
#include <cstdint>

#include "target/queue_limits.h"

namespace nvmfd {

struct rdma_transport_options {
  uint16_t max_queue_depth = 128;          // I/O queue entries (CAP.MQES + 1)
  uint16_t max_io_qpairs_per_ctrlr = 127;
  uint32_t in_capsule_data_size = 4096;    // bytes after the SQE in each receive buffer
  uint32_t max_io_size = 131072;           // MDTS, in bytes; a power of two >= 4096
  // Data buffers: requests hold at most num_shared_buffers × io_unit_size bytes of them at
  // once over the transport (data_buffer_budget.h); they are registered memory, carved in
  // chunks from a pool per device and reactor (rdma_buffer_pool.h).
  uint32_t io_unit_size = 8192;
  uint32_t num_shared_buffers = 4095;
  uint32_t buf_cache_size = 32;            // accepted (SPDK's); the registered pools keep what they grew to
  uint32_t max_aq_depth = 128;
  // Shared receive queues: accepted as SPDK spells them; every queue pair has receive
  // buffers of its own (no_srq's behaviour).
  uint32_t max_srq_depth = 4096;
  bool no_srq = false;
  int32_t acceptor_backlog = 100;          // rdma_listen's backlog
  bool no_wr_batching = false;
  uint32_t abort_timeout_sec = 1;
  bool dif_insert_or_strip = false;
  uint16_t kas = 10;                       // keep-alive granularity in Identify, 100 ms units
  uint32_t min_kato = 10000;               // ms: smallest keep-alive timeout granted to an I/O controller
};

// The limits the command handlers see on an RDMA queue.
inline queue_limits limits_of(const rdma_transport_options& o) {
  queue_limits l = common_limits(o);
  l.keyed_sgl = true;
  return l;
}

}  // namespace nvmfd
