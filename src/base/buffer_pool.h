#pragma once
// buffer_pool: per-core data buffers in power-of-two size classes (4 KiB .. 4 MiB), 4 KiB
// aligned (usable with O_DIRECT). A pool belongs to one thread; buffers are recycled
// through free lists, so once a core has warmed up, taking and returning buffers
// allocates nothing. The free lists keep at most cache_limit() bytes (unbounded unless set,
// e.g. by the TCP transport's buf_cache_size): a buffer given back beyond it goes back to
// the system, so that a burst does not pin its memory forever. Buffers still taken when
// the pool is destroyed are not freed.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nvmfd {

class buffer_pool {
 public:
  static constexpr size_t min_size = 4096;
  static constexpr size_t max_size = 4u << 20;

  buffer_pool() = default;
  ~buffer_pool();
  buffer_pool(const buffer_pool&) = delete;
  buffer_pool& operator=(const buffer_pool&) = delete;

  // A buffer of at least len bytes (len <= max_size), or nullptr if memory is exhausted.
  std::byte* take(size_t len);
  // Returns a buffer taken with the same len.
  void give(std::byte* buf, size_t len);
  // The bytes a buffer of len takes: its size class.
  static size_t class_bytes(size_t len) { return min_size << size_class(len); }
  // Free buffers kept for reuse, in bytes at most.
  void set_cache_limit(size_t bytes) { cache_limit_ = bytes; }
  size_t cache_limit() const { return cache_limit_; }
  size_t cached_bytes() const { return cached_; }

  // The calling thread's pool.
  static buffer_pool& local();

 private:
  static unsigned size_class(size_t len);
  static constexpr unsigned num_classes = 11;  // 4 KiB << 0..10
  std::array<std::vector<std::byte*>, num_classes> free_;
  std::array<size_t, num_classes> allocated_{};  // buffers of each class now allocated
  size_t cached_ = 0;                            // bytes on the free lists
  size_t cache_limit_ = SIZE_MAX;
};

}  // namespace nvmfd
