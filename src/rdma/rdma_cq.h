#pragma once
// rdma_cq: a verbs completion queue with a completion channel of its own, for one reactor to
// watch (fd()), as NVMe/RDMA queue pairs on either side use it; and registered_memory, a
// page-aligned buffer registered once with a protection domain.
//
// Threading: an rdma_cq belongs to the reactor that watches its fd; drain() runs there.
// Lifetime: destroy the QPs that use the CQ first; the destructor acknowledges every event
// taken and destroys the CQ, then the channel.
#include <infiniband/verbs.h>

#include <cstddef>
#include <memory>

#include "base/result.h"

namespace nvmfd {

class rdma_cq {
 public:
  // entries: completions the CQ holds at once. The CQ is armed for the next completion.
  static result<std::unique_ptr<rdma_cq>> create(ibv_context* ctx, int entries);
  ~rdma_cq();
  rdma_cq(const rdma_cq&) = delete;
  rdma_cq& operator=(const rdma_cq&) = delete;

  ibv_cq* cq() const { return cq_; }
  int fd() const { return cc_->fd; }  // non-blocking; readable when the CQ has fired

  // When fd() is readable: takes the channel's events, hands every completion to on_wc
  // (void(const ibv_wc&)), re-arms the CQ and hands over what came in between.
  template <class F>
  void drain(F&& on_wc) {
    take_events();
    poll(on_wc);
    ibv_req_notify_cq(cq_, 0);
    poll(on_wc);
  }

 private:
  rdma_cq(ibv_comp_channel* cc, ibv_cq* cq) : cc_(cc), cq_(cq) {}
  void take_events();
  template <class F>
  void poll(F& on_wc) {
    ibv_wc wcs[32];
    for (;;) {
      int n = ibv_poll_cq(cq_, 32, wcs);
      for (int i = 0; i < n; ++i) on_wc(wcs[i]);
      if (n < 32) return;
    }
  }

  ibv_comp_channel* cc_;
  ibv_cq* cq_;
  unsigned unacked_ = 0;
};

// A zeroed, page-aligned buffer of at least `bytes` (rounded up to pages), registered with
// pd for `access` until destroyed.
class registered_memory {
 public:
  static result<std::unique_ptr<registered_memory>> create(ibv_pd* pd, size_t bytes, int access);
  ~registered_memory();
  registered_memory(const registered_memory&) = delete;
  registered_memory& operator=(const registered_memory&) = delete;

  std::byte* data() const { return mem_; }
  uint32_t lkey() const { return mr_->lkey; }
  uint32_t rkey() const { return mr_->rkey; }

 private:
  registered_memory(std::byte* mem, ibv_mr* mr) : mem_(mem), mr_(mr) {}
  std::byte* mem_;
  ibv_mr* mr_;
};

}  // namespace nvmfd
