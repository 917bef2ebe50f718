// lvol durability at a power cut, over a volatile-cache base (only flushed or FUA data
// survives): FUA writes and FUA whole-cluster write zeroes are durable when they complete,
// even when the cluster's mapping was still uncommitted. Also the limits that keep the
// format sound: block sizes up to 4 KiB, sizes that do not fit.
#include <gtest/gtest.h>

#include <cstring>

#include "bdev/lvol/lvol_bdev.h"
#include "bdev/lvol/lvol_store.h"
#include "bdev/ram_bdev.h"
#include "bdev/volatile_cache_bdev.h"
#include "bdev_harness.h"
#include "temp_file.h"

namespace nvmfd::lvol {
namespace {

constexpr uint64_t mib = 1 << 20;

class lvol_power_test : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(file_.create("/tmp", 64 * mib)); }
  // A store and thin volume "v" on a fresh volatile-cache base.
  lvol_bdev& setup() {
    base_ = volatile_cache_bdev::create("vc0", file_.path(), 512, std::nullopt).value();
    auto s = lvol_store::create(h_.pool(), base_, "lvs", mib);
    EXPECT_TRUE(s.ok()) << s.err().message;
    store_ = std::move(s.value());
    return *(*store_->create_volume("v", 4 * mib, true, std::nullopt))->bdev;
  }
  // Power cut: the cache is gone, and so is the store object (no clean-shutdown commit).
  lvol_bdev& after_power_cut() {
    base_->power_cut();
    (void)store_.release();  // deliberately leaked: its destructor would commit
    base2_ = volatile_cache_bdev::create("vc1", file_.path(), 512, std::nullopt).value();
    auto s = lvol_store::load(h_.pool(), base2_);
    EXPECT_TRUE(s.ok()) << s.err().message;
    store2_ = std::move(s.value());
    return *store2_->find_volume("v")->bdev;
  }
  void TearDown() override {
    if (store2_) (void)store2_.release();
  }

  test::temp_file file_;
  test::bdev_harness h_;
  std::shared_ptr<volatile_cache_bdev> base_, base2_;
  std::unique_ptr<lvol_store> store_, store2_;
};

TEST_F(lvol_power_test, a_fua_write_into_an_uncommitted_cluster_survives) {
  lvol_bdev& b = setup();
  test::aligned_buffer w(4096), r(4096);
  test::fill_pattern(w.span(), 7);
  ASSERT_EQ(h_.write(b, 0, 8, w.data()), 0);                // allocates: mapping dirty
  ASSERT_EQ(h_.write(b, 8, 8, w.data(), /*fua=*/true), 0);  // same cluster, FUA
  lvol_bdev& b2 = after_power_cut();
  ASSERT_EQ(h_.read(b2, 8, 8, r.data()), 0);
  EXPECT_EQ(std::memcmp(r.data(), w.data(), 4096), 0) << "the FUA write was lost";
}

TEST_F(lvol_power_test, a_fua_write_zeroes_that_releases_a_cluster_survives) {
  lvol_bdev& b = setup();
  test::aligned_buffer w(4096), r(4096);
  test::fill_pattern(w.span(), 7);
  ASSERT_EQ(h_.write(b, 0, 8, w.data()), 0);
  ASSERT_EQ(h_.flush(b), 0);
  ASSERT_EQ(h_.write_zeroes(b, 0, mib / 512, /*fua=*/true), 0);  // the whole cluster
  lvol_bdev& b2 = after_power_cut();
  ASSERT_EQ(h_.read(b2, 0, 8, r.data()), 0);
  EXPECT_TRUE(test::all_zero(r.span())) << "the FUA write zeroes was undone";
}

TEST_F(lvol_power_test, writes_without_flush_are_lost_and_flushed_ones_kept) {
  lvol_bdev& b = setup();
  test::aligned_buffer w(4096), r(4096);
  test::fill_pattern(w.span(), 9);
  ASSERT_EQ(h_.write(b, 0, 8, w.data()), 0);
  ASSERT_EQ(h_.flush(b), 0);
  ASSERT_EQ(h_.write(b, 2 * mib / 512, 8, w.data()), 0);  // another cluster, never flushed
  lvol_bdev& b2 = after_power_cut();
  ASSERT_EQ(h_.read(b2, 0, 8, r.data()), 0);
  EXPECT_EQ(std::memcmp(r.data(), w.data(), 4096), 0);
  ASSERT_EQ(h_.read(b2, 2 * mib / 512, 8, r.data()), 0);
  EXPECT_TRUE(test::all_zero(r.span()));
}

TEST(lvol_limits, big_blocks_and_sizes_that_do_not_fit_are_refused) {
  test::bdev_harness h;
  auto big = ram_bdev::create("r8k", 8192, 64 * mib / 8192, std::nullopt).value();
  auto s8 = lvol_store::create(h.pool(), big, "lvs", mib);
  ASSERT_FALSE(s8.ok());
  EXPECT_EQ(s8.err().code, errc::invalid_argument);
  auto ram = ram_bdev::create("r", 512, 64 * mib / 512, std::nullopt).value();
  auto s = lvol_store::create(h.pool(), ram, "lvs", mib);
  ASSERT_TRUE(s.ok());
  auto v = (*s)->create_volume("v", 4 * mib, true, std::nullopt);
  ASSERT_TRUE(v.ok());
  uint64_t huge = (UINT64_MAX / mib) * mib;  // wrapped to 0 clusters before
  EXPECT_EQ((*s)->resize_volume(**v, huge).err().code, errc::invalid_argument);
  EXPECT_EQ((*v)->bdev->num_blocks(), 4 * mib / 512);
  EXPECT_FALSE((*s)->create_volume("w", huge, true, std::nullopt).ok());
}

}  // namespace
}  // namespace nvmfd::lvol

namespace nvmfd::lvol {
namespace {

// A RAM disk that wants 4 KiB-aligned buffers with 512-byte blocks (as an O_DIRECT file may).
class picky_ram final : public bdev {
 public:
  explicit picky_ram(std::shared_ptr<ram_bdev> r)
      : bdev("picky", r->block_size(), r->num_blocks(), uuid::random_v4()), r_(std::move(r)) {}
  std::string_view product_name() const override { return "Malloc disk"; }
  bool has_volatile_cache() const override { return false; }
  bool supports(bdev_op op) const override { return r_->supports(op); }
  uint32_t buf_align() const override { return 4096; }
  void do_submit(bdev_io& io) override {
    if (io.buf && reinterpret_cast<uintptr_t>(io.buf) % 4096) return io.complete_later(-EINVAL);
    r_->submit(io);
  }

 private:
  std::shared_ptr<ram_bdev> r_;
};

TEST(lvol_align, a_piece_the_base_cannot_take_goes_through_an_aligned_buffer) {
  test::bdev_harness h;
  auto base = std::make_shared<picky_ram>(ram_bdev::create("r", 512, 64 * mib / 512, std::nullopt).value());
  auto s = lvol_store::create(h.pool(), base, "lvs", mib);
  ASSERT_TRUE(s.ok()) << s.err().message;
  auto& v = *(*(*s)->create_volume("v", 4 * mib, false, std::nullopt))->bdev;
  // 16 blocks across the first cluster boundary, 3 blocks before it: the second piece starts
  // 1536 bytes into the (aligned) buffer.
  uint64_t at = mib / 512 - 3;
  test::aligned_buffer w(8192), r(8192);
  test::fill_pattern(w.span(), 3);
  ASSERT_EQ(h.write(v, at, 16, w.data()), 0);
  ASSERT_EQ(h.read(v, at, 16, r.data()), 0);
  EXPECT_EQ(std::memcmp(w.data(), r.data(), 8192), 0);
}

}  // namespace
}  // namespace nvmfd::lvol
