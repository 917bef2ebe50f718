// file_bdev specifics: opening and sizing, O_DIRECT detection, read-only, durability as
// seen by a plain pread, errors from the file, several reactors, and block devices.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "bdev/file_bdev.h"
#include "bdev_harness.h"
#include "temp_file.h"

namespace nvmfd::test {
namespace {

// pread of the whole range from a separate descriptor (what survives us).
std::vector<std::byte> pread_file(const std::string& path, uint64_t off, size_t len) {
  std::vector<std::byte> out(len);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(pread(fd, out.data(), len, static_cast<off_t>(off)), static_cast<ssize_t>(len));
  close(fd);
  return out;
}

void pwrite_file(const std::string& path, uint64_t off, std::span<const std::byte> data) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(pwrite(fd, data.data(), data.size(), static_cast<off_t>(off)),
            static_cast<ssize_t>(data.size()));
  close(fd);
}

uint64_t allocated_bytes(const std::string& path) {
  struct stat st {};
  stat(path.c_str(), &st);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST(file_bdev, detects_block_size_and_geometry) {
  temp_file f;
  ASSERT_TRUE(f.create("/tmp", 8192));
  auto b = file_bdev::create("aio0", f.path(), 0, false, std::nullopt);
  ASSERT_TRUE(b.ok()) << b.err().message;
  EXPECT_EQ((*b)->block_size(), 512u);
  EXPECT_EQ((*b)->num_blocks(), 16u);
  EXPECT_EQ((*b)->product_name(), "AIO disk");
  EXPECT_EQ((*b)->filename(), f.path());
  EXPECT_FALSE((*b)->is_block_device());
  EXPECT_FALSE((*b)->read_only());
  EXPECT_TRUE((*b)->has_volatile_cache());  // a file always needs fdatasync
  EXPECT_FALSE((*b)->id().is_zero());

  auto id = uuid::random_v4();
  auto b4k = file_bdev::create("aio1", f.path(), 4096, false, id);
  ASSERT_TRUE(b4k.ok());
  EXPECT_EQ((*b4k)->num_blocks(), 2u);
  EXPECT_EQ((*b4k)->id(), id);
}

TEST(file_bdev, rejects_what_it_cannot_serve) {
  temp_file odd, empty, ok;
  ASSERT_TRUE(odd.create("/tmp", 5000));
  ASSERT_TRUE(empty.create("/tmp", 0));
  ASSERT_TRUE(ok.create("/tmp", 65536));

  auto r = file_bdev::create("x", odd.path(), 512, false, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  EXPECT_NE(r.err().message.find("not a multiple"), std::string::npos) << r.err().message;

  r = file_bdev::create("x", ok.path(), 4096 * 32, false, std::nullopt);  // 128 KiB > 64 KiB
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  r = file_bdev::create("x", ok.path(), 1000, false, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_argument);

  r = file_bdev::create("x", empty.path(), 0, false, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  EXPECT_NE(r.err().message.find("empty"), std::string::npos) << r.err().message;

  r = file_bdev::create("x", "/tmp/nvmfd-no-such-file-here", 0, false, std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::not_found);
  EXPECT_EQ(r.err().sys_errno, ENOENT);
  EXPECT_NE(r.err().message.find("/tmp/nvmfd-no-such-file-here"), std::string::npos);

  r = file_bdev::create("x", "/dev/null", 0, true, std::nullopt);  // a character device
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  r = file_bdev::create("x", "/tmp", 0, true, std::nullopt);  // a directory
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  r = file_bdev::create("x", "/tmp", 0, false, std::nullopt);  // EISDIR from open
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::io_error);
  EXPECT_EQ(r.err().sys_errno, EISDIR);
}

TEST(file_bdev, direct_io_where_the_filesystem_allows) {
  for (const char* dir : {"/tmp", "/var/tmp"}) {
    temp_file f;
    ASSERT_TRUE(f.create(dir, 1 << 20));
    auto b = file_bdev::create("d", f.path(), 4096, false, std::nullopt);
    ASSERT_TRUE(b.ok()) << b.err().message;
    if (!(*b)->direct()) {
      std::printf("note: %s refused O_DIRECT; buffered fallback in use\n", dir);
      EXPECT_EQ((*b)->buf_align(), 1u);
      continue;
    }
    EXPECT_GT((*b)->buf_align(), 1u);
    EXPECT_LE((*b)->buf_align(), 4096u);
    EXPECT_TRUE((*b)->has_volatile_cache());
    bdev_harness h;
    aligned_buffer buf(2 * 4096);
    EXPECT_EQ(h.read(**b, 0, 1, buf.data() + 1), -EINVAL);  // misaligned under O_DIRECT
    EXPECT_EQ(h.read(**b, 0, 1, buf.data()), 0);
  }
}

TEST(file_bdev, buffered_when_asked) {
  temp_file f;
  ASSERT_TRUE(f.create("/tmp", 1 << 20));
  auto b = file_bdev::create("b", f.path(), 512, false, std::nullopt, {.try_direct = false});
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE((*b)->direct());
  EXPECT_EQ((*b)->buf_align(), 1u);
  EXPECT_TRUE((*b)->has_volatile_cache());
  bdev_harness h;
  aligned_buffer w(4097), r(4097);
  fill_pattern(w.span(), 4);
  ASSERT_EQ(h.write(**b, 2, 8, w.data() + 1), 0);  // any alignment will do
  ASSERT_EQ(h.read(**b, 2, 8, r.data() + 1), 0);
  EXPECT_EQ(std::memcmp(w.data() + 1, r.data() + 1, 4096), 0);
}

TEST(file_bdev, read_only_rejects_writes_with_erofs) {
  temp_file f;
  ASSERT_TRUE(f.create("/tmp", 64 * 512));
  std::vector<std::byte> content(512);
  fill_pattern(content, 77);
  pwrite_file(f.path(), 3 * 512, content);

  auto b = file_bdev::create("ro", f.path(), 512, true, std::nullopt);
  ASSERT_TRUE(b.ok()) << b.err().message;
  EXPECT_TRUE((*b)->read_only());
  EXPECT_FALSE((*b)->has_volatile_cache());  // none of our writes can be pending
  bdev_harness h;
  aligned_buffer buf(512);
  EXPECT_EQ(h.read(**b, 3, 1, buf.data()), 0);
  EXPECT_EQ(std::memcmp(buf.data(), content.data(), 512), 0);
  EXPECT_EQ(h.write(**b, 3, 1, buf.data()), -EROFS);
  EXPECT_EQ(h.write_zeroes(**b, 3, 1), -EROFS);
  EXPECT_EQ(h.unmap(**b, 3, 1), -EROFS);
  EXPECT_EQ(h.flush(**b), 0);
  EXPECT_EQ(pread_file(f.path(), 3 * 512, 512), content);
}

class file_bdev_modes : public ::testing::TestWithParam<file_bdev_options> {};

TEST_P(file_bdev_modes, completed_writes_are_in_the_file) {
  temp_file f;
  ASSERT_TRUE(f.create("/var/tmp", 1 << 20));
  auto b = file_bdev::create("dur", f.path(), 4096, false, std::nullopt, GetParam());
  ASSERT_TRUE(b.ok()) << b.err().message;
  bdev_harness h;

  aligned_buffer w(3 * 4096);
  fill_pattern(w.span(), 11);
  ASSERT_EQ(h.write(**b, 5, 3, w.data()), 0);
  ASSERT_EQ(h.flush(**b), 0);
  auto seen = pread_file(f.path(), 5 * 4096, w.size());
  EXPECT_EQ(std::memcmp(seen.data(), w.data(), w.size()), 0);

  fill_pattern(w.span(), 12);
  ASSERT_EQ(h.write(**b, 20, 3, w.data(), /*fua=*/true), 0);
  seen = pread_file(f.path(), 20 * 4096, w.size());
  EXPECT_EQ(std::memcmp(seen.data(), w.data(), w.size()), 0);

  ASSERT_EQ(h.write_zeroes(**b, 21, 1), 0);
  seen = pread_file(f.path(), 21 * 4096, 4096);
  EXPECT_TRUE(all_zero(seen));

  // unmap punches a hole: the blocks read as zeroes and no longer take space.
  aligned_buffer big(64 * 4096);
  fill_pattern(big.span(), 13);
  ASSERT_EQ(h.write(**b, 128, 64, big.data()), 0);
  ASSERT_EQ(h.flush(**b), 0);
  uint64_t before = allocated_bytes(f.path());
  ASSERT_EQ(h.unmap(**b, 128, 64), 0);
  EXPECT_TRUE(all_zero(pread_file(f.path(), 128 * 4096, 64 * 4096)));
  EXPECT_LE(allocated_bytes(f.path()) + 64 * 4096, before);
  EXPECT_EQ(h.inline_completions(), 0);
}

TEST_P(file_bdev_modes, a_file_that_shrinks_underneath_gives_eio) {
  temp_file f;
  ASSERT_TRUE(f.create("/tmp", 1 << 20));
  auto b = file_bdev::create("shrink", f.path(), 4096, false, std::nullopt, GetParam());
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(truncate(f.path().c_str(), (1 << 19) + 2048), 0);  // ends mid-block 128
  bdev_harness h;
  aligned_buffer buf(8 * 4096);
  EXPECT_EQ(h.read(**b, 124, 8, buf.data()), -EIO);  // short, then nothing: EOF
  EXPECT_EQ(h.read(**b, 200, 1, buf.data()), -EIO);
  EXPECT_EQ(h.read(**b, 0, 8, buf.data()), 0);
}

INSTANTIATE_TEST_SUITE_P(
    all, file_bdev_modes,
    ::testing::Values(file_bdev_options{}, file_bdev_options{.try_direct = false},
                      file_bdev_options{.use_uring = false},
                      file_bdev_options{.try_direct = false, .use_uring = false}),
    [](const auto& info) {
      return std::string(info.param.try_direct ? "direct" : "buffered") +
             (info.param.use_uring ? "_uring" : "_sync");
    });

TEST(file_bdev, ios_from_several_reactors_at_once) {
  temp_file f;
  ASSERT_TRUE(f.create("/tmp", 4 << 20));
  auto b = file_bdev::create("multi", f.path(), 4096, false, std::nullopt);
  ASSERT_TRUE(b.ok());
  bdev_harness h(2);
  constexpr int per_reactor = 64;
  std::vector<aligned_buffer> bufs;
  std::vector<bdev_io> ios(2 * per_reactor);
  for (int i = 0; i < 2 * per_reactor; ++i) {
    bufs.emplace_back(4096);
    fill_pattern(bufs.back().span(), i);
    ios[i] = h.make(bdev_op::write, static_cast<uint64_t>(i) * 3, 1, bufs.back().data());
  }
  std::span<bdev_io> all(ios);
  h.submit_on(0, **b, all.first(per_reactor));
  h.submit_on(1, **b, all.last(per_reactor));
  ASSERT_TRUE(h.wait());
  for (auto& io : ios) EXPECT_EQ(io.status, 0);
  for (int i = 0; i < 2 * per_reactor; ++i) {
    auto seen = pread_file(f.path(), static_cast<uint64_t>(i) * 3 * 4096, 4096);
    EXPECT_EQ(std::memcmp(seen.data(), bufs[i].data(), 4096), 0) << i;
  }
  EXPECT_EQ(h.inline_completions(), 0);
  EXPECT_EQ(h.wrong_thread_completions(), 0);
}

// A loop device over a temp file, detached when the last descriptor closes.
class loop_device {
 public:
  bool attach(const std::string& backing, uint32_t block_size) {
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) return false;
    int bfd = open(backing.c_str(), O_RDWR | O_CLOEXEC);
    for (int attempt = 0; attempt < 8 && fd_ < 0 && bfd >= 0; ++attempt) {
      int n = ioctl(ctl, LOOP_CTL_GET_FREE);
      if (n < 0) break;
      path_ = "/dev/loop" + std::to_string(n);
      int fd = open(path_.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0) break;
      loop_config cfg{};
      cfg.fd = static_cast<uint32_t>(bfd);
      cfg.block_size = block_size;
      cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
      if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
        fd_ = fd;
      else
        close(fd);  // raced with another user of that device: take the next free one
    }
    if (bfd >= 0) close(bfd);
    close(ctl);
    return fd_ >= 0;
  }
  ~loop_device() {
    if (fd_ >= 0) close(fd_);
  }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

TEST(file_bdev, block_device) {
  temp_file backing;
  ASSERT_TRUE(backing.create("/var/tmp", 8 << 20));
  loop_device loop;
  if (!loop.attach(backing.path(), 4096)) GTEST_SKIP() << "no loop device (needs root)";

  auto small = file_bdev::create("blk", loop.path(), 512, false, std::nullopt);
  ASSERT_FALSE(small.ok());  // smaller than the device's logical block size
  EXPECT_EQ(small.err().code, errc::invalid_argument);

  auto b = file_bdev::create("blk", loop.path(), 0, false, std::nullopt);
  ASSERT_TRUE(b.ok()) << b.err().message;
  EXPECT_TRUE((*b)->is_block_device());
  EXPECT_EQ((*b)->block_size(), 4096u);
  EXPECT_EQ((*b)->num_blocks(), 2048u);
  if ((*b)->direct()) {
    std::string name = loop.path().substr(5);  // "loopN"
    std::ifstream wc("/sys/block/" + name + "/queue/write_cache");
    std::string mode;
    std::getline(wc, mode);
    EXPECT_EQ((*b)->has_volatile_cache(), mode != "write through") << mode;
  }

  bdev_harness h;
  aligned_buffer w(16 * 4096), r(16 * 4096);
  fill_pattern(w.span(), 21);
  ASSERT_EQ(h.write(**b, 100, 16, w.data()), 0);
  ASSERT_EQ(h.flush(**b), 0);
  ASSERT_EQ(h.read(**b, 100, 16, r.data()), 0);
  EXPECT_EQ(std::memcmp(w.data(), r.data(), w.size()), 0);
  ASSERT_EQ(h.write_zeroes(**b, 101, 2), 0);
  ASSERT_EQ(h.unmap(**b, 110, 4), 0);
  ASSERT_EQ(h.read(**b, 100, 16, r.data()), 0);
  EXPECT_EQ(std::memcmp(w.data(), r.data(), 4096), 0);
  EXPECT_TRUE(all_zero(r.span().subspan(4096, 2 * 4096)));
  EXPECT_EQ(std::memcmp(w.data() + 3 * 4096, r.data() + 3 * 4096, 7 * 4096), 0);
  EXPECT_TRUE(all_zero(r.span().subspan(10 * 4096, 4 * 4096)));
  EXPECT_EQ(h.read(**b, 2048, 1, r.data()), -EINVAL);
}

}  // namespace
}  // namespace nvmfd::test
