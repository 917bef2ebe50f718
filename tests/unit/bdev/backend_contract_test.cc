// The bdev contract, checked on every storing backend (RAM, files in each I/O mode, and a
// file behind a volatile cache): data round trips, ranges, zeroing, flush, many I/Os in
// flight, and completions that run on the owner reactor and never inline.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <string>

#include "bdev/file_bdev.h"
#include "bdev/ram_bdev.h"
#include "bdev/volatile_cache_bdev.h"
#include "bdev_harness.h"
#include "temp_file.h"

namespace nvmfd::test {
namespace {

constexpr uint64_t disk_blocks = 4096;

struct backend_case {
  std::string label;
  uint32_t block_size;
  // Creates the bdev; may use dir for a backing file. Returns nullptr (and a reason) to skip.
  std::function<std::shared_ptr<bdev>(temp_file&, std::string& skip)> make;
};

// Creates a file of disk_blocks blocks in dir and opens it as a bdev with open(path).
template <class Open>
std::shared_ptr<bdev> make_on_file(temp_file& f, std::string& skip, const char* dir,
                                   uint32_t block_size, Open open) {
  if (!f.create(dir, disk_blocks * block_size)) {
    skip = std::string("cannot create a file in ") + dir;
    return nullptr;
  }
  auto b = open(f.path());
  if (!b) {
    skip = b.err().message;
    return nullptr;
  }
  return *b;
}

std::shared_ptr<bdev> make_file(temp_file& f, std::string& skip, const char* dir,
                                uint32_t block_size, file_bdev_options opts) {
  return make_on_file(f, skip, dir, block_size, [&](const std::string& path) {
    return file_bdev::create("f0", path, block_size, false, std::nullopt, opts);
  });
}

std::vector<backend_case> cases() {
  std::vector<backend_case> v;
  for (uint32_t bs : {512u, 4096u}) {
    std::string s = std::to_string(bs);
    v.push_back({"ram_" + s, bs, [bs](temp_file&, std::string&) -> std::shared_ptr<bdev> {
                   return *ram_bdev::create("r0", bs, disk_blocks, std::nullopt);
                 }});
    v.push_back({"volatile_cache_" + s, bs, [bs](temp_file& f, std::string& skip) {
                   return make_on_file(f, skip, "/tmp", bs, [bs](const std::string& path) {
                     return volatile_cache_bdev::create("v0", path, bs, std::nullopt);
                   });
                 }});
    struct mode {
      const char* label;
      const char* dir;
      file_bdev_options opts;
    };
    for (const mode& m : {mode{"tmp", "/tmp", {}}, mode{"vartmp", "/var/tmp", {}},
                          mode{"shm", "/dev/shm", {}},
                          mode{"tmp_buffered", "/tmp", {.try_direct = false}},
                          mode{"tmp_sync", "/tmp", {.use_uring = false}},
                          mode{"shm_sync_buffered", "/dev/shm", {.try_direct = false, .use_uring = false}}}) {
      v.push_back({std::string("file_") + m.label + "_" + s, bs,
                   [m, bs](temp_file& f, std::string& skip) {
                     return make_file(f, skip, m.dir, bs, m.opts);
                   }});
    }
  }
  return v;
}

class backend_contract : public ::testing::TestWithParam<backend_case> {
 protected:
  void SetUp() override {
    std::string skip;
    dev_ = GetParam().make(file_, skip);
    if (!dev_) GTEST_SKIP() << skip;
    bs_ = dev_->block_size();
    ASSERT_EQ(bs_, GetParam().block_size);
    ASSERT_EQ(dev_->num_blocks(), disk_blocks);
  }
  void TearDown() override {
    EXPECT_EQ(h_.inline_completions(), 0) << "a completion ran inside submit()";
    EXPECT_EQ(h_.wrong_thread_completions(), 0) << "a completion ran off the owner reactor";
  }

  // Writes a pattern over [off, off+n) and returns it.
  aligned_buffer write_pattern(uint64_t off, uint64_t n, uint64_t seed) {
    aligned_buffer buf(n * bs_);
    fill_pattern(buf.span(), seed);
    EXPECT_EQ(h_.write(*dev_, off, n, buf.data()), 0);
    return buf;
  }
  aligned_buffer read_back(uint64_t off, uint64_t n) {
    aligned_buffer buf(n * bs_);
    std::memset(buf.data(), 0xA5, buf.size());
    EXPECT_EQ(h_.read(*dev_, off, n, buf.data()), 0);
    return buf;
  }

  bdev_harness h_;
  temp_file file_;
  std::shared_ptr<bdev> dev_;
  uint32_t bs_ = 0;
};

TEST_P(backend_contract, write_then_read_round_trips) {
  for (auto [off, n] : {std::pair<uint64_t, uint64_t>{0, 1}, {1, 8}, {100, 256}, {disk_blocks - 3, 3}}) {
    auto w = write_pattern(off, n, off * 31 + n);
    auto r = read_back(off, n);
    EXPECT_EQ(std::memcmp(w.data(), r.data(), w.size()), 0) << "off " << off << " n " << n;
  }
}

TEST_P(backend_contract, unwritten_blocks_read_as_zeroes) {
  write_pattern(10, 1, 1);
  auto r = read_back(11, 64);
  EXPECT_TRUE(all_zero(r.span()));
}

TEST_P(backend_contract, out_of_range_is_einval) {
  aligned_buffer buf(2 * bs_);
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  for (auto [off, n] : {std::pair<uint64_t, uint64_t>{disk_blocks, 1}, {disk_blocks - 1, 2},
                        {max, 1}, {1, max}, {disk_blocks + 1, 0}}) {
    EXPECT_EQ(h_.read(*dev_, off, n, buf.data()), -EINVAL) << off << "+" << n;
    EXPECT_EQ(h_.write(*dev_, off, n, buf.data()), -EINVAL) << off << "+" << n;
    EXPECT_EQ(h_.write_zeroes(*dev_, off, n), -EINVAL) << off << "+" << n;
    EXPECT_EQ(h_.unmap(*dev_, off, n), -EINVAL) << off << "+" << n;
  }
}

TEST_P(backend_contract, zero_length_io_succeeds) {
  aligned_buffer buf(bs_);
  EXPECT_EQ(h_.read(*dev_, disk_blocks, 0, buf.data()), 0);
  EXPECT_EQ(h_.write(*dev_, 5, 0, buf.data()), 0);
  EXPECT_EQ(h_.write_zeroes(*dev_, 5, 0), 0);
  EXPECT_EQ(h_.unmap(*dev_, 5, 0), 0);
}

TEST_P(backend_contract, missing_or_misaligned_buffer_is_einval) {
  // A read without a buffer is one in place where the backend offers that.
  EXPECT_EQ(h_.read(*dev_, 0, 1, nullptr), dev_->reads_in_place(bs_) ? 0 : -EINVAL);
  EXPECT_EQ(h_.write(*dev_, 0, 1, nullptr), -EINVAL);
  aligned_buffer buf(2 * bs_);
  int want = dev_->buf_align() > 1 ? -EINVAL : 0;
  EXPECT_LE(dev_->buf_align(), 4096u);
  EXPECT_EQ(h_.read(*dev_, 0, 1, buf.data() + 1), want);
}

TEST_P(backend_contract, a_read_in_place_points_at_the_data_and_checks_its_range) {
  if (!dev_->reads_in_place(8 * bs_)) GTEST_SKIP() << "no reads in place";
  auto w = write_pattern(0, 64, 11);
  bdev_io io = h_.make(bdev_op::read, 16, 8, nullptr);
  ASSERT_EQ(h_.run(*dev_, io), 0);
  ASSERT_NE(io.buf, nullptr);
  EXPECT_EQ(std::memcmp(io.buf, w.data() + 16 * bs_, 8 * bs_), 0);
  EXPECT_EQ(h_.run(*dev_, h_.make(bdev_op::read, disk_blocks - 4, 8, nullptr)), -EINVAL);
}

TEST_P(backend_contract, write_zeroes_zeroes_only_its_range) {
  auto w = write_pattern(0, 64, 7);
  ASSERT_EQ(h_.write_zeroes(*dev_, 5, 40), 0);
  auto r = read_back(0, 64);
  EXPECT_EQ(std::memcmp(r.data(), w.data(), 5 * bs_), 0);
  EXPECT_TRUE(all_zero(r.span().subspan(5 * bs_, 40 * bs_)));
  EXPECT_EQ(std::memcmp(r.data() + 45 * bs_, w.data() + 45 * bs_, 19 * bs_), 0);
}

TEST_P(backend_contract, write_zeroes_with_fua_and_large_range) {
  auto w = write_pattern(0, disk_blocks, 8);
  ASSERT_EQ(h_.write_zeroes(*dev_, 1, disk_blocks - 2, true), 0);
  auto r = read_back(0, disk_blocks);
  EXPECT_EQ(std::memcmp(r.data(), w.data(), bs_), 0);
  EXPECT_TRUE(all_zero(r.span().subspan(bs_, (disk_blocks - 2) * bs_)));
  EXPECT_EQ(std::memcmp(r.data() + (disk_blocks - 1) * bs_, w.data() + (disk_blocks - 1) * bs_, bs_), 0);
}

TEST_P(backend_contract, unmap_zeroes_only_its_range) {
  // Ranges that start and end inside pages, and one that covers whole pages.
  for (auto [off, n] : {std::pair<uint64_t, uint64_t>{3, 50}, {64, 128}, {1, 1}}) {
    auto w = write_pattern(0, 256, off);
    ASSERT_EQ(h_.unmap(*dev_, off, n), 0);
    auto r = read_back(0, 256);
    EXPECT_EQ(std::memcmp(r.data(), w.data(), off * bs_), 0) << off;
    EXPECT_TRUE(all_zero(r.span().subspan(off * bs_, n * bs_))) << off;
    uint64_t end = off + n;
    EXPECT_EQ(std::memcmp(r.data() + end * bs_, w.data() + end * bs_, (256 - end) * bs_), 0) << off;
    // The range is writable again afterwards.
    auto w2 = write_pattern(off, n, off + 1000);
    auto r2 = read_back(off, n);
    EXPECT_EQ(std::memcmp(r2.data(), w2.data(), w2.size()), 0);
  }
}

TEST_P(backend_contract, flush_and_fua_write_succeed) {
  EXPECT_EQ(h_.flush(*dev_), 0);
  aligned_buffer buf(4 * bs_);
  fill_pattern(buf.span(), 3);
  EXPECT_EQ(h_.write(*dev_, 9, 4, buf.data(), true), 0);
  EXPECT_EQ(h_.flush(*dev_), 0);
  auto r = read_back(9, 4);
  EXPECT_EQ(std::memcmp(r.data(), buf.data(), buf.size()), 0);
}

TEST_P(backend_contract, many_ios_in_flight) {
  constexpr int n = 64;
  constexpr uint64_t blocks_per_io = 4;
  // 64 distinct slots at random places, written all at once, then read back all at once.
  std::vector<uint64_t> slots(disk_blocks / blocks_per_io);
  std::iota(slots.begin(), slots.end(), 0);
  std::mt19937_64 rng(42);
  std::shuffle(slots.begin(), slots.end(), rng);
  slots.resize(n);

  std::vector<aligned_buffer> wbufs, rbufs;
  std::vector<bdev_io> ios(n);
  for (int i = 0; i < n; ++i) {
    wbufs.emplace_back(blocks_per_io * bs_);
    fill_pattern(wbufs.back().span(), slots[i]);
    ios[i] = h_.make(bdev_op::write, slots[i] * blocks_per_io, blocks_per_io, wbufs.back().data());
    ios[i].fua = (i % 7 == 0);
  }
  ASSERT_TRUE(h_.run_all(*dev_, ios));
  for (auto& io : ios) EXPECT_EQ(io.status, 0);

  for (int i = 0; i < n; ++i) {
    rbufs.emplace_back(blocks_per_io * bs_);
    ios[i] = h_.make(bdev_op::read, slots[i] * blocks_per_io, blocks_per_io, rbufs.back().data());
  }
  ASSERT_TRUE(h_.run_all(*dev_, ios));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(ios[i].status, 0);
    EXPECT_EQ(std::memcmp(rbufs[i].data(), wbufs[i].data(), wbufs[i].size()), 0) << "slot " << slots[i];
  }
}

TEST_P(backend_contract, mixed_ops_in_flight) {
  // Writes, zeroing and flushes interleaved on disjoint ranges, all in flight together.
  constexpr int n = 48;
  std::vector<aligned_buffer> bufs;
  std::vector<bdev_io> ios(n);
  write_pattern(0, n * 8, 99);
  for (int i = 0; i < n; ++i) {
    uint64_t off = static_cast<uint64_t>(i) * 8;
    switch (i % 4) {
      case 0: bufs.emplace_back(8 * bs_); fill_pattern(bufs.back().span(), i);
              ios[i] = h_.make(bdev_op::write, off, 8, bufs.back().data()); break;
      case 1: ios[i] = h_.make(bdev_op::write_zeroes, off, 8, nullptr); break;
      case 2: ios[i] = h_.make(bdev_op::unmap, off, 8, nullptr); break;
      case 3: ios[i] = h_.make(bdev_op::flush, 0, 0, nullptr); break;
    }
  }
  ASSERT_TRUE(h_.run_all(*dev_, ios));
  auto r = read_back(0, n * 8);
  int w = 0;
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(ios[i].status, 0) << i;
    auto got = r.span().subspan(static_cast<size_t>(i) * 8 * bs_, 8 * bs_);
    if (i % 4 == 0) {
      EXPECT_EQ(std::memcmp(got.data(), bufs[w++].data(), got.size()), 0) << i;
    } else if (i % 4 != 3) {
      EXPECT_TRUE(all_zero(got)) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(all, backend_contract, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.label; });

}  // namespace
}  // namespace nvmfd::test
