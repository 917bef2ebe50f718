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

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../host/free_port.h"
#include "proto/reservations.h"
#include "syscall_trace.h"
#include "test_controller.h"
#include "tests/lib/wait_until.h"

namespace nvmfd {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:resv-restart";
constexpr const char* bdev_uuid = "5e1f0e2a-7c3b-4d8e-9f10-112233445566";
constexpr const char* strace_path = "/usr/bin/strace";

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

// --- the order of a durable write and the completion, in an strace of nvmfd ---

using test::traced_call;

bool is_send(const traced_call& c) {
  return c.name == "sendmsg" || c.name == "sendto" || c.name == "write" || c.name == "writev";
}
bool is_open(const traced_call& c) { return c.name == "open" || c.name == "openat" || c.name == "creat"; }
bool is_fsync(const traced_call& c) { return c.name == "fsync" || c.name == "fdatasync"; }

// The NVMe/TCP PDUs of a send of nvmfd: (type, the CID the PDU is about) for R2T (CCCID)
// and CapsuleResp (the CQE's CID).
std::vector<std::pair<uint8_t, uint16_t>> pdus(const std::string& b) {
  std::vector<std::pair<uint8_t, uint16_t>> out;
  auto u16 = [&](size_t at) { return static_cast<uint16_t>(uint8_t(b[at]) | (uint8_t(b[at + 1]) << 8)); };
  for (size_t off = 0; off + 8 <= b.size();) {
    const uint32_t plen = uint32_t(uint8_t(b[off + 4])) | uint32_t(uint8_t(b[off + 5])) << 8 |
                          uint32_t(uint8_t(b[off + 6])) << 16 | uint32_t(uint8_t(b[off + 7])) << 24;
    if (plen < 8 || off + plen > b.size()) break;
    const auto type = static_cast<uint8_t>(b[off]);
    if (type == 0x09 && plen >= 12) out.emplace_back(type, u16(off + 8));   // R2T: CCCID
    if (type == 0x05 && plen >= 24) out.emplace_back(type, u16(off + 20));  // CapsuleResp: CQE CID
    off += plen;
  }
  return out;
}

// A send (begun) of that PDU. Its return may be missing ("= ?"): the test has the completion
// and kills nvmfd, maybe before strace saw the call return.
bool sends_pdu(const traced_call& c, uint8_t type, uint16_t cid) {
  if (!is_send(c) || (c.ret && *c.ret <= 0)) return false;
  for (auto& p : pdus(c.bytes()))
    if (p == std::pair{type, cid}) return true;
  return false;
}

// The index of the first call at or after `from` that matches, or calls.size().
template <class F>
size_t find_from(const std::vector<traced_call>& calls, size_t from, F match) {
  for (size_t i = from; i < calls.size(); ++i)
    if (match(calls[i])) return i;
  return calls.size();
}

std::string show(const traced_call& c) {
  return fmt::format("line {}: {}({}) = {}", c.exit_line + 1, c.name, c.args.substr(0, 120),
                     c.ret ? std::to_string(*c.ret) : "?");
}

// For the durable write that begins at calls[open] (creating file + ".tmp"): the text is
// written to the temporary file and fsynced, renamed over file, the directory fsynced, each
// step after the previous one returned, and only then the CapsuleResp of command cid is sent
// (on the connection that sent its R2T). Returns the text written.
std::string expect_durable_before_completion(const std::vector<traced_call>& calls, size_t open, const std::string& file,
                                             uint16_t cid) {
  const std::string tmp = file + ".tmp";
  const std::string dir = file.substr(0, file.rfind('/'));
  const traced_call& created = calls[open];
  EXPECT_NE(created.args.find("O_TRUNC"), std::string::npos) << show(created);
  if (!created.ret || *created.ret < 0) {
    ADD_FAILURE() << "cannot create the temporary file: " << show(created);
    return {};
  }
  const int64_t fd = *created.ret;
  // The text: every write to fd until it is fsynced.
  std::string text;
  size_t i = open + 1;
  for (; i < calls.size(); ++i) {
    const traced_call& c = calls[i];
    if (c.first_number() != fd) continue;
    if (c.name == "write" || c.name == "pwrite64") {
      EXPECT_TRUE(c.ret && *c.ret >= 0) << show(c);
      text += c.bytes().substr(0, c.ret ? static_cast<size_t>(*c.ret) : 0);
      continue;
    }
    break;
  }
  if (i == calls.size() || !is_fsync(calls[i]) || calls[i].ret != 0) {
    ADD_FAILURE() << "the temporary file is not fsynced after its writes"
                  << (i < calls.size() ? "; next on its fd: " + show(calls[i]) : "");
    return text;
  }
  const traced_call& data_synced = calls[i];
  const size_t renamed = find_from(calls, i + 1, [&](const traced_call& c) {
    auto s = c.strings();
    return c.name.rfind("rename", 0) == 0 && s.size() == 2 && s[0] == tmp && s[1] == file;
  });
  if (renamed == calls.size() || calls[renamed].ret != 0) {
    ADD_FAILURE() << "no rename of " << tmp << " over " << file << " after its fsync";
    return text;
  }
  EXPECT_GT(calls[renamed].entry_line, data_synced.exit_line) << "rename before the data's fsync returned";
  const size_t dir_open = find_from(calls, renamed + 1, [&](const traced_call& c) {
    auto s = c.strings();
    return is_open(c) && !s.empty() && s[0] == dir && c.args.find("O_DIRECTORY") != std::string::npos;
  });
  if (dir_open == calls.size() || !calls[dir_open].ret || *calls[dir_open].ret < 0) {
    ADD_FAILURE() << "the directory " << dir << " is not opened after the rename";
    return text;
  }
  const size_t dir_synced = find_from(calls, dir_open + 1, [&](const traced_call& c) {
    return is_fsync(c) && c.first_number() == calls[dir_open].ret;
  });
  if (dir_synced == calls.size() || calls[dir_synced].ret != 0) {
    ADD_FAILURE() << "the directory " << dir << " is not fsynced after the rename";
    return text;
  }
  EXPECT_GT(calls[dir_open].entry_line, calls[renamed].exit_line);
  // The command's connection: the one its R2T went on, before the write began.
  size_t r2t = calls.size();
  for (size_t k = 0; k < open; ++k)
    if (sends_pdu(calls[k], 0x09, cid)) r2t = k;
  if (r2t == calls.size()) {
    ADD_FAILURE() << "no R2T for CID " << cid << " before the write";
    return text;
  }
  const auto conn = calls[r2t].first_number();
  const size_t sent = find_from(calls, r2t + 1, [&](const traced_call& c) {
    return c.first_number() == conn && sends_pdu(c, 0x05, cid);
  });
  if (sent == calls.size()) {
    ADD_FAILURE() << "the completion of CID " << cid << " is not in the trace";
    return text;
  }
  EXPECT_GT(calls[sent].entry_line, calls[dir_synced].exit_line)
      << "the completion was sent before the file was durable:\n  " << show(calls[sent]) << "\n  directory fsync "
      << show(calls[dir_synced]);
  EXPECT_GT(calls[sent].entry_line, data_synced.exit_line);
  EXPECT_GT(calls[sent].entry_line, calls[renamed].exit_line);
  return text;
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
      if (trace_.empty()) {
        execl(NVMFD_PATH, NVMFD_PATH, "-c", path.c_str(), "-r", sock_.c_str(), "-m", "0x1", nullptr);
      } else {
        // Sends as system calls (sendmsg), not io_uring submissions, so that strace sees them.
        setenv("NVMFD_IO_BACKEND", "epoll", 1);
        execl(strace_path, strace_path, "-f", "-qq", "-ttt", "-xx", "-s", "65536", "-o", trace_.c_str(), "-e",
              "trace=open,openat,creat,write,pwrite64,writev,sendmsg,sendto,fsync,fdatasync,sync_file_range,rename,"
              "renameat,renameat2,unlink,close",
              NVMFD_PATH, "-c", path.c_str(), "-r", sock_.c_str(), "-m", "0x1", nullptr);
      }
      _exit(127);
    }
    ASSERT_GT(pid_, 0);
  }
  void stop() {
    if (pid_ <= 0) return;
    // Under strace, nvmfd is strace's child: kill it, and strace ends with it.
    if (!trace_.empty()) {
      const std::string kids = slurp(fmt::format("/proc/{}/task/{}/children", pid_, pid_));
      if (pid_t nvmfd = static_cast<pid_t>(std::atoi(kids.c_str())); nvmfd > 0) kill(nvmfd, SIGKILL);
      else kill(pid_, SIGKILL);
    } else {
      kill(pid_, SIGKILL);
    }
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
  std::string trace_;  // when set, nvmfd runs under strace, which writes this file
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

// What a writer that is not durable could leave after a power cut, a ptpl file cut short:
// nvmfd does not start (it would otherwise serve the namespace without the reservation),
// and says which file and why.
TEST_F(reservation_restart_test, a_truncated_ptpl_file_stops_nvmfd_at_start_and_is_named) {
  start();
  auto a = connect("nqn.2024-01.io.nvmfd:resv-a", 0xa1);
  ASSERT_TRUE(a);
  ASSERT_TRUE(run(*a, io_opcode::reservation_register, register_persist, 0, 0xA).ok());
  a.reset();
  stop();
  const std::string whole = slurp(ptpl_);
  ASSERT_GT(whole.size(), 20u);
  std::ofstream(ptpl_, std::ios::trunc) << whole.substr(0, whole.size() / 2);
  start();
  int status = 0;
  wait_until([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, 30s);
  ASSERT_TRUE(WIFEXITED(status)) << "nvmfd still running with a truncated ptpl file";
  pid_ = -1;
  EXPECT_NE(WEXITSTATUS(status), 0);
  const std::string log = slurp(dir_ + "/nvmfd.log");
  EXPECT_NE(log.find("reservation file " + ptpl_ + " is not usable: not JSON (truncated?)"), std::string::npos) << log;
}

// The power-cut half of PTPL: what a command's completion promises is on disk when the host
// sees it. nvmfd runs under strace (its epoll backend: sends are system calls); for a
// Register (CPTPL persist) and an Acquire, the trace shows the ptpl file written to a
// temporary file, fsynced, renamed over the file, the directory fsynced, and only then the
// command's CapsuleResp sent. (What each step leaves after a power cut: durable_file_test.)
TEST_F(reservation_restart_test, the_ptpl_file_is_on_disk_before_the_command_completes) {
  if (access(strace_path, X_OK) != 0)
    GTEST_SKIP() << strace_path << " is not installed (apt-get install strace): the order of the durable write "
                 << "and the completion is not checked";
  if (std::system(fmt::format("{} -f -qq -o /dev/null /bin/true >/dev/null 2>&1", strace_path).c_str()) != 0)
    GTEST_SKIP() << strace_path << " cannot trace here (ptrace not permitted?): the order of the durable write "
                 << "and the completion is not checked";
  trace_ = dir_ + "/nvmfd.strace";
  start();
  auto a = connect("nqn.2024-01.io.nvmfd:resv-a", 0xa1);
  ASSERT_TRUE(a);
  auto reg = a->io.execute(resv_sqe(io_opcode::reservation_register, register_persist), {}, keys(0, 0xA));
  ASSERT_TRUE(reg.ok() && reg->status().ok());
  const uint32_t acquire_we = static_cast<uint32_t>(reservation_type::write_exclusive) << 8;
  auto acq = a->io.execute(resv_sqe(io_opcode::reservation_acquire, acquire_we), {}, keys(0xA, 0));
  ASSERT_TRUE(acq.ok() && acq->status().ok());
  const std::string on_disk = slurp(ptpl_);
  a.reset();
  stop();  // strace ends with nvmfd, its trace complete

  const auto calls = test::parse_strace(slurp(trace_));
  std::vector<size_t> writes;  // where each durable write begins
  for (size_t i = 0; i < calls.size(); ++i) {
    auto s = calls[i].strings();
    if (is_open(calls[i]) && !s.empty() && s[0] == ptpl_ + ".tmp") writes.push_back(i);
  }
  ASSERT_FALSE(writes.empty()) << "no durable write of " << ptpl_ << " in " << trace_;
  const std::string registered = expect_durable_before_completion(calls, writes[0], ptpl_, reg->cpl.cid());
  ASSERT_EQ(writes.size(), 2u) << "one durable write per command";
  const std::string acquired = expect_durable_before_completion(calls, writes[1], ptpl_, acq->cpl.cid());
  auto first = json::parse(registered, nullptr, false);
  ASSERT_FALSE(first.is_discarded()) << registered;
  EXPECT_EQ(first["registrants"].size(), 1u);
  EXPECT_EQ(first["rtype"], 0);
  EXPECT_EQ(acquired, on_disk) << "the file holds what the last write wrote";
  EXPECT_EQ(json::parse(acquired)["rtype"], 1);
  if (HasFailure()) std::printf("[resv] strace of nvmfd: %s\n", trace_.c_str());
}

}  // namespace
}  // namespace nvmfd
