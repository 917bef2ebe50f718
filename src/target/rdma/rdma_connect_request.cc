#include "target/rdma/rdma_connect_request.h"

#include "proto/wire.h"

namespace nvmfd {

std::variant<rdma_queue_request, rdma_cm_reject_status> check_rdma_connect_request(
    std::span<const std::byte> private_data, const rdma_transport_options& o) {
  auto req = decode_wire<rdma_cm_request>(private_data);
  if (!req) return rdma_cm_reject_status::invalid_length;
  if (req->recfmt.get() != rdma_cm_recfmt_1_0) return rdma_cm_reject_status::invalid_recfmt;
  rdma_queue_request q;
  q.qid = req->qid.get();
  q.cntlid = req->cntlid.get();
  if (q.qid > o.max_io_qpairs_per_ctrlr) return rdma_cm_reject_status::invalid_qid;
  // HSQSIZE is 0's based and at least 1 (a queue of two entries), as Connect's SQSIZE.
  uint32_t depth_limit = q.qid == 0 ? o.max_aq_depth : o.max_queue_depth;
  uint32_t hsqsize = req->hsqsize.get();
  if (hsqsize < 1 || hsqsize + 1 > depth_limit) return rdma_cm_reject_status::invalid_hsqsize;
  q.queue_size = static_cast<uint16_t>(hsqsize + 1);
  // The host must have room for a response to every command it may send.
  uint32_t hrqsize = req->hrqsize.get();
  if (hrqsize < q.queue_size) return rdma_cm_reject_status::invalid_hrqsize;
  q.host_recv_size = static_cast<uint16_t>(hrqsize);
  return q;
}

}  // namespace nvmfd
