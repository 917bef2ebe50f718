#include "rdma/rdma_cq.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace nvmfd {

result<std::unique_ptr<rdma_cq>> rdma_cq::create(ibv_context* ctx, int entries) {
  ibv_comp_channel* cc = ibv_create_comp_channel(ctx);
  if (!cc) return error::from_errno(errno, "ibv_create_comp_channel");
  fcntl(cc->fd, F_SETFL, fcntl(cc->fd, F_GETFL) | O_NONBLOCK);
  ibv_cq* cq = ibv_create_cq(ctx, entries, nullptr, cc, 0);
  if (!cq) {
    int e = errno;
    ibv_destroy_comp_channel(cc);
    return error::from_errno(e, "ibv_create_cq");
  }
  std::unique_ptr<rdma_cq> q(new rdma_cq(cc, cq));
  if (int rc = ibv_req_notify_cq(cq, 0); rc != 0) return error::from_errno(rc, "ibv_req_notify_cq");
  return q;
}

rdma_cq::~rdma_cq() {
  if (unacked_) ibv_ack_cq_events(cq_, unacked_);
  ibv_destroy_cq(cq_);
  ibv_destroy_comp_channel(cc_);
}

void rdma_cq::take_events() {
  ibv_cq* cq = nullptr;
  void* ctx = nullptr;
  while (ibv_get_cq_event(cc_, &cq, &ctx) == 0) ++unacked_;
  // Acknowledging takes a lock: in batches.
  if (unacked_ >= 64) {
    ibv_ack_cq_events(cq_, unacked_);
    unacked_ = 0;
  }
}

result<std::unique_ptr<registered_memory>> registered_memory::create(ibv_pd* pd, size_t bytes, int access) {
  size_t rounded = std::max<size_t>(4096, (bytes + 4095) / 4096 * 4096);
  auto* mem = static_cast<std::byte*>(std::aligned_alloc(4096, rounded));
  if (!mem) return error{errc::no_memory, fmt::format("cannot allocate {} bytes", rounded)};
  std::memset(mem, 0, rounded);
  ibv_mr* mr = ibv_reg_mr(pd, mem, rounded, access);
  if (!mr) {
    int e = errno;
    std::free(mem);
    return error::from_errno(e, fmt::format("ibv_reg_mr ({} bytes)", rounded));
  }
  return std::unique_ptr<registered_memory>(new registered_memory(mem, mr));
}

registered_memory::~registered_memory() {
  ibv_dereg_mr(mr_);
  std::free(mem_);
}

}  // namespace nvmfd
