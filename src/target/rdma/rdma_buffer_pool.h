#pragma once
// rdma_buffer_pool: data buffers of one reactor registered with one protection domain, so
// that RDMA READ and WRITE can use them with no registration per I/O. Power-of-two size
// classes (4 KiB .. max_buffer), carved from chunks that are registered once (ibv_reg_mr)
// when a class runs dry; buffers go back on free lists and chunks stay until the pool is
// destroyed (with its device). What requests hold at once is bounded by the transport's
// data_buffer_budget, so a pool grows to its reactor's peak use on its device at most.
//
// Threading: one reactor (take/give); created and destroyed on any thread while unused.
#include <infiniband/verbs.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "rdma/rdma_cq.h"

namespace nvmfd {

class rdma_buffer_pool {
 public:
  static constexpr size_t min_size = 4096;
  static constexpr size_t chunk_size = 1u << 20;  // classes up to this share chunks; larger ones get one each

  struct buffer {
    std::byte* data = nullptr;
    uint32_t lkey = 0;
  };

  // max_buffer: the largest buffer taken (the transport's max_io_size).
  rdma_buffer_pool(ibv_pd* pd, size_t max_buffer);
  rdma_buffer_pool(const rdma_buffer_pool&) = delete;
  rdma_buffer_pool& operator=(const rdma_buffer_pool&) = delete;

  // A registered buffer of at least len bytes (len <= max_buffer), or data == nullptr when
  // memory or registration failed.
  buffer take(size_t len);
  // Gives back a buffer taken with the same len.
  void give(buffer b, size_t len);
  // Registered bytes (what the chunks hold).
  size_t registered_bytes() const { return registered_; }

 private:
  static unsigned size_class(size_t len);
  bool grow(unsigned c);

  ibv_pd* pd_;
  unsigned classes_;
  std::vector<std::unique_ptr<registered_memory>> chunks_;
  std::array<std::vector<buffer>, 16> free_;
  std::array<size_t, 16> carved_{};  // buffers of each class made so far (free lists reserve that much)
  size_t registered_ = 0;
};

}  // namespace nvmfd
