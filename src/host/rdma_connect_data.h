#pragma once
// rdma_connect_data: the host's side of the NVMe/RDMA connection handshake as pure functions
// (NVMe-oF 1.1, 7.3.5 "RDMA CM"): the RDMA_CM_REQUEST private data a queue sends, and the
// text of an RDMA_CM_REJECT's private data for the queue's failure message.
// No I/O; callable from any thread.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "base/strong_id.h"
#include "proto/nvme_rdma.h"

namespace nvmfd {

// The request for queue qid of queue_size entries (1's based, >= 2): HRQSIZE = queue_size
// (one receive buffer per command slot), HSQSIZE = queue_size - 1 (0's based, the SQSIZE of
// the queue's Fabrics Connect), CNTLID = cntlid (0xffff on the admin queue).
rdma_cm_request make_rdma_cm_request(qid_t qid, uint16_t queue_size, uint16_t cntlid);

// "rejected by the controller: <status> (<code>)" from the reject's private data, or a text
// saying that it carried no NVMe reject status (too short, or status 0: a reject by the CM
// itself, e.g. no listener on the port); cm_status is the CM event's status (the IB/iWARP
// reject reason).
std::string describe_rdma_reject(std::span<const std::byte> private_data, int cm_status);

}  // namespace nvmfd
