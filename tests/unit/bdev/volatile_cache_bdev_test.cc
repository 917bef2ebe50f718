// volatile_cache_bdev specifics: what is in the file before and after a flush, what a
// power cut (or the destructor) loses, fua, zeroing, errors, a random run against a model,
// and writes from two reactors. The generic contract is in backend_contract_test.cc.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "bdev/file_bdev.h"
#include "bdev/volatile_cache_bdev.h"
#include "bdev_harness.h"
#include "temp_file.h"

namespace nvmfd::test {
namespace {

constexpr uint32_t bs = 512;
constexpr uint64_t blocks = 256;

// What a plain pread of the file sees (what survives the process).
std::vector<std::byte> file_bytes(const std::string& path, uint64_t off_blocks, uint64_t n) {
  std::vector<std::byte> out(n * bs);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(pread(fd, out.data(), out.size(), static_cast<off_t>(off_blocks * bs)),
            static_cast<ssize_t>(out.size()));
  close(fd);
  return out;
}

bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

class volatile_cache_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(file_.create("/tmp", blocks * bs));
    open_dev();
  }
  void TearDown() override {
    EXPECT_EQ(h_.inline_completions(), 0);
    EXPECT_EQ(h_.wrong_thread_completions(), 0);
  }
  void open_dev() {
    auto b = volatile_cache_bdev::create("vc0", file_.path(), bs, std::nullopt);
    ASSERT_TRUE(b.ok()) << b.err().message;
    dev_ = *b;
  }
  aligned_buffer write_pattern(uint64_t off, uint64_t n, uint64_t seed, bool fua = false) {
    aligned_buffer buf(n * bs);
    fill_pattern(buf.span(), seed);
    EXPECT_EQ(h_.write(*dev_, off, n, buf.data(), fua), 0);
    return buf;
  }
  std::vector<std::byte> read_back(uint64_t off, uint64_t n) {
    std::vector<std::byte> buf(n * bs, std::byte{0xA5});
    EXPECT_EQ(h_.read(*dev_, off, n, buf.data()), 0);
    return buf;
  }

  bdev_harness h_;
  temp_file file_;
  std::shared_ptr<volatile_cache_bdev> dev_;
};

TEST_F(volatile_cache_test, geometry_and_properties) {
  EXPECT_EQ(dev_->block_size(), bs);
  EXPECT_EQ(dev_->num_blocks(), blocks);
  EXPECT_EQ(dev_->product_name(), "Volatile cache disk");
  EXPECT_TRUE(dev_->has_volatile_cache());
  EXPECT_FALSE(dev_->read_only());
  EXPECT_EQ(dev_->buf_align(), 1u);
  for (bdev_op op : {bdev_op::read, bdev_op::write, bdev_op::flush, bdev_op::write_zeroes,
                     bdev_op::unmap})
    EXPECT_TRUE(dev_->supports(op));
  EXPECT_EQ(dev_->filename(), file_.path());
  EXPECT_FALSE(dev_->id().is_zero());
  EXPECT_EQ(dev_->cached_blocks(), 0u);
  EXPECT_EQ(dev_->flushes(), 0u);

  auto id = uuid::random_v4();
  auto b4k = volatile_cache_bdev::create("vc1", file_.path(), 4096, id);
  ASSERT_TRUE(b4k.ok()) << b4k.err().message;
  EXPECT_EQ((*b4k)->num_blocks(), blocks * bs / 4096);
  EXPECT_EQ((*b4k)->id(), id);
}

TEST_F(volatile_cache_test, create_rejects_what_it_cannot_serve) {
  auto missing = volatile_cache_bdev::create("x", "/tmp/nvmfd-no-such-file-here", bs, std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.err().code, errc::not_found);

  temp_file odd, empty;
  ASSERT_TRUE(odd.create("/tmp", 5000));
  ASSERT_TRUE(empty.create("/tmp", 0));
  for (const std::string& path : {odd.path(), empty.path(), std::string("/tmp")}) {
    auto r = volatile_cache_bdev::create("x", path, bs, std::nullopt);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.err().code, errc::invalid_argument) << path;
    EXPECT_NE(r.err().message.find(path), std::string::npos) << r.err().message;
  }
  for (uint32_t bad : {0u, 256u, 1000u, 128u * 1024})
    EXPECT_EQ(volatile_cache_bdev::create("x", file_.path(), bad, std::nullopt).err().code,
              errc::invalid_argument) << bad;
  // Cannot be opened read-write (or, as root, reads as empty).
  auto ro = volatile_cache_bdev::create("x", "/proc/version", bs, std::nullopt);
  ASSERT_FALSE(ro.ok());
}

TEST_F(volatile_cache_test, writes_are_readable_but_not_in_the_file_until_a_flush) {
  auto w = write_pattern(10, 8, 1);
  EXPECT_EQ(dev_->cached_blocks(), 8u);
  EXPECT_TRUE(same(read_back(10, 8), w.span()));
  EXPECT_TRUE(all_zero(file_bytes(file_.path(), 0, blocks)));

  ASSERT_EQ(h_.flush(*dev_), 0);
  EXPECT_EQ(dev_->cached_blocks(), 0u);
  EXPECT_EQ(dev_->flushes(), 1u);
  EXPECT_TRUE(same(file_bytes(file_.path(), 10, 8), w.span()));
  EXPECT_TRUE(all_zero(file_bytes(file_.path(), 0, 10)));
  EXPECT_TRUE(all_zero(file_bytes(file_.path(), 18, blocks - 18)));
  EXPECT_TRUE(same(read_back(10, 8), w.span()));
}

TEST_F(volatile_cache_test, power_cut_loses_exactly_the_unflushed_writes) {
  auto a = write_pattern(0, 32, 1);
  ASSERT_EQ(h_.flush(*dev_), 0);
  auto b = write_pattern(16, 32, 2);  // overwrites half of a, and 16 blocks after it
  auto c = write_pattern(100, 1, 3);
  auto mid = read_back(0, 48);
  EXPECT_TRUE(same(std::span(mid).first(16 * bs), a.span().first(16 * bs)));
  EXPECT_TRUE(same(std::span(mid).subspan(16 * bs), b.span()));

  dev_->power_cut();
  EXPECT_EQ(dev_->cached_blocks(), 0u);
  EXPECT_TRUE(same(read_back(0, 32), a.span()));
  EXPECT_TRUE(all_zero(read_back(32, blocks - 32)));

  // Across a reopen, by this bdev and by a plain file bdev: only the flushed data is there.
  write_pattern(200, 4, 4);  // dropped by the destructor
  dev_.reset();
  open_dev();
  EXPECT_TRUE(same(read_back(0, 32), a.span()));
  EXPECT_TRUE(all_zero(read_back(32, blocks - 32)));
  auto f = file_bdev::create("f0", file_.path(), bs, true, std::nullopt);
  ASSERT_TRUE(f.ok()) << f.err().message;
  aligned_buffer whole(blocks * bs);
  ASSERT_EQ(h_.read(**f, 0, blocks, whole.data()), 0);
  EXPECT_TRUE(same(whole.span().first(32 * bs), a.span()));
  EXPECT_TRUE(all_zero(whole.span().subspan(32 * bs)));
}

TEST_F(volatile_cache_test, fua_write_is_durable_at_once) {
  auto cached = write_pattern(0, 8, 1);
  auto fua = write_pattern(2, 3, 2, true);
  EXPECT_EQ(dev_->cached_blocks(), 5u);  // the fua blocks left the cache
  EXPECT_TRUE(same(file_bytes(file_.path(), 2, 3), fua.span()));
  EXPECT_TRUE(all_zero(file_bytes(file_.path(), 0, 2)));
  EXPECT_TRUE(all_zero(file_bytes(file_.path(), 5, 3)));
  auto r = read_back(0, 8);
  EXPECT_TRUE(same(std::span(r).first(2 * bs), cached.span().first(2 * bs)));
  EXPECT_TRUE(same(std::span(r).subspan(2 * bs, 3 * bs), fua.span()));
  EXPECT_TRUE(same(std::span(r).subspan(5 * bs), cached.span().subspan(5 * bs)));

  dev_->power_cut();
  r = read_back(0, 8);
  EXPECT_TRUE(all_zero(std::span(r).first(2 * bs)));
  EXPECT_TRUE(same(std::span(r).subspan(2 * bs, 3 * bs), fua.span()));
  EXPECT_TRUE(all_zero(std::span(r).subspan(5 * bs)));
  EXPECT_EQ(dev_->flushes(), 0u);
}

TEST_F(volatile_cache_test, write_zeroes_and_unmap_are_cached_until_a_flush) {
  auto w = write_pattern(0, 64, 1);
  ASSERT_EQ(h_.flush(*dev_), 0);
  ASSERT_EQ(h_.write_zeroes(*dev_, 5, 15), 0);
  ASSERT_EQ(h_.unmap(*dev_, 30, 10), 0);
  EXPECT_EQ(dev_->cached_blocks(), 25u);
  auto r = read_back(0, 64);
  for (uint64_t i = 0; i < 64; ++i) {
    bool zero = (i >= 5 && i < 20) || (i >= 30 && i < 40);
    auto got = std::span(r).subspan(i * bs, bs);
    if (zero)
      EXPECT_TRUE(all_zero(got)) << i;
    else
      EXPECT_TRUE(same(got, w.span().subspan(i * bs, bs))) << i;
  }
  EXPECT_TRUE(same(file_bytes(file_.path(), 0, 64), w.span()));  // not yet in the file

  ASSERT_EQ(h_.flush(*dev_), 0);
  EXPECT_EQ(dev_->cached_blocks(), 0u);
  EXPECT_TRUE(same(file_bytes(file_.path(), 0, 64), r));

  // With fua, write_zeroes goes to the file at once.
  ASSERT_EQ(h_.write_zeroes(*dev_, 0, 2, true), 0);
  EXPECT_EQ(dev_->cached_blocks(), 0u);
  EXPECT_TRUE(all_zero(file_bytes(file_.path(), 0, 2)));
}

TEST_F(volatile_cache_test, out_of_range_and_bad_buffers_are_einval) {
  aligned_buffer buf(2 * bs);
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  for (auto [off, n] : {std::pair<uint64_t, uint64_t>{blocks, 1}, {blocks - 1, 2}, {max, 1},
                        {1, max}, {blocks + 1, 0}}) {
    EXPECT_EQ(h_.read(*dev_, off, n, buf.data()), -EINVAL) << off << "+" << n;
    EXPECT_EQ(h_.write(*dev_, off, n, buf.data()), -EINVAL) << off << "+" << n;
    EXPECT_EQ(h_.write(*dev_, off, n, buf.data(), true), -EINVAL) << off << "+" << n;
    EXPECT_EQ(h_.write_zeroes(*dev_, off, n), -EINVAL) << off << "+" << n;
    EXPECT_EQ(h_.unmap(*dev_, off, n), -EINVAL) << off << "+" << n;
  }
  EXPECT_EQ(h_.read(*dev_, 0, 1, nullptr), -EINVAL);
  EXPECT_EQ(h_.write(*dev_, 0, 1, nullptr), -EINVAL);
  EXPECT_EQ(dev_->cached_blocks(), 0u);
  // Zero-length I/Os succeed and cache nothing.
  EXPECT_EQ(h_.write(*dev_, 3, 0, buf.data()), 0);
  EXPECT_EQ(h_.write_zeroes(*dev_, 3, 0), 0);
  EXPECT_EQ(dev_->cached_blocks(), 0u);
}

// Random writes, zeroing, fua, flushes and power cuts against a model of what is visible
// and what is durable; the file must always hold exactly the durable bytes.
TEST_F(volatile_cache_test, random_ops_match_a_model) {
  std::vector<std::byte> visible(blocks * bs), durable(blocks * bs);
  std::mt19937_64 rng(7);
  aligned_buffer buf(blocks * bs);
  for (int step = 0; step < 2000; ++step) {
    uint64_t off = rng() % blocks;
    uint64_t n = 1 + rng() % std::min<uint64_t>(blocks - off, 24);
    auto range = [&](std::vector<std::byte>& v) { return std::span(v).subspan(off * bs, n * bs); };
    switch (rng() % 12) {
      case 0: case 1: case 2: case 3: case 4: {
        bool fua = rng() % 5 == 0;
        fill_pattern(buf.span().first(n * bs), step);
        ASSERT_EQ(h_.write(*dev_, off, n, buf.data(), fua), 0);
        std::memcpy(range(visible).data(), buf.data(), n * bs);
        if (fua) std::memcpy(range(durable).data(), buf.data(), n * bs);
        break;
      }
      case 5: case 6: {
        bool fua = rng() % 4 == 0;
        ASSERT_EQ(h_.write_zeroes(*dev_, off, n, fua), 0);
        std::memset(range(visible).data(), 0, n * bs);
        if (fua) std::memset(range(durable).data(), 0, n * bs);
        break;
      }
      case 7:
        ASSERT_EQ(h_.unmap(*dev_, off, n), 0);
        std::memset(range(visible).data(), 0, n * bs);
        break;
      case 8: case 9:
        ASSERT_EQ(h_.read(*dev_, off, n, buf.data()), 0);
        ASSERT_TRUE(same(buf.span().first(n * bs), range(visible))) << "step " << step;
        break;
      case 10:
        ASSERT_EQ(h_.flush(*dev_), 0);
        durable = visible;
        EXPECT_EQ(dev_->cached_blocks(), 0u);
        break;
      case 11:
        if (rng() % 4 == 0) {
          dev_->power_cut();
          visible = durable;
        }
        break;
    }
    if (step % 100 == 0) {
      ASSERT_TRUE(same(file_bytes(file_.path(), 0, blocks), durable)) << step;
    }
  }
  ASSERT_EQ(h_.read(*dev_, 0, blocks, buf.data()), 0);
  EXPECT_TRUE(same(buf.span(), visible));
  EXPECT_TRUE(same(file_bytes(file_.path(), 0, blocks), durable));
  ASSERT_EQ(h_.flush(*dev_), 0);
  EXPECT_TRUE(same(file_bytes(file_.path(), 0, blocks), visible));
}

TEST(volatile_cache_bdev, concurrent_writes_from_two_reactors) {
  temp_file file;
  ASSERT_TRUE(file.create("/tmp", blocks * bs));
  auto b = volatile_cache_bdev::create("vc0", file.path(), bs, std::nullopt);
  ASSERT_TRUE(b.ok()) << b.err().message;
  auto& dev = **b;
  bdev_harness h(2);
  // Reactor r writes the blocks b with b % 2 == r, one block per I/O, with a flush every
  // 16 writes; every I/O of both reactors is in flight at once.
  constexpr uint64_t per_reactor = blocks / 2;
  std::vector<aligned_buffer> bufs;
  std::vector<bdev_io> ios[2];
  for (unsigned r = 0; r < 2; ++r) {
    for (uint64_t i = 0; i < per_reactor; ++i) {
      uint64_t blk = 2 * i + r;
      bufs.emplace_back(bs);
      fill_pattern(bufs.back().span(), blk + 1);
      ios[r].push_back(h.make(bdev_op::write, blk, 1, bufs.back().data()));
      if (i % 16 == 15) ios[r].push_back(h.make(bdev_op::flush, 0, 0, nullptr));
    }
  }
  h.submit_on(0, dev, ios[0]);
  h.submit_on(1, dev, ios[1]);
  ASSERT_TRUE(h.wait());
  for (auto& v : ios) {
    for (auto& io : v) EXPECT_EQ(io.status, 0);
  }
  EXPECT_EQ(dev.flushes(), 2 * per_reactor / 16);
  EXPECT_EQ(h.inline_completions(), 0);
  EXPECT_EQ(h.wrong_thread_completions(), 0);

  // Each reactor's last I/O is a flush, and this bdev applies a write inside submit(): the
  // later of the two last flushes found every write applied, so everything is durable.
  aligned_buffer want(bs);
  auto on_disk = file_bytes(file.path(), 0, blocks);
  for (uint64_t blk = 0; blk < blocks; ++blk) {
    fill_pattern(want.span(), blk + 1);
    EXPECT_TRUE(same(std::span(on_disk).subspan(blk * bs, bs), want.span())) << blk;
  }
  EXPECT_EQ(dev.cached_blocks(), 0u);
}

}  // namespace
}  // namespace nvmfd::test
