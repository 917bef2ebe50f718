// NVM I/O commands (NVM Command Set 1.0 section 3) through the handlers, over a fake
// transport: what prepare refuses before any data moves, what execution does on the bdev,
// and how a bdev's errno becomes an NVMe status.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <numeric>

#include "bdev/fault_bdev.h"
#include "bdev/volatile_cache_bdev.h"
#include "handler_harness.h"

namespace nvmfd {
namespace {

using namespace want;
constexpr auto out_of_range = want::lba_out_of_range;

nvme_sqe read(uint32_t nsid, uint64_t slba, uint32_t nlb, uint32_t block_size = 512) {
  return sqe::rw(io_opcode::read, nsid, slba, nlb, nlb * block_size);
}
nvme_sqe write(uint32_t nsid, uint64_t slba, uint32_t nlb, uint32_t block_size = 512) {
  return sqe::rw(io_opcode::write, nsid, slba, nlb, nlb * block_size);
}
nvme_sqe write_zeroes(uint32_t nsid, uint64_t slba, uint32_t nlb) {
  return sqe::rw(io_opcode::write_zeroes, nsid, slba, nlb, 0);
}
// Dataset Management with `ranges` ranges in sgl_len bytes; deallocate: the AD attribute.
nvme_sqe dsm(uint32_t nsid, uint32_t ranges, uint32_t sgl_len, bool deallocate = true) {
  nvme_sqe s = sqe::make(static_cast<uint8_t>(io_opcode::dataset_management), nsid, sgl_len);
  s.cdw10 = ranges - 1;
  s.cdw11 = deallocate ? 1u << 2 : 0u;
  return s;
}
// DSM range data (NVM Command Set 1.0 Figure 39): context attributes, NLB, SLBA.
std::vector<std::byte> dsm_ranges(std::initializer_list<std::pair<uint64_t, uint32_t>> ranges) {
  std::vector<std::byte> out;
  for (auto [slba, nlb] : ranges) {
    std::byte r[16]{};
    le32 n;
    n = nlb;
    le64 s;
    s = slba;
    std::memcpy(r + 4, &n, 4);
    std::memcpy(r + 8, &s, 8);
    out.insert(out.end(), r, r + 16);
  }
  return out;
}
std::vector<std::byte> pattern(size_t n, uint8_t seed) {
  std::vector<std::byte> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::byte(uint8_t(seed + i * 7));
  return v;
}
bool all_zero(const std::vector<std::byte>& v) {
  return std::all_of(v.begin(), v.end(), [](std::byte b) { return b == std::byte{0}; });
}

// On open_nqn: nsid 1 is 2048 blocks of 512 bytes, nsid 2 is 64 blocks of 4 KiB; max 8.
TEST(io_commands_test, prepare_rows) {
  struct row {
    const char* name;
    nvme_sqe cmd;
    nvme_status status;
  };
  auto with_sgl = [](nvme_sqe s, uint32_t len) {
    s.sgl.length = len;
    return s;
  };
  const row rows[] = {
      {"unknown opcode", sqe::make(0x7e, 1), nvme_status::generic(sc_generic::invalid_opcode)},
      {"nsid 0", read(0, 0, 1), invalid_ns},
      {"inactive nsid", read(3, 0, 1), invalid_ns},
      {"nsid above max_namespaces", read(9, 0, 1), invalid_ns},
      {"broadcast nsid", read(0xffffffffu, 0, 1), invalid_ns},
      {"the last block", read(1, 2047, 1), ok},
      {"one block past the end", read(1, 2047, 2), out_of_range},
      {"SLBA 2^40", read(1, uint64_t{1} << 40, 1), out_of_range},
      {"SLBA + NLB wraps past 2^64", write(1, ~uint64_t{0}, 2), out_of_range},
      {"the last 4 KiB block", read(2, 63, 1, 4096), ok},
      {"past the end of the 4 KiB namespace", write(2, 60, 8, 4096), out_of_range},
      {"above max_io_size (512-byte blocks)", read(1, 0, 257), invalid_field},
      {"above max_io_size (4 KiB blocks)", read(2, 0, 33, 4096), invalid_field},
      {"SGL length is not NLB x block size", with_sgl(read(1, 0, 8), 512), sgl_length},
      {"write zeroes past the end", write_zeroes(1, 2048, 1), out_of_range},
      {"write zeroes", write_zeroes(1, 0, 16), ok},
      {"flush", sqe::make(static_cast<uint8_t>(io_opcode::flush), 1), ok},
      {"DSM: 2 ranges in 16 bytes", dsm(1, 2, 16), sgl_length},
      {"DSM: more than 4 KiB", dsm(1, 1, 8192), sgl_length},
  };
  handler_harness h;
  auto p = h.connect_pair();
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    EXPECT_EQ(h.execute(*p.io, r.cmd).status, r.status);
  }
}

TEST(io_commands_test, write_then_read_on_both_block_sizes) {
  handler_harness h;
  auto p = h.connect_pair();
  struct row {
    uint32_t nsid, block_size;
    uint64_t slba;
    uint32_t nlb;
  };
  for (const row& r : {row{1, 512, 100, 16}, row{2, 4096, 7, 4}}) {
    SCOPED_TRACE(r.nsid);
    auto data = pattern(size_t{r.nlb} * r.block_size, uint8_t(r.nsid));
    auto w = h.execute(*p.io, write(r.nsid, r.slba, r.nlb, r.block_size), data);
    ASSERT_EQ(w.status, ok);
    EXPECT_TRUE(w.data.empty());
    EXPECT_EQ(w.cqe.sqid.get(), 1);
    auto rd = h.execute(*p.io, read(r.nsid, r.slba, r.nlb, r.block_size));
    ASSERT_EQ(rd.status, ok);
    EXPECT_EQ(rd.data, data);
    // Write Zeroes, then the range reads as zeroes.
    ASSERT_EQ(h.execute(*p.io, write_zeroes(r.nsid, r.slba, r.nlb)).status, ok);
    auto z = h.execute(*p.io, read(r.nsid, r.slba, r.nlb, r.block_size));
    ASSERT_EQ(z.status, ok);
    EXPECT_TRUE(all_zero(z.data));
  }
  EXPECT_EQ(h.execute(*p.io, sqe::make(static_cast<uint8_t>(io_opcode::flush), 1)).status, ok);
}

TEST(io_commands_test, dataset_management) {
  handler_harness h;
  auto p = h.connect_pair();
  auto data = pattern(512 * 32, 3);
  ASSERT_EQ(h.execute(*p.io, write(1, 0, 32), data).status, ok);

  // Without AD the ranges are hints: nothing changes.
  ASSERT_EQ(h.execute(*p.io, dsm(1, 1, 16, false), dsm_ranges({{0, 8}})).status, ok);
  EXPECT_EQ(h.execute(*p.io, read(1, 0, 32)).data, data);
  // A range past the end fails the whole command before anything is deallocated.
  EXPECT_EQ(h.execute(*p.io, dsm(1, 2, 32), dsm_ranges({{0, 8}, {2040, 9}})).status, out_of_range);
  EXPECT_EQ(h.execute(*p.io, read(1, 0, 32)).data, data);
  // Two ranges (and an empty one in between, skipped).
  ASSERT_EQ(h.execute(*p.io, dsm(1, 3, 48), dsm_ranges({{0, 8}, {12, 0}, {16, 8}})).status, ok);
  auto after = h.execute(*p.io, read(1, 0, 32)).data;
  ASSERT_EQ(after.size(), data.size());
  EXPECT_TRUE(all_zero({after.begin(), after.begin() + 8 * 512}));
  EXPECT_TRUE(std::equal(after.begin() + 8 * 512, after.begin() + 16 * 512, data.begin() + 8 * 512));
  EXPECT_TRUE(all_zero({after.begin() + 16 * 512, after.begin() + 24 * 512}));
  EXPECT_TRUE(std::equal(after.begin() + 24 * 512, after.end(), data.begin() + 24 * 512));
}

TEST(io_commands_test, ana_path_statuses) {
  handler_harness h;
  const std::string nqn = "nqn.2024-01.io.nvmfd:unit-ana-io";
  std::vector<std::shared_ptr<bdev>> disks;
  for (int i = 1; i <= 4; ++i) disks.push_back(ram_disk("unit-ana-io-" + std::to_string(i), 512, 64));
  h.add_subsystem(nqn, disks, true);
  h.set_ana_state(nqn, 1, ana_state::inaccessible);
  h.set_ana_state(nqn, 2, ana_state::persistent_loss);
  h.set_ana_state(nqn, 3, ana_state::change);
  h.set_ana_state(nqn, 4, ana_state::non_optimized);
  auto p = h.connect_pair(nqn);
  struct row {
    const char* name;
    uint32_t nsid;
    nvme_status status;
  };
  // Base 2.0 8.20.3: path-related statuses, DNR clear (another path may do).
  const row rows[] = {
      {"inaccessible", 1, nvme_status::path(sc_path::ana_inaccessible)},
      {"persistent loss", 2, nvme_status::path(sc_path::ana_persistent_loss)},
      {"change", 3, nvme_status::path(sc_path::ana_transition)},
      {"non-optimized takes I/O", 4, ok},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    EXPECT_EQ(h.execute(*p.io, read(r.nsid, 0, 1)).status, r.status);
    EXPECT_EQ(h.execute(*p.io, write(r.nsid, 0, 1)).status, r.status);
  }
  // A state change reaches the queue's next command (new namespace snapshot).
  h.set_ana_state(nqn, 1, ana_state::optimized);
  EXPECT_EQ(h.execute(*p.io, read(1, 0, 1)).status, ok);
}

TEST(io_commands_test, bdev_errno_rows) {
  struct row {
    const char* name;
    bdev_op op;
    int err;
    nvme_status status;
  };
  const row rows[] = {
      {"read EINVAL", bdev_op::read, EINVAL, out_of_range},
      {"read EIO", bdev_op::read, EIO, nvme_status::media(sc_media::unrecovered_read_error)},
      {"write EIO", bdev_op::write, EIO, nvme_status::media(sc_media::write_fault)},
      {"write EROFS", bdev_op::write, EROFS, nvme_status::generic(sc_generic::namespace_is_write_protected)},
      {"write EPERM", bdev_op::write, EPERM, nvme_status::generic(sc_generic::namespace_is_write_protected)},
      {"write ENOSPC", bdev_op::write, ENOSPC, nvme_status::generic(sc_generic::capacity_exceeded)},
      {"flush EOPNOTSUPP", bdev_op::flush, EOPNOTSUPP, nvme_status::generic(sc_generic::invalid_opcode)},
      {"write zeroes ENOMEM (any other)", bdev_op::write_zeroes, ENOMEM,
       nvme_status::generic(sc_generic::internal_error, false)},
  };
  handler_harness h;
  const std::string nqn = "nqn.2024-01.io.nvmfd:unit-fault";
  auto faulty = fault_bdev::create("unit-fault", ram_disk("unit-fault-inner", 512, 256));
  ASSERT_TRUE(faulty.ok());
  h.add_subsystem(nqn, {faulty.value()});
  auto p = h.connect_pair(nqn);
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    faulty.value()->fail_nth(r.op, 1, r.err);
    nvme_sqe cmd;
    switch (r.op) {
      case bdev_op::read: cmd = read(1, 0, 1); break;
      case bdev_op::write: cmd = write(1, 0, 1); break;
      case bdev_op::flush: cmd = sqe::make(static_cast<uint8_t>(io_opcode::flush), 1); break;
      default: cmd = write_zeroes(1, 0, 1); break;
    }
    auto c = h.execute(*p.io, cmd);
    EXPECT_EQ(c.status, r.status);
    EXPECT_TRUE(c.data.empty()) << "no data with a failed read";
  }
}

// Write Zeroes with FUA (CDW12 bit 30) reaches stable storage before it completes: on a disk
// with a volatile write cache the zeroes go to the medium, not into the cache (once a hole:
// the bit was ignored and the zeroes stayed in the cache, lost on a power cut).
TEST(io_commands_test, write_zeroes_with_fua_is_durable_when_it_completes) {
  char path[] = "/tmp/nvmfd-unit-wz-fua.XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::vector<std::byte> ones(64 * 512, std::byte{0xff});
  ASSERT_EQ(::pwrite(fd, ones.data(), ones.size(), 0), static_cast<ssize_t>(ones.size()));
  ::close(fd);
  {
    auto disk = volatile_cache_bdev::create("unit-wz-fua", path, 512, std::nullopt);
    ASSERT_TRUE(disk.ok());
    handler_harness h;
    const std::string nqn = "nqn.2024-01.io.nvmfd:unit-wz-fua";
    h.add_subsystem(nqn, {disk.value()});
    auto p = h.connect_pair(nqn);
    auto plain = write_zeroes(1, 0, 8);
    EXPECT_EQ(h.execute(*p.io, plain).status, nvme_status::success());
    EXPECT_EQ(disk.value()->cached_blocks(), 8u) << "without FUA the zeroes may stay in the cache";
    auto fua = write_zeroes(1, 16, 8);
    fua.cdw12 = fua.cdw12.get() | (1u << 30);
    EXPECT_EQ(h.execute(*p.io, fua).status, nvme_status::success());
    EXPECT_EQ(disk.value()->cached_blocks(), 8u) << "the FUA zeroes went into the volatile cache";
    disk.value()->power_cut();
    auto back = h.execute(*p.io, read(1, 16, 8));
    ASSERT_EQ(back.status, nvme_status::success());
    EXPECT_TRUE(all_zero(back.data)) << "the FUA zeroes were lost with the cache";
  }
  ::unlink(path);
}

}  // namespace
}  // namespace nvmfd
