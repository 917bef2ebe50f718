#include "base/buffer_pool.h"

#include <bit>
#include <cassert>
#include <cstdlib>

namespace nvmfd {

buffer_pool::~buffer_pool() {
  for (auto& list : free_)
    for (auto* b : list) std::free(b);
}

unsigned buffer_pool::size_class(size_t len) {
  if (len <= min_size) return 0;
  return static_cast<unsigned>(std::bit_width(len - 1) - std::bit_width(min_size - 1));
}

std::byte* buffer_pool::take(size_t len) {
  assert(len <= max_size);
  unsigned c = size_class(len);
  auto& list = free_[c];
  if (!list.empty()) {
    auto* b = list.back();
    list.pop_back();
    cached_ -= min_size << c;
    return b;
  }
  size_t sz = min_size << c;
  auto* b = static_cast<std::byte*>(std::aligned_alloc(4096, sz));
  if (!b) return nullptr;
  list.reserve(++allocated_[c]);  // so give() never allocates
  return b;
}

void buffer_pool::give(std::byte* buf, size_t len) {
  if (!buf) return;
  unsigned c = size_class(len);
  size_t sz = min_size << c;
  if (cached_ + sz > cache_limit_) {
    std::free(buf);
    --allocated_[c];
    return;
  }
  free_[c].push_back(buf);
  cached_ += sz;
}

buffer_pool& buffer_pool::local() {
  thread_local buffer_pool pool;
  return pool;
}

}  // namespace nvmfd
