// Crash tests of logical volumes with honest FLUSH (issue 6). nvmfd runs as a child process
// and exports a thin volume (64 KiB clusters, so that every round allocates) of an lvol
// store on a file over NVMe/TCP. Writer threads write versioned 4 KiB units, a flusher
// flushes at random moments, and nvmfd is killed with SIGKILL at a random moment. After each
// restart the store loads again and every unit must read back as the version the last
// completed flush made durable, or as a version written after it (those may or may not have
// landed): never older, never garbage, never another unit's data.
//  - kill: the base is bdev_aio_create (the page cache keeps what the killed process wrote);
//  - power: the base is bdev_volatile_cache_create, which keeps unflushed writes in nvmfd's
//    memory only: SIGKILL loses every write that no flush covered, as a power cut does.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "nvmfd/host.h"
#include "../host/free_port.h"
#include "tests/lib/wait_until.h"

namespace nvmfd {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr uint64_t unit_bytes = 4096;
constexpr uint64_t unit_blocks = unit_bytes / 512;
constexpr uint64_t volume_mib = 32;
constexpr uint64_t units = volume_mib * (1 << 20) / unit_bytes;
constexpr const char* nqn = "nqn.2016-06.io.nvmfd:lvol-crash";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The content of version v of unit u: its identity in the first 16 bytes, then a pattern.
void fill_unit(std::byte* p, uint64_t u, uint32_t v) {
  if (v == 0) return std::memset(p, 0, unit_bytes), void();
  uint64_t x = (u << 32 | v) * 0x9E3779B97F4A7C15ull + 1;
  for (uint64_t i = 0; i < unit_bytes; i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(p + i, &x, 8);
  }
  std::memcpy(p, &u, 8);
  std::memcpy(p + 8, &v, 4);
}

// What the client knows of every unit it wrote.
class model {
 public:
  // A writer thread's next version of u (only that thread writes u).
  uint32_t begin_write(uint64_t u) {
    std::lock_guard lk(mu_);
    auto& s = units_[u];
    uint32_t v = ++s.next;
    s.since.push_back({v, UINT64_MAX});
    return v;
  }
  void end_write(uint64_t u, uint32_t v) {
    std::lock_guard lk(mu_);
    uint64_t seq = ++done_seq_;
    for (auto& e : units_[u].since)
      if (e.first == v) e.second = seq;
  }
  uint64_t flush_point() {
    std::lock_guard lk(mu_);
    return done_seq_;
  }
  // A flush submitted after flush_point() returned seq0 completed: what completed by then is durable.
  void flushed(uint64_t seq0) {
    std::lock_guard lk(mu_);
    for (auto& [u, s] : units_) {
      for (auto& [v, seq] : s.since)
        if (seq <= seq0 && v > s.durable) s.durable = v;
      std::erase_if(s.since, [&](auto& e) { return e.first <= s.durable; });
    }
  }
  // Checks the volume against the model; afterwards the model is what was found.
  void verify(nvme_host& host, host_controller& c, const char* when) {
    std::lock_guard lk(mu_);
    std::vector<std::byte> got(unit_bytes), want(unit_bytes);
    uint64_t checked = 0, newer = 0;
    for (auto& [u, s] : units_) {
      auto r = host.read(c, nsid_t{1}, u * unit_blocks, got);
      ASSERT_TRUE(r.ok()) << when << ": read of unit " << u << ": " << r.err().message;
      std::vector<uint32_t> ok{s.durable};
      for (auto& [v, seq] : s.since) ok.push_back(v);
      bool found = false;
      for (uint32_t v : ok) {
        fill_unit(want.data(), u, v);
        if (std::memcmp(got.data(), want.data(), unit_bytes) == 0) {
          newer += v != s.durable;
          s.durable = v;
          found = true;
          break;
        }
      }
      uint64_t got_u = 0;
      uint32_t got_v = 0;
      std::memcpy(&got_u, got.data(), 8);
      std::memcpy(&got_v, got.data() + 8, 4);
      ASSERT_TRUE(found) << when << ": unit " << u << " holds (unit " << got_u << ", version " << got_v
                         << "); durable version " << s.durable << ", " << s.since.size() << " later ones";
      s.since.clear();
      s.next = std::max(s.next, s.durable);
      ++checked;
    }
    std::printf("[crash] %s: %lu units checked, %lu held a write newer than the last flush\n", when,
                static_cast<unsigned long>(checked), static_cast<unsigned long>(newer));
  }

 private:
  struct unit_state {
    uint32_t durable = 0;  // 0: zeroes (never durably written)
    uint32_t next = 0;
    std::vector<std::pair<uint32_t, uint64_t>> since;  // (version, completion seq or UINT64_MAX)
  };
  std::mutex mu_;
  std::map<uint64_t, unit_state> units_;
  uint64_t done_seq_ = 0;
};

class crash_test : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nvmfd-lvol-crash.XXXXXX";
    ASSERT_TRUE(mkdtemp(tmpl));
    dir_ = tmpl;
    base_file_ = dir_ + "/base.img";
    int fd = open(base_file_.c_str(), O_CREAT | O_RDWR, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, 64 << 20), 0);
    close(fd);
    port_ = test::free_port();
    sock_ = dir_ + "/rpc.sock";
  }
  void TearDown() override {
    stop(SIGKILL);
    if (!HasFailure()) std::system(("rm -rf " + dir_).c_str());
    else std::printf("[crash] kept %s (nvmfd.log)\n", dir_.c_str());
  }

  json config(bool with_ns) const {
    json base = std::string(GetParam()) == "power"
                    ? json{{"method", "bdev_volatile_cache_create"},
                           {"params", {{"name", "Base0"}, {"filename", base_file_}, {"block_size", 512}}}}
                    : json{{"method", "bdev_aio_create"},
                           {"params", {{"name", "Base0"}, {"filename", base_file_}, {"block_size", 512}}}};
    json nvmf = json::array(
        {{{"method", "nvmf_create_transport"}, {"params", {{"trtype", "TCP"}}}},
         {{"method", "nvmf_create_subsystem"}, {"params", {{"nqn", nqn}, {"allow_any_host", true}}}},
         {{"method", "nvmf_subsystem_add_listener"},
          {"params", {{"nqn", nqn},
                      {"listen_address",
                       {{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", "127.0.0.1"},
                        {"trsvcid", std::to_string(port_)}}}}}}});
    if (with_ns)
      nvmf.push_back({{"method", "nvmf_subsystem_add_ns"},
                      {"params", {{"nqn", nqn}, {"namespace", {{"bdev_name", "lvs0/vol0"}, {"nsid", 1}}}}}});
    return {{"subsystems", {{{"subsystem", "bdev"}, {"config", json::array({base})}},
                            {{"subsystem", "nvmf"}, {"config", nvmf}}}}};
  }

  void start(bool with_ns) {
    std::string cfg = dir_ + "/config.json";
    std::ofstream(cfg) << config(with_ns).dump(1);
    pid_ = fork();
    if (pid_ == 0) {
      int log = open((dir_ + "/nvmfd.log").c_str(), O_CREAT | O_WRONLY | O_APPEND, 0600);
      dup2(log, 1);
      dup2(log, 2);
      execl(NVMFD_PATH, NVMFD_PATH, "-c", cfg.c_str(), "-r", sock_.c_str(), "-m", "0x1", nullptr);
      _exit(127);
    }
    if (wait_until([&] { return rpc_ok("rpc_get_methods", json::object()); }, 30s)) return;
    FAIL() << "nvmfd did not come up:\n" << slurp(dir_ + "/nvmfd.log");
  }
  void stop(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool rpc_ok(const std::string& method, const json& params, std::string* out = nullptr) {
    std::string cmd = std::string(NVMFCTL_PATH) + " -s " + sock_ + " call " + method + " '" + params.dump() +
                      "' 2>&1";
    FILE* f = popen(cmd.c_str(), "r");
    std::string text;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, f)) text.append(buf, n);
    int st = pclose(f);
    if (out) *out = text;
    return st == 0;
  }
  void rpc(const std::string& method, const json& params) {
    std::string out;
    ASSERT_TRUE(rpc_ok(method, params, &out)) << method << ": " << out;
  }
  std::shared_ptr<host_controller> connect(nvme_host& host) {
    std::string trid = "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:" + std::to_string(port_) + " subnqn:" + nqn;
    std::shared_ptr<host_controller> c;
    if (wait_until([&] {
          auto r = host.connect(trid);
          if (r.ok()) c = *r;
          return r.ok();
        }))
      return c;
    ADD_FAILURE() << "cannot connect";
    return nullptr;
  }

  // Writers and a flusher until the daemon is killed after kill_after.
  void run_round(nvme_host& host, host_controller& c, model& m, std::mt19937_64& rng, std::chrono::milliseconds kill_after) {
    std::atomic<bool> dead{false};
    std::atomic<uint64_t> writes{0}, flushes{0};
    std::vector<std::thread> threads;
    constexpr unsigned writers = 3;
    for (unsigned t = 0; t < writers; ++t)
      threads.emplace_back([&, t, seed = rng()] {
        std::mt19937_64 r(seed);
        std::vector<std::byte> buf(unit_bytes);
        while (!dead) {
          uint64_t u = r() % (units / writers) * writers + t;
          uint32_t v = m.begin_write(u);
          fill_unit(buf.data(), u, v);
          if (!host.write(c, nsid_t{1}, u * unit_blocks, buf).ok()) break;
          m.end_write(u, v);
          ++writes;
        }
      });
    threads.emplace_back([&, seed = rng()] {
      std::mt19937_64 r(seed);
      while (!dead) {
        std::this_thread::sleep_for(std::chrono::milliseconds(r() % 40));  // load: flushes at random points
        uint64_t seq0 = m.flush_point();
        if (!host.flush(c, nsid_t{1}).ok()) break;
        m.flushed(seq0);
        ++flushes;
      }
    });
    std::this_thread::sleep_for(kill_after);  // not a synchronisation: the crash comes at a random point
    stop(SIGKILL);
    dead = true;
    for (auto& t : threads) t.join();
    std::printf("[crash] round: %lu writes, %lu flushes, SIGKILL after %ld ms\n",
                static_cast<unsigned long>(writes.load()), static_cast<unsigned long>(flushes.load()),
                static_cast<long>(kill_after.count()));
  }

  std::string dir_, base_file_, sock_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_P(crash_test, every_unit_flushed_before_the_kill_reads_back) {
  constexpr int rounds = 5;
  std::random_device rd;
  uint64_t seed = std::getenv("NVMFD_CRASH_SEED") ? std::strtoull(std::getenv("NVMFD_CRASH_SEED"), nullptr, 10) : rd();
  std::printf("[crash] mode %s, seed %lu (NVMFD_CRASH_SEED)\n", GetParam(), static_cast<unsigned long>(seed));
  std::mt19937_64 rng(seed);
  ASSERT_NO_FATAL_FAILURE(start(false));
  rpc("bdev_lvol_create_lvstore", {{"bdev_name", "Base0"}, {"lvs_name", "lvs0"}, {"cluster_sz", 65536}});
  rpc("bdev_lvol_create", {{"lvs_name", "lvs0"}, {"lvol_name", "vol0"}, {"size_in_mib", volume_mib},
                           {"thin_provision", true}});
  rpc("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "lvs0/vol0"}, {"nsid", 1}}}});
  model m;
  nvme_host host(2);
  for (int round = 0; round < rounds; ++round) {
    if (round > 0) ASSERT_NO_FATAL_FAILURE(start(true));
    auto c = connect(host);
    ASSERT_TRUE(c);
    if (round > 0) ASSERT_NO_FATAL_FAILURE(m.verify(host, *c, ("after kill " + std::to_string(round)).c_str()));
    run_round(host, *c, m, rng, std::chrono::milliseconds(200 + rng() % 800));
    c->disconnect();
  }
  // The last kill's aftermath, then a clean stop and start: the same again.
  ASSERT_NO_FATAL_FAILURE(start(true));
  auto c = connect(host);
  ASSERT_TRUE(c);
  ASSERT_NO_FATAL_FAILURE(m.verify(host, *c, "after the last kill"));
  c->disconnect();
  stop(SIGTERM);
  ASSERT_NO_FATAL_FAILURE(start(true));
  c = connect(host);
  ASSERT_TRUE(c);
  ASSERT_NO_FATAL_FAILURE(m.verify(host, *c, "after a clean restart"));
  c->disconnect();
  std::string lvols;
  ASSERT_TRUE(rpc_ok("bdev_lvol_get_lvols", json::object(), &lvols));
  EXPECT_NE(lvols.find("\"is_thin_provisioned\": true"), std::string::npos) << lvols;
}

INSTANTIATE_TEST_SUITE_P(modes, crash_test, ::testing::Values("kill", "power"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace nvmfd
