// nvmfctl discover and nvmfctl identify run as real processes (the nvmfctl binary next to
// this test's) against our target in this process: output formats, exit status, messages.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "local_target.h"

namespace nvmfd {
namespace {

struct run_result {
  int status = -1;
  std::string out, err;
};

std::string nvmfctl_path() {
  auto self = std::filesystem::read_symlink("/proc/self/exe");
  return (self.parent_path() / "nvmfctl").string();
}

run_result run_nvmfctl(const std::vector<std::string>& args) {
  run_result r;
  std::string errfile = testing::TempDir() + "nvmfctl_err_" + std::to_string(getpid());
  std::string cmd = nvmfctl_path();
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>" + errfile;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  FILE* e = fopen(errfile.c_str(), "r");
  if (e) {
    while ((n = fread(buf.data(), 1, buf.size(), e)) > 0) r.err.append(buf.data(), n);
    fclose(e);
  }
  std::remove(errfile.c_str());
  return r;
}

class nvmfctl_host : public testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(nvmfctl_path())) GTEST_SKIP() << "no nvmfctl next to " << nvmfctl_path();
  }
};

TEST_F(nvmfctl_host, discover_prints_nvme_cli_json) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:cli", 512, 8);
  auto r = run_nvmfctl({"discover", "-t", "tcp", "-a", "127.0.0.1", "-s", t.port_text(), "-o", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::ordered_json::parse(r.out);
  EXPECT_TRUE(j["genctr"].is_number());
  bool seen = false;
  for (const auto& rec : j["records"]) {
    if (rec["subnqn"] != "nqn.2016-06.io.nvmfd:cli") continue;
    seen = true;
    EXPECT_EQ(rec["trtype"], "tcp");
    EXPECT_EQ(rec["adrfam"], "ipv4");
    EXPECT_EQ(rec["subtype"], "nvme subsystem");
    EXPECT_EQ(rec["trsvcid"], t.port_text());
    EXPECT_EQ(rec["traddr"], "127.0.0.1");
    EXPECT_EQ(rec["sectype"], "none");
    EXPECT_TRUE(rec["portid"].is_number());
  }
  EXPECT_TRUE(seen) << r.out;
  auto normal = run_nvmfctl({"discover", "-a", "127.0.0.1", "-s", t.port_text()});
  ASSERT_EQ(normal.status, 0) << normal.err;
  EXPECT_NE(normal.out.find("subnqn:  nqn.2016-06.io.nvmfd:cli\n"), std::string::npos) << normal.out;
  EXPECT_NE(normal.out.find("Discovery Log Number of Records"), std::string::npos);
}

TEST_F(nvmfctl_host, identify_prints_controller_and_namespaces) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:idf", 4096, 256);
  std::string trid = "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:" + t.port_text() +
                     " subnqn:nqn.2016-06.io.nvmfd:idf";
  auto r = run_nvmfctl({"identify", "-r", trid, "-o", "json"});
  ASSERT_EQ(r.status, 0) << r.err;
  auto j = nlohmann::ordered_json::parse(r.out);
  EXPECT_EQ(j["id_ctrl"]["subnqn"], "nqn.2016-06.io.nvmfd:idf");
  EXPECT_TRUE(j["id_ctrl"]["sn"].is_string());
  ASSERT_EQ(j["namespaces"].size(), 1u);
  EXPECT_EQ(j["namespaces"][0]["nsid"], 1);
  EXPECT_EQ(j["namespaces"][0]["id_ns"]["nsze"], 256);
  EXPECT_EQ(j["namespaces"][0]["id_ns"]["lbafs"][0]["ds"], 12);
  auto ns = run_nvmfctl({"identify", "-r", trid, "-o", "json", "--ns", "1"});
  ASSERT_EQ(ns.status, 0) << ns.err;
  EXPECT_EQ(nlohmann::ordered_json::parse(ns.out)["nsze"], 256);
  auto ctrl = run_nvmfctl({"identify", "-r", trid, "--ctrl"});
  ASSERT_EQ(ctrl.status, 0) << ctrl.err;
  EXPECT_EQ(ctrl.out.rfind("NVME Identify Controller:\n", 0), 0u) << ctrl.out;
  EXPECT_NE(ctrl.out.find("subnqn    : nqn.2016-06.io.nvmfd:idf\n"), std::string::npos);
}

TEST_F(nvmfctl_host, failures_are_one_line_on_stderr_with_status_1) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:shut", 512, 8, false);
  std::string base = "trtype:tcp traddr:127.0.0.1 trsvcid:" + t.port_text() + " subnqn:";
  struct {
    std::vector<std::string> args;
    std::string expect;
  } cases[] = {
      {{"discover", "-a", "127.0.0.1", "-s", std::to_string(test::free_port())}, "refused"},
      {{"identify", "-r", base + "nqn.2016-06.io.nvmfd:shut", "-q",
        "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-4333-8444-555555555555"},
       "not allowed"},
      {{"identify", "-r", base + "nqn.2016-06.io.nvmfd:unknown"}, "nqn.2016-06.io.nvmfd:unknown"},
      {{"identify", "-r", "trtype:fc traddr:1.2.3.4"}, "expected tcp or rdma"},
  };
  for (const auto& c : cases) {
    auto r = run_nvmfctl(c.args);
    EXPECT_EQ(r.status, 1) << c.args[0] << " " << c.args[1];
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("nvmfctl " + c.args[0] + ": ", 0), 0u) << r.err;
  }
}

}  // namespace
}  // namespace nvmfd
