// Reservations that persist through power loss, against a real nvmfd process: a namespace
// with a ptpl_file in its config, hosts (the test client, two Host IDs) register with
// CPTPL = "persist" and acquire; nvmfd is killed with SIGKILL and started again from the same
// config, and the reservation is back. Then a stream of key replacements with SIGKILL at a
// random moment: the key nvmfd comes back with is the last one whose command completed, or
// the one in flight (whose completion the kill may have lost), never an older one: the
// file is written before each command completes.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "../host/free_port.h"
#include "proto/reservations.h"
#include "test_controller.h"
#include "tests/lib/wait_until.h"

namespace nvmfd {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:resv-restart";
constexpr const char* bdev_uuid = "5e1f0e2a-7c3b-4d8e-9f10-112233445566";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::byte> keys(uint64_t a, uint64_t b) {
  std::vector<std::byte> d(16);
  std::memcpy(d.data(), &a, 8);
  std::memcpy(d.data() + 8, &b, 8);
  return d;
}

// A reservation command with 16 bytes of key data sent by R2T.
nvme_sqe resv_sqe(io_opcode op, uint32_t cdw10) {
  nvme_sqe s = test_client::make_sqe(static_cast<uint8_t>(op), 1);
  test_client::set_sgl_transport(s, 16);
  s.cdw10 = cdw10;
  return s;
}

class reservation_restart_test : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nvmfd-resv-restart.XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
    port_ = test::free_port();
    sock_ = dir_ + "/rpc.sock";
    ptpl_ = dir_ + "/ns1.ptpl";
  }
  void TearDown() override {
    stop();
    if (!HasFailure()) std::system(("rm -rf " + dir_).c_str());
    else std::printf("[resv] kept %s (nvmfd.log)\n", dir_.c_str());
  }

  void start() {
    json cfg = {{"subsystems",
                 {{{"subsystem", "bdev"},
                   {"config", json::array({{{"method", "bdev_malloc_create"},
                                            {"params", {{"name", "Malloc0"}, {"num_blocks", 2048}, {"block_size", 512},
                                                        {"uuid", bdev_uuid}}}}})}},
                  {{"subsystem", "nvmf"},
                   {"config",
                    json::array(
                        {{{"method", "nvmf_create_transport"}, {"params", {{"trtype", "TCP"}}}},
                         {{"method", "nvmf_create_subsystem"}, {"params", {{"nqn", nqn}, {"allow_any_host", true}}}},
                         {{"method", "nvmf_subsystem_add_ns"},
                          {"params", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Malloc0"}, {"nsid", 1}, {"ptpl_file", ptpl_}}}}}},
                         {{"method", "nvmf_subsystem_add_listener"},
                          {"params", {{"nqn", nqn},
                                      {"listen_address",
                                       {{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", "127.0.0.1"},
                                        {"trsvcid", std::to_string(port_)}}}}}}})}}}}};
    const std::string path = dir_ + "/config.json";
    std::ofstream(path) << cfg.dump(1);
    pid_ = fork();
    if (pid_ == 0) {
      int log = open((dir_ + "/nvmfd.log").c_str(), O_CREAT | O_WRONLY | O_APPEND, 0600);
      dup2(log, 1);
      dup2(log, 2);
      execl(NVMFD_PATH, NVMFD_PATH, "-c", path.c_str(), "-r", sock_.c_str(), "-m", "0x1", nullptr);
      _exit(127);
    }
    ASSERT_GT(pid_, 0);
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // A host (its own NQN and Host ID) connected to nqn, admin and I/O queue.
  std::unique_ptr<test_controller> connect(const std::string& hostnqn, uint8_t id_byte) {
    test_controller_params p;
    p.addr = "127.0.0.1";
    p.port = port_;
    p.subnqn = nqn;
    p.opts.hostnqn = hostnqn;
    p.opts.hostid.bytes.fill(id_byte);
    std::unique_ptr<test_controller> c;
    wait_until(
        [&] {
          auto r = test_controller::connect(p);
          if (r) c = std::make_unique<test_controller>(std::move(*r));
          return r.ok();
        },
        30s);
    if (!c) ADD_FAILURE() << "cannot connect:\n" << slurp(dir_ + "/nvmfd.log");
    return c;
  }
  static nvme_status run(test_controller& c, io_opcode op, uint32_t cdw10, uint64_t k1, uint64_t k2) {
    auto r = c.io.execute(resv_sqe(op, cdw10), {}, keys(k1, k2));
    return r ? r->status() : nvme_status::generic(sc_generic::internal_error);
  }
  // The Reservation Report's type and registrants' keys.
  static std::pair<uint8_t, std::vector<uint64_t>> report(test_controller& c) {
    nvme_sqe s = test_client::make_sqe(static_cast<uint8_t>(io_opcode::reservation_report), 1);
    test_client::set_sgl_transport(s, 4096);
    s.cdw10 = 4096 / 4 - 1;
    s.cdw11 = 1;
    auto r = c.io.execute(s, {}, {}, 4096);
    std::pair<uint8_t, std::vector<uint64_t>> out;
    if (!r || r->data.size() < 64) {
      ADD_FAILURE() << "report failed";
      return out;
    }
    out.first = static_cast<uint8_t>(r->data[4]);
    uint16_t n = static_cast<uint16_t>(r->data[5]) | static_cast<uint16_t>(static_cast<uint16_t>(r->data[6]) << 8);
    for (uint16_t i = 0; i < n && 64 + 64u * (i + 1) <= r->data.size(); ++i) {
      uint64_t k;
      std::memcpy(&k, r->data.data() + 64 + 64 * i + 8, 8);
      out.second.push_back(k);
    }
    return out;
  }

  std::string dir_, sock_, ptpl_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

constexpr uint32_t register_persist = 0u | (3u << 30);  // RREGA register, CPTPL "persist"
constexpr uint32_t replace = 2u;

TEST_F(reservation_restart_test, a_reservation_with_ptpl_survives_sigkill) {
  start();
  auto a = connect("nqn.2024-01.io.nvmfd:resv-a", 0xa1);
  auto b = connect("nqn.2024-01.io.nvmfd:resv-b", 0xb2);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(run(*a, io_opcode::reservation_register, register_persist, 0, 0xA).ok());
  ASSERT_TRUE(run(*b, io_opcode::reservation_register, 0, 0, 0xB).ok());
  const uint32_t acquire_ea = static_cast<uint32_t>(reservation_type::exclusive_access) << 8;
  ASSERT_TRUE(run(*a, io_opcode::reservation_acquire, acquire_ea, 0xA, 0).ok());
  EXPECT_EQ(b->io.read(1, 0, 1, 512)->status(), nvme_status::generic(sc_generic::reservation_conflict));
  a.reset();
  b.reset();
  stop();
  start();
  auto b2 = connect("nqn.2024-01.io.nvmfd:resv-b", 0xb2);
  ASSERT_TRUE(b2);
  auto [type, regs] = report(*b2);
  EXPECT_EQ(type, static_cast<uint8_t>(reservation_type::exclusive_access));
  EXPECT_EQ(regs, (std::vector<uint64_t>{0xA, 0xB}));
  EXPECT_EQ(b2->io.read(1, 0, 1, 512)->status(), nvme_status::generic(sc_generic::reservation_conflict))
      << "A holds Exclusive Access again";
  auto a2 = connect("nqn.2024-01.io.nvmfd:resv-a", 0xa1);
  ASSERT_TRUE(a2);
  auto read = a2->io.read(1, 0, 1, 512);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status(), nvme_status::success());
}

TEST_F(reservation_restart_test, a_key_completed_before_sigkill_is_never_lost) {
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    start();
    auto a = connect("nqn.2024-01.io.nvmfd:resv-a", 0xa1);
    ASSERT_TRUE(a);
    uint64_t completed = 0;
    if (round == 0) {
      ASSERT_TRUE(run(*a, io_opcode::reservation_register, register_persist, 0, 1).ok());
    } else {
      completed = report(*a).second.at(0);
    }
    if (round == 0) completed = 1;
    std::atomic<uint64_t> last_done{completed}, in_flight{0};
    std::atomic<bool> dead{false};
    std::thread writer([&] {
      uint64_t key = last_done;
      while (!dead) {
        in_flight = key + 1;
        if (!run(*a, io_opcode::reservation_register, replace, key, key + 1).ok()) break;
        last_done = ++key;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 200));
    stop();
    dead = true;
    writer.join();
    a.reset();
    const uint64_t done = last_done, maybe = in_flight;
    ASSERT_GT(done, completed) << "no replacement completed before the kill";
    start();
    auto again = connect("nqn.2024-01.io.nvmfd:resv-a", 0xa1);
    ASSERT_TRUE(again);
    auto [type, regs] = report(*again);
    ASSERT_EQ(regs.size(), 1u);
    EXPECT_TRUE(regs[0] == done || regs[0] == maybe)
        << "came back with key " << regs[0] << "; last completed " << done << ", in flight " << maybe;
    again.reset();
    stop();
  }
}

}  // namespace
}  // namespace nvmfd
