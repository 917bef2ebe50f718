// Our host against our target with each reactor polling mode on both sides: the data is
// right in every mode (RAM reads sent in place, null reads from the shared zero region),
// an idle adaptive or event reactor sleeps, and an always-polling one never does.
#include <gtest/gtest.h>

#include <future>
#include <random>
#include <thread>

#include "host/host_controller.h"
#include "host/io_command.h"
#include "local_target.h"
#include "run_io.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

using test::run_io;

uint64_t slept_ns_of(reactor_pool& pool) {
  uint64_t n = 0;
  for (unsigned i = 0; i < pool.size(); ++i) n += pool.at(i).counters().slept_ns();
  return n;
}

class poll_modes : public ::testing::TestWithParam<poll_mode> {};

TEST_P(poll_modes, data_is_right_and_idle_reactors_sleep_unless_always_polling) {
  poll_settings s{GetParam(), 50us};
  test::local_target t(1, s);
  t.add_subsystem("nqn.2016-06.io.nvmfd:poll", 512, 65536);
  t.call("bdev_null_create", {{"name", "Null0"}, {"block_size", 512}, {"num_blocks", 65536}});
  t.call("nvmf_create_subsystem", {{"nqn", "nqn.2016-06.io.nvmfd:pollnull"}, {"allow_any_host", true}});
  t.call("nvmf_subsystem_add_ns", {{"nqn", "nqn.2016-06.io.nvmfd:pollnull"}, {"namespace", {{"bdev_name", "Null0"}}}});
  t.call("nvmf_subsystem_add_listener", {{"nqn", "nqn.2016-06.io.nvmfd:pollnull"},
                                         {"listen_address", {{"trtype", "TCP"}, {"traddr", "127.0.0.1"},
                                                             {"trsvcid", t.port_text()}}}});
  reactor_pool pool(1, {}, s);
  transport_id id;
  id.traddr = "127.0.0.1";
  id.trsvcid = t.port_text();
  id.subnqn = "nqn.2016-06.io.nvmfd:poll";
  auto c = host_controller::connect(pool, id, {});
  ASSERT_TRUE(c.ok()) << c.err().message;
  id.subnqn = "nqn.2016-06.io.nvmfd:pollnull";
  auto cn = host_controller::connect(pool, id, {});
  ASSERT_TRUE(cn.ok()) << cn.err().message;

  std::mt19937 rng(7);
  for (int round = 0; round < 40; ++round) {
    uint32_t len = 512u << (rng() % 9);  // 512 B .. 128 KiB: in-capsule and R2T writes
    uint32_t nlb = len / 512;
    uint64_t lba = rng() % (65536 - nlb);
    std::vector<std::byte> out(len), in(len, std::byte{0xee});
    for (auto& b : out) b = static_cast<std::byte>(rng());
    ASSERT_TRUE(run_io(pool, **c, make_rw(io_opcode::write, nsid_t{1}, lba, nlb), out.data(), len, true).status.ok());
    ASSERT_TRUE(run_io(pool, **c, make_rw(io_opcode::read, nsid_t{1}, lba, nlb), in.data(), len, false).status.ok());
    ASSERT_EQ(in, out) << "RAM read in place, round " << round << ", " << len << " bytes at " << lba;
    std::vector<std::byte> z(len, std::byte{0xee});
    ASSERT_TRUE(run_io(pool, **cn, make_rw(io_opcode::read, nsid_t{1}, lba, nlb), z.data(), len, false).status.ok());
    ASSERT_EQ(z, std::vector<std::byte>(len)) << "null read, " << len << " bytes";
  }
  // A read past the end of the null namespace is still refused.
  std::vector<std::byte> in(1024);
  EXPECT_EQ(run_io(pool, **cn, make_rw(io_opcode::read, nsid_t{1}, 65535, 2), in.data(), 1024, false).status.sc,
            sc_generic::lba_out_of_range);

  // Idle for a while: the reactors of both sides sleep most of it, or (always) not at all.
  // Real time on purpose: what is measured is time the reactor threads spend blocked.
  uint64_t target_before = slept_ns_of(t.pool()), host_before = slept_ns_of(pool);
  std::this_thread::sleep_for(400ms);
  uint64_t target_slept = slept_ns_of(t.pool()) - target_before, host_slept = slept_ns_of(pool) - host_before;
  if (GetParam() == poll_mode::always) {
    EXPECT_EQ(target_slept, 0u);
    EXPECT_EQ(host_slept, 0u);
  } else {
    EXPECT_GT(target_slept, 300'000'000u);
    EXPECT_GT(host_slept, 300'000'000u);
  }
  (*c)->disconnect();
  (*cn)->disconnect();
}

INSTANTIATE_TEST_SUITE_P(modes, poll_modes,
                         ::testing::Values(poll_mode::adaptive, poll_mode::event, poll_mode::always),
                         [](const auto& info) { return std::string(to_string(info.param)); });

}  // namespace
}  // namespace nvmfd
