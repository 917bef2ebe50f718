// The lvol data path allocates nothing per I/O in steady state, the hops between a volume's
// reactor and the store's home included (reactor::post(deferred_task&)): a FLUSH with nothing
// to commit, a first write to a thin volume's cluster (the allocation and zero-fill of the
// cluster), and the release of a whole cluster (unmap). Its own binary: it replaces the global
// operator new to count what reactor threads allocate.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <new>

#include "bdev/bdev_sync_io.h"
#include "bdev/lvol/lvol_bdev.h"
#include "bdev/lvol/lvol_store.h"
#include "bdev/ram_bdev.h"
#include "reactor/reactor.h"

namespace {
std::atomic<uint64_t> reactor_allocations{0};

void* counted(std::size_t n, std::size_t align) {
  if (nvmfd::reactor::current()) reactor_allocations.fetch_add(1, std::memory_order_relaxed);
  if (n == 0) n = 1;
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align) : std::malloc(n);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted(n, 0); }
void* operator new[](std::size_t n) { return counted(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace nvmfd::lvol {
namespace {

constexpr uint64_t cluster = 64 * 1024;
constexpr uint64_t bpc = cluster / 512;

// Submits one I/O at a time on a reactor (posted to it as a task: no allocation of its own)
// and waits for its completion off the reactors.
class io_driver final : deferred_task, bdev_io_callback {
 public:
  io_driver(reactor& on, bdev& target) : on_(on), target_(target) {}
  int run(bdev_op op, uint64_t offset, uint64_t count, std::byte* buf) {
    io_ = bdev_io{};
    io_.op = op;
    io_.offset_blocks = offset;
    io_.num_blocks = count;
    io_.buf = buf;
    io_.owner = &on_;
    io_.done = this;
    done_ = false;
    if (!on_.post(*this)) return -ESHUTDOWN;
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, std::chrono::seconds(60), [&] { return done_; })) return -ETIMEDOUT;
    return io_.status;
  }

 private:
  void run_deferred() override { target_.submit(io_); }
  void on_bdev_io_done(bdev_io&) override {
    std::lock_guard lk(mu_);
    done_ = true;
    cv_.notify_all();
  }
  reactor& on_;
  bdev& target_;
  bdev_io io_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

// Waits until reactor r has finished what it was doing (a task posted behind it has run).
struct quiesce final : deferred_task {
  std::mutex mu;
  std::condition_variable cv;
  bool ran = false;
  void run_deferred() override {
    std::lock_guard lk(mu);
    ran = true;
    cv.notify_all();
  }
  void on(reactor& r) {
    ran = false;
    ASSERT_TRUE(r.post(*this));
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(60), [&] { return ran; }));
  }
};

struct lvol_alloc_test : ::testing::Test {
  void SetUp() override {
    auto s = lvol_store::create(pool, ram_bdev::create("r", 512, 32 * 1024 * 1024 / 512, std::nullopt).value(), "lvs",
                                cluster);
    ASSERT_TRUE(s.ok()) << s.err().message;
    store = std::move(s.value());
    auto v = store->create_volume("v", 256 * cluster, true, std::nullopt);
    ASSERT_TRUE(v.ok()) << v.err().message;
    vol = *v;
  }
  // What the reactors allocated while fn ran (and until they were idle again).
  template <class F>
  uint64_t allocations_during(F fn) {
    quiesce q;
    q.on(pool.at(0));
    q.on(pool.at(1));
    uint64_t before = reactor_allocations.load();
    fn();
    q.on(pool.at(0));
    q.on(pool.at(1));
    return reactor_allocations.load() - before;
  }

  reactor_pool pool{2};  // reactor 0: the store's home; the I/O runs on reactor 1
  std::unique_ptr<lvol_store> store;
  volume* vol = nullptr;
  aligned_buffer data{4096};
};

TEST_F(lvol_alloc_test, the_counter_sees_what_a_reactor_allocates) {
  EXPECT_GT(allocations_during([&] { pool.run_on(1, [] { delete new int(1); }); }), 0u);
}

TEST_F(lvol_alloc_test, a_flush_with_nothing_to_commit_allocates_nothing) {
  io_driver d(pool.at(1), *vol->bdev);
  ASSERT_EQ(d.run(bdev_op::write, 0, 8, data.data()), 0);
  ASSERT_EQ(d.run(bdev_op::flush, 0, 0, nullptr), 0);  // commits the allocation; warms the pools
  ASSERT_EQ(d.run(bdev_op::flush, 0, 0, nullptr), 0);
  uint64_t n = allocations_during([&] {
    for (int i = 0; i < 50; ++i) {
      ASSERT_EQ(d.run(bdev_op::write, 8, 8, data.data()), 0);
      ASSERT_EQ(d.run(bdev_op::flush, 0, 0, nullptr), 0);
    }
  });
  EXPECT_EQ(n, 0u) << "allocations in 50 writes and flushes";
}

TEST_F(lvol_alloc_test, first_writes_to_a_thin_volume_and_whole_cluster_releases_allocate_nothing) {
  io_driver d(pool.at(1), *vol->bdev);
  // Warm up: the pieces, the fills, the release list and the commit path.
  for (uint64_t c = 0; c < 40; ++c) ASSERT_EQ(d.run(bdev_op::write, c * bpc, 8, data.data()), 0);
  for (uint64_t c = 0; c < 40; ++c) ASSERT_EQ(d.run(bdev_op::unmap, c * bpc, bpc, nullptr), 0);
  ASSERT_EQ(d.run(bdev_op::flush, 0, 0, nullptr), 0);
  uint64_t allocated_before = store->allocated_clusters(*vol);
  uint64_t n = allocations_during([&] {
    for (uint64_t c = 100; c < 130; ++c) ASSERT_EQ(d.run(bdev_op::write, c * bpc + 16, 8, data.data()), 0);
  });
  EXPECT_EQ(n, 0u) << "allocations in 30 first writes to thin clusters";
  EXPECT_EQ(store->allocated_clusters(*vol), allocated_before + 30) << "they did allocate clusters";
  n = allocations_during([&] {
    for (uint64_t c = 100; c < 130; ++c) ASSERT_EQ(d.run(bdev_op::unmap, c * bpc, bpc, nullptr), 0);
  });
  EXPECT_EQ(n, 0u) << "allocations in 30 whole-cluster releases";
  EXPECT_EQ(store->allocated_clusters(*vol), allocated_before);
}

}  // namespace
}  // namespace nvmfd::lvol
