#include "host/rdma_connect_data.h"

#include <fmt/format.h>

#include "proto/wire.h"

namespace nvmfd {

rdma_cm_request make_rdma_cm_request(qid_t qid, uint16_t queue_size, uint16_t cntlid) {
  rdma_cm_request r{};
  r.recfmt = rdma_cm_recfmt_1_0;
  r.qid = qid.value;
  r.hrqsize = queue_size;
  r.hsqsize = static_cast<uint16_t>(queue_size - 1);
  r.cntlid = cntlid;
  return r;
}

std::string describe_rdma_reject(std::span<const std::byte> private_data, int cm_status) {
  auto rej = decode_wire<rdma_cm_reject>(private_data);
  // A CM that refuses by itself (no listener on the port) sends no or zeroed private data:
  // status 0 is no NVMe reject status.
  uint16_t sts = rej ? rej->sts.get() : 0;
  if (!rej || (rej->recfmt.get() == rdma_cm_recfmt_1_0 && sts == 0))
    return fmt::format("connection rejected (CM status {}, no NVMe reject status: no listener on that port?)",
                       cm_status);
  if (rej->recfmt.get() != rdma_cm_recfmt_1_0)
    return fmt::format("connection rejected by the controller (RECFMT {}, status {:#x})", rej->recfmt.get(), sts);
  return fmt::format("connection rejected by the controller: {} ({:#x})",
                     to_string(static_cast<rdma_cm_reject_status>(sts)), sts);
}

}  // namespace nvmfd
