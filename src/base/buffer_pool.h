#pragma once
// buffer_pool: per-core data buffers in power-of-two size classes (4 KiB .. 4 MiB), 4 KiB
// aligned (usable with O_DIRECT). A pool belongs to one thread; buffers are recycled
// through free lists, so once a core has warmed up, taking and returning buffers
// allocates nothing. Memory is returned to the system only when the pool is destroyed.
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

  // The calling thread's pool.
  static buffer_pool& local();

 private:
  static unsigned size_class(size_t len);
  static constexpr unsigned num_classes = 11;  // 4 KiB << 0..10
  std::array<std::vector<std::byte*>, num_classes> free_;
  std::vector<std::byte*> all_;
};

}  // namespace nvmfd
