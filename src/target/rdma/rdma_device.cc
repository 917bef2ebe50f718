#include "target/rdma/rdma_device.h"

#include <cerrno>

#include <fmt/format.h>

namespace nvmfd {

rdma_device::rdma_device(ibv_context* ctx, ibv_pd* pd, const ibv_device_attr& attr)
    : ctx_(ctx), pd_(pd), attr_(attr), name_(ibv_get_device_name(ctx->device)) {}

result<std::shared_ptr<rdma_device>> rdma_device::open(ibv_context* ctx, unsigned reactors, size_t max_buffer) {
  ibv_device_attr attr{};
  if (int rc = ibv_query_device(ctx, &attr); rc != 0)
    return error::from_errno(rc, fmt::format("ibv_query_device({})", ibv_get_device_name(ctx->device)));
  ibv_pd* pd = ibv_alloc_pd(ctx);
  if (!pd) return error::from_errno(errno, fmt::format("ibv_alloc_pd({})", ibv_get_device_name(ctx->device)));
  std::shared_ptr<rdma_device> d(new rdma_device(ctx, pd, attr));
  for (unsigned i = 0; i < std::max(1u, reactors); ++i)
    d->pools_.push_back(std::make_unique<rdma_buffer_pool>(pd, max_buffer));
  return d;
}

rdma_device::~rdma_device() {
  pools_.clear();  // their registrations before the domain
  ibv_dealloc_pd(pd_);
}

}  // namespace nvmfd
