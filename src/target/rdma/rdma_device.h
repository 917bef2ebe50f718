#pragma once
// rdma_device: what the RDMA transport keeps per RDMA device (verbs context) its connections
// arrive on: a protection domain, the device's limits, and one registered buffer pool per
// reactor. Made by the transport on the first connection through the device; every queue
// pair on it holds a shared_ptr, so the domain outlives their memory registrations.
//
// Threading: the fields are fixed at creation; pool(i) belongs to reactor i.
#include <infiniband/verbs.h>

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "target/rdma/rdma_buffer_pool.h"

namespace nvmfd {

class rdma_device {
 public:
  // ctx: the device's verbs context (an rdma_cm_id's verbs, owned by librdmacm).
  static result<std::shared_ptr<rdma_device>> open(ibv_context* ctx, unsigned reactors, size_t max_buffer);
  ~rdma_device();
  rdma_device(const rdma_device&) = delete;
  rdma_device& operator=(const rdma_device&) = delete;

  ibv_context* context() const { return ctx_; }
  ibv_pd* pd() const { return pd_; }
  const ibv_device_attr& attr() const { return attr_; }
  const std::string& name() const { return name_; }
  rdma_buffer_pool& pool(unsigned reactor) { return *pools_[reactor % pools_.size()]; }

 private:
  rdma_device(ibv_context* ctx, ibv_pd* pd, const ibv_device_attr& attr);
  ibv_context* ctx_;
  ibv_pd* pd_;
  ibv_device_attr attr_;
  std::string name_;
  std::vector<std::unique_ptr<rdma_buffer_pool>> pools_;
};

}  // namespace nvmfd
