#include "target/rdma/rdma_buffer_pool.h"

#include <algorithm>
#include <bit>
#include <cassert>

namespace nvmfd {

rdma_buffer_pool::rdma_buffer_pool(ibv_pd* pd, size_t max_buffer)
    : pd_(pd), classes_(size_class(std::max(max_buffer, min_size)) + 1) {
  assert(classes_ <= free_.size());
}

unsigned rdma_buffer_pool::size_class(size_t len) {
  if (len <= min_size) return 0;
  return static_cast<unsigned>(std::bit_width(len - 1) - std::bit_width(min_size - 1));
}

bool rdma_buffer_pool::grow(unsigned c) {
  size_t sz = min_size << c;
  size_t bytes = std::max(sz, chunk_size);
  auto chunk = registered_memory::create(pd_, bytes, IBV_ACCESS_LOCAL_WRITE);
  if (!chunk) return false;
  std::byte* mem = (*chunk)->data();
  uint32_t lkey = (*chunk)->lkey();
  chunks_.push_back(std::move(*chunk));
  registered_ += bytes;
  size_t n = bytes / sz;
  carved_[c] += n;
  free_[c].reserve(carved_[c]);  // so that give() never allocates
  for (size_t i = 0; i < n; ++i) free_[c].push_back({mem + i * sz, lkey});
  return true;
}

rdma_buffer_pool::buffer rdma_buffer_pool::take(size_t len) {
  unsigned c = size_class(len);
  if (c >= classes_) return {};
  auto& list = free_[c];
  if (list.empty() && !grow(c)) return {};
  buffer b = list.back();
  list.pop_back();
  return b;
}

void rdma_buffer_pool::give(buffer b, size_t len) {
  if (!b.data) return;
  free_[size_class(len)].push_back(b);
}

}  // namespace nvmfd
