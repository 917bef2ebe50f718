#include "target/rdma/rdma_listener.h"

#include <cerrno>

#include <fmt/format.h>

#include "base/log.h"
#include "nvme_tcp/socket.h"

namespace nvmfd {

result<std::unique_ptr<rdma_listener>> rdma_listener::open(rdma_event_channel* ch, const std::string& addr,
                                                           const std::string& port, int backlog) {
  auto p = parse_port(port);
  if (!p) return p.take_err();
  socklen_t len = 0;
  auto sa = make_sockaddr(addr, *p, len);
  if (!sa) return sa.take_err();
  std::string name = fmt::format("{}:{}", addr, *p);
  rdma_cm_id* id = nullptr;
  if (rdma_create_id(ch, &id, nullptr, RDMA_PS_TCP) != 0) return error::from_errno(errno, "rdma_create_id");
  if (rdma_bind_addr(id, reinterpret_cast<sockaddr*>(&sa.value())) != 0) {
    int e = errno;
    rdma_destroy_id(id);
    return error::from_errno(e, fmt::format("RDMA listener {}: rdma_bind_addr (is there an RDMA device with this "
                                            "address?)", name));
  }
  if (rdma_listen(id, backlog) != 0) {
    int e = errno;
    rdma_destroy_id(id);
    return error::from_errno(e, fmt::format("RDMA listener {}: rdma_listen", name));
  }
  NVMFD_LOG_INFO("listening on {} (RDMA{})", name, id->verbs ? fmt::format(", {}", ibv_get_device_name(id->verbs->device)) : "");
  return std::unique_ptr<rdma_listener>(new rdma_listener(id, std::move(name)));
}

rdma_listener::~rdma_listener() {
  rdma_destroy_id(id_);
  NVMFD_LOG_INFO("stopped listening on {} (RDMA)", name_);
}

}  // namespace nvmfd
