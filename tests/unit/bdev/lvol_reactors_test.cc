// The lvol data path on a reactor other than the store's home (reactor 0): allocations,
// releases and flushes reach the home reactor by message and resume the I/O on its own
// reactor; snapshots taken meanwhile still see every write on the right side.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "bdev/lvol/lvol_bdev.h"
#include "bdev/lvol/lvol_store.h"
#include "bdev/ram_bdev.h"
#include "bdev_harness.h"

namespace nvmfd::lvol {
namespace {

constexpr uint64_t mib = 1 << 20;
constexpr uint64_t bpc = mib / 512;  // blocks per 1 MiB cluster

struct lvol_reactors_test : ::testing::Test {
  void SetUp() override {
    auto s = lvol_store::create(h.pool(), ram_bdev::create("r", 512, 64 * mib / 512, std::nullopt).value(), "lvs", mib);
    ASSERT_TRUE(s.ok()) << s.err().message;
    store = std::move(s.value());
    auto v = store->create_volume("v", 8 * mib, true, std::nullopt);
    ASSERT_TRUE(v.ok());
    vol = *v;
  }
  std::vector<bdev_io> one(bdev_op op, uint64_t offset, uint64_t count, std::byte* buf) {
    std::vector<bdev_io> ios(1);
    ios[0] = h.make(op, offset, count, buf);
    return ios;
  }
  // Runs ios from reactor 1 and waits for all; their statuses.
  std::vector<int> on_reactor_1(std::vector<bdev_io>& ios) {
    h.submit_on(1, *vol->bdev, ios);
    EXPECT_TRUE(h.wait());
    std::vector<int> st;
    for (auto& io : ios) st.push_back(io.status);
    return st;
  }

  test::bdev_harness h{2};
  std::unique_ptr<lvol_store> store;
  volume* vol = nullptr;
};

TEST_F(lvol_reactors_test, writes_unmaps_and_flushes_from_another_reactor) {
  std::vector<test::aligned_buffer> data;
  std::vector<bdev_io> writes;
  for (uint64_t c = 0; c < 8; ++c) {
    data.emplace_back(4096);
    test::fill_pattern(data.back().span(), c + 1);
    writes.push_back(h.make(bdev_op::write, c * bpc + 8, 8, data.back().data()));
    writes.back().fua = c % 2 == 1;
  }
  EXPECT_EQ(on_reactor_1(writes), std::vector<int>(8, 0));
  EXPECT_EQ(store->allocated_clusters(*vol), 8u);
  uint64_t free_before = store->info().free_clusters;

  std::vector<bdev_io> more;
  more.push_back(h.make(bdev_op::unmap, 2 * bpc, bpc, nullptr));             // gives cluster 2 back
  more.push_back(h.make(bdev_op::write_zeroes, 5 * bpc, bpc, nullptr));      // and cluster 5
  more.back().fua = true;
  more.push_back(h.make(bdev_op::flush, 0, 0, nullptr));
  EXPECT_EQ(on_reactor_1(more), std::vector<int>(3, 0));
  EXPECT_EQ(store->allocated_clusters(*vol), 6u);
  auto flush = one(bdev_op::flush, 0, 0, nullptr);
  EXPECT_EQ(on_reactor_1(flush), std::vector<int>{0});
  EXPECT_EQ(store->info().free_clusters, free_before + 2) << "released, and free once committed";

  for (uint64_t c = 0; c < 8; ++c) {
    test::aligned_buffer r(4096);
    ASSERT_EQ(h.read(*vol->bdev, c * bpc + 8, 8, r.data()), 0);
    if (c == 2 || c == 5)
      EXPECT_TRUE(test::all_zero(r.span())) << "cluster " << c;
    else
      EXPECT_EQ(std::memcmp(r.data(), data[c].data(), 4096), 0) << "cluster " << c;
  }
  EXPECT_EQ(h.inline_completions(), 0);
  EXPECT_EQ(h.wrong_thread_completions(), 0);
}

TEST_F(lvol_reactors_test, a_snapshot_between_writes_from_another_reactor_keeps_them_apart) {
  test::aligned_buffer a(4096), b(4096);
  test::fill_pattern(a.span(), 1);
  test::fill_pattern(b.span(), 2);
  auto first = one(bdev_op::write, 0, 8, a.data());
  EXPECT_EQ(on_reactor_1(first), std::vector<int>{0});
  auto snap = store->snapshot(*vol, "snap");
  ASSERT_TRUE(snap.ok()) << snap.err().message;
  auto second = one(bdev_op::write, 0, 8, b.data());  // copy on write, from reactor 1
  EXPECT_EQ(on_reactor_1(second), std::vector<int>{0});
  test::aligned_buffer r(4096);
  ASSERT_EQ(h.read(*(*snap)->bdev, 0, 8, r.data()), 0);
  EXPECT_EQ(std::memcmp(r.data(), a.data(), 4096), 0);
  ASSERT_EQ(h.read(*vol->bdev, 0, 8, r.data()), 0);
  EXPECT_EQ(std::memcmp(r.data(), b.data(), 4096), 0);
}

}  // namespace
}  // namespace nvmfd::lvol
