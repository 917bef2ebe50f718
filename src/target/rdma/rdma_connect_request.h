#pragma once
// rdma_connect_request: the checks of an RDMA CM connect request's private data (NVMe-oF 1.1
// 7.3.3) before a queue pair is made for it: the record format, the queue it opens and the
// queue sizes the host asks for, against the transport's limits. Pure logic, any thread.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "proto/nvme_rdma.h"
#include "target/rdma/rdma_transport_options.h"

namespace nvmfd {

// What an accepted request asks for.
struct rdma_queue_request {
  uint16_t qid = 0;
  uint16_t queue_size = 0;     // HSQSIZE + 1: command capsules outstanding at most (receive buffers)
  uint16_t host_recv_size = 0; // HRQSIZE: responses the host has room for
  uint16_t cntlid = 0xffff;
};

// The queue the request asks for, or the reject status to answer with.
std::variant<rdma_queue_request, rdma_cm_reject_status> check_rdma_connect_request(
    std::span<const std::byte> private_data, const rdma_transport_options& o);

}  // namespace nvmfd
