// Our host against our target: every I/O type, digests off and on, verified data.
#include <gtest/gtest.h>

#include <future>
#include <random>

#include "host/host_controller.h"
#include "host/io_command.h"
#include "local_target.h"
#include "run_io.h"

namespace nvmfd {
namespace {

using test::run_io;

class host_io : public ::testing::TestWithParam<std::pair<bool, bool>> {};

TEST_P(host_io, writes_read_back_identical) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:io", 512, 65536);
  reactor_pool pool(1);
  controller_options o;
  o.hdgst = GetParam().first;
  o.ddgst = GetParam().second;
  transport_id id;
  id.traddr = "127.0.0.1";
  id.trsvcid = t.port_text();
  id.subnqn = "nqn.2016-06.io.nvmfd:io";
  auto c = host_controller::connect(pool, id, o);
  ASSERT_TRUE(c.ok()) << c.err().message;
  std::mt19937 rng(42);
  uint64_t lba = 0;
  for (uint32_t len : {512u, 4096u, 8192u, 65536u, 131072u, 1048576u}) {
    std::vector<std::byte> out(len), in(len);
    for (auto& b : out) b = static_cast<std::byte>(rng());
    uint32_t nlb = len / 512;
    auto w = run_io(pool, **c, make_rw(io_opcode::write, nsid_t{1}, lba, nlb), out.data(), len, true);
    ASSERT_TRUE(w.status.ok()) << len;
    auto r = run_io(pool, **c, make_rw(io_opcode::read, nsid_t{1}, lba, nlb), in.data(), len, false);
    ASSERT_TRUE(r.status.ok()) << len;
    EXPECT_EQ(in, out) << "length " << len;
    lba += nlb;
  }
  EXPECT_TRUE(run_io(pool, **c, make_flush(nsid_t{1}), nullptr, 0, false).status.ok());
  // Write Zeroes and deallocate read back as zeroes.
  std::vector<std::byte> in(4096), zero(4096);
  EXPECT_TRUE(run_io(pool, **c, make_rw(io_opcode::write_zeroes, nsid_t{1}, 0, 8), nullptr, 0, false).status.ok());
  EXPECT_TRUE(run_io(pool, **c, make_rw(io_opcode::read, nsid_t{1}, 0, 8), in.data(), 4096, false).status.ok());
  EXPECT_EQ(in, zero);
  dsm_range_wire range{};
  range.slba = 8;
  range.nlb = 8;
  EXPECT_TRUE(run_io(pool, **c, make_deallocate(nsid_t{1}, 1), reinterpret_cast<std::byte*>(&range), 16, true).status.ok());
  EXPECT_TRUE(run_io(pool, **c, make_rw(io_opcode::read, nsid_t{1}, 8, 8), in.data(), 4096, false).status.ok());
  EXPECT_EQ(in, zero);
  // Errors come back as NVMe statuses.
  auto bad = run_io(pool, **c, make_rw(io_opcode::read, nsid_t{1}, 65535, 2), in.data(), 1024, false);
  EXPECT_EQ(bad.status.sc, sc_generic::lba_out_of_range);
  auto badns = run_io(pool, **c, make_rw(io_opcode::read, nsid_t{9}, 0, 1), in.data(), 512, false);
  EXPECT_EQ(badns.status.sc, sc_generic::invalid_namespace_or_format);
  (*c)->disconnect();
}

TEST(host_io_sqflow, reads_complete_by_c2h_success_when_sq_flow_control_is_disabled) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:sqfc", 512, 4096);
  reactor_pool pool(1);
  controller_options o;
  o.disable_sq_flow_control = true;
  transport_id id;
  id.traddr = "127.0.0.1";
  id.trsvcid = t.port_text();
  id.subnqn = "nqn.2016-06.io.nvmfd:sqfc";
  auto c = host_controller::connect(pool, id, o);
  ASSERT_TRUE(c.ok()) << c.err().message;
  std::vector<std::byte> out(65536, std::byte{0x6b}), in(65536);
  ASSERT_TRUE(run_io(pool, **c, make_rw(io_opcode::write, nsid_t{1}, 0, 128), out.data(), 65536, true).status.ok());
  for (int i = 0; i < 50; ++i) {  // many reads: each must complete exactly once, with its data
    std::fill(in.begin(), in.end(), std::byte{0});
    ASSERT_TRUE(run_io(pool, **c, make_rw(io_opcode::read, nsid_t{1}, 0, 128), in.data(), 65536, false).status.ok());
    ASSERT_EQ(in, out);
  }
  (*c)->disconnect();
}

INSTANTIATE_TEST_SUITE_P(digests, host_io,
                         ::testing::Values(std::pair{false, false}, std::pair{true, false}, std::pair{false, true},
                                           std::pair{true, true}));

}  // namespace
}  // namespace nvmfd
