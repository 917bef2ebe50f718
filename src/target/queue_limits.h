#pragma once
// queue_limits: what the command handlers report (Identify, CAP) or enforce (Connect queue
// sizes, transfer size) from the transport's configuration. The transport-neutral subset of
// a transport's options (TCP: limits_of(tcp_transport_options)); fixed for a queue's life.
#include <cstdint>

namespace nvmfd {

struct queue_limits {
  uint16_t max_queue_depth = 128;          // I/O queue entries: CAP.MQES + 1, I/O Connect SQSIZE bound, MAXCMD
  uint32_t max_aq_depth = 128;             // admin Connect SQSIZE bound; MAXCMD of a discovery controller
  uint16_t max_io_qpairs_per_ctrlr = 127;  // I/O queues a controller may have
  uint32_t in_capsule_data_size = 4096;    // I/O queues' in-capsule data (IOCCSZ)
  uint32_t max_io_size = 131072;           // MDTS, in bytes; a power of two >= 4096
  uint16_t kas = 10;                       // keep-alive granularity in Identify, 100 ms units
  uint32_t min_kato = 10000;               // ms: smallest keep-alive timeout granted to an I/O controller
  bool keyed_sgl = false;                  // keyed SGL data blocks carry the data (RDMA): Identify SGLS bit 2
};

// The neutral limits out of a transport's options (the fields both TCP's and RDMA's have).
template <class Options>
queue_limits common_limits(const Options& o) {
  queue_limits l;
  l.max_queue_depth = o.max_queue_depth;
  l.max_aq_depth = o.max_aq_depth;
  l.max_io_qpairs_per_ctrlr = o.max_io_qpairs_per_ctrlr;
  l.in_capsule_data_size = o.in_capsule_data_size;
  l.max_io_size = o.max_io_size;
  l.kas = o.kas;
  l.min_kato = o.min_kato;
  return l;
}

}  // namespace nvmfd
