#pragma once
// rdma_listener: a listening RDMA CM id of the RDMA transport, bound to an address and port
// (IPv4 or IPv6, through whichever RDMA device has that address). Its connect requests
// arrive on the transport's event channel. Destroying it stops listening; connections it
// accepted stay. Control thread.
#include <rdma/rdma_cma.h>

#include <memory>
#include <string>

#include "base/result.h"
#include "target/target_transport.h"

namespace nvmfd {

class rdma_listener final : public transport_listener {
 public:
  static result<std::unique_ptr<rdma_listener>> open(rdma_event_channel* ch, const std::string& addr,
                                                     const std::string& port, int backlog);
  ~rdma_listener() override;

 private:
  rdma_listener(rdma_cm_id* id, std::string name) : id_(id), name_(std::move(name)) {}
  rdma_cm_id* id_;
  std::string name_;  // "addr:port", for log lines
};

}  // namespace nvmfd
