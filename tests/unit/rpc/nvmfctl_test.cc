// Runs the real nvmfctl binary (NVMFCTL_PATH, set by tests/CMakeLists.txt) against an
// rpc_server in this process.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_sections.h"
#include "rpc/framework_methods.h"
#include "rpc/rpc_server.h"
#include "test_socket.h"

#ifndef NVMFCTL_PATH
#error "NVMFCTL_PATH must name the nvmfctl binary"
#endif

namespace nvmfd {
namespace {

struct run_result {
  int status;
  std::string out, err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class nvmfctl_test : public ::testing::Test {
 protected:
  void SetUp() override {
    target_.register_in(methods_);
    methods_.add("echo", [](const json& p) -> result<json> { return p; });
    methods_.add("fail", [](const json&) -> result<json> {
      return error{errc::invalid_argument, "num_blocks: expected unsigned integer"};
    });
    add_framework_methods(methods_);
    auto s = rpc_server::start(path_, methods_);
    ASSERT_TRUE(s.ok()) << s.err().message;
    server_ = std::move(*s);
  }
  void TearDown() override {
    server_.reset();
    std::remove(out_.c_str());
    std::remove(err_.c_str());
    std::remove(file_.c_str());
  }

  // Runs nvmfctl -s <server> args..., optionally with stdin text.
  run_result run(const std::vector<std::string>& args, const std::string& stdin_text = "",
                 bool with_socket = true) {
    std::string cmd = NVMFCTL_PATH;
    if (with_socket) cmd += " -s " + quote(path_);
    for (const auto& a : args) cmd += " " + quote(a);
    std::string in = file_ + ".in";
    std::ofstream(in) << stdin_text;
    cmd += " <" + in + " >" + out_ + " 2>" + err_;
    int st = std::system(cmd.c_str());
    std::remove(in.c_str());
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(out_), slurp(err_)};
  }

  std::string base_ = "/tmp/nvmfctl_test_" + std::to_string(::getpid());
  std::string out_ = base_ + ".out", err_ = base_ + ".err", file_ = base_ + ".json";
  std::string path_ = test::temp_socket_path("ctl");
  test::fake_target target_;
  rpc_method_table methods_;
  std::unique_ptr<rpc_server> server_;
};

TEST_F(nvmfctl_test, method_with_typed_params) {
  auto r = run({"echo", "--name", "Malloc0", "--num_blocks", "131072", "--numa-id", "-1",
                "--allow_any_host", "--listen_address.traddr", "127.0.0.1",
                "--listen-address.trsvcid=4420", "--serial_number", "00012", "--masks",
                "[\"a\",1]", "--sn", "\"42\"", "--ro=false"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json::parse(R"({"name":"Malloc0","num_blocks":131072,
      "numa_id":-1,"allow_any_host":true,"listen_address":{"traddr":"127.0.0.1","trsvcid":4420},
      "serial_number":"00012","masks":["a",1],"sn":"42","ro":false})"));
  EXPECT_NE(r.out.find("\n  \"name\": \"Malloc0\""), std::string::npos) << "indent 2: " << r.out;
}

TEST_F(nvmfctl_test, results_printed_like_rpc_py) {
  auto s = run({"bdev_create", "--name", "Malloc0"});
  ASSERT_EQ(s.status, 0) << s.err;
  EXPECT_EQ(s.out, "Malloc0\n");  // a string result is printed bare
  auto b = run({"nvmf_create", "--nqn", "nqn.x"});
  EXPECT_EQ(b.out, "true\n");
  auto n = run({"echo"});
  EXPECT_EQ(n.out, "null\n");
}

TEST_F(nvmfctl_test, call_sends_params_verbatim) {
  auto r = run({"call", "echo", R"({"a":{"b":[1,"2"]},"c":"007"})"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json::parse(R"({"a":{"b":[1,"2"]},"c":"007"})"));
  EXPECT_EQ(run({"call", "echo", "{bad"}).status, 1);
}

TEST_F(nvmfctl_test, rpc_error_goes_to_stderr_with_status_1) {
  auto r = run({"fail"});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("\"code\": -32602"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("num_blocks: expected unsigned integer"), std::string::npos) << r.err;
  auto m = run({"no_such_method"});
  EXPECT_EQ(m.status, 1);
  EXPECT_NE(m.err.find("Method not found"), std::string::npos);
}

TEST_F(nvmfctl_test, cannot_connect) {
  auto r = run({"-s", "/tmp/nvmfd_no_such.sock", "rpc_get_methods"}, "", false);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err,
            "nvmfctl: cannot connect to /tmp/nvmfd_no_such.sock: No such file or directory; is "
            "nvmfd running?\n");
}

TEST_F(nvmfctl_test, usage) {
  auto h = run({"-h"}, "", false);
  EXPECT_EQ(h.status, 0);
  for (const char* form : {"METHOD [--name value ...]", "call METHOD", "save_config [-o FILE]",
                           "load_config [-j FILE"}) {
    EXPECT_NE(h.out.find(form), std::string::npos) << form;
  }
  EXPECT_EQ(run({}, "", false).status, 1);
  auto bad = run({"echo", "positional"});
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("unexpected argument 'positional'"), std::string::npos);
  auto twice = run({"echo", "--a", "1", "--a", "2"});
  EXPECT_EQ(twice.status, 1);
  EXPECT_NE(twice.err.find("--a: given twice"), std::string::npos);
}

TEST_F(nvmfctl_test, dry_run_prints_the_request) {
  auto r = run({"--dry-run", "bdev_create", "--name", "x", "--n", "18446744073709551615",
                "--big", "18446744073709551616"}, "", false);
  ASSERT_EQ(r.status, 0) << r.err;
  auto req = json::parse(r.out);
  EXPECT_EQ(req["method"], "bdev_create");
  EXPECT_EQ(req["params"]["n"], UINT64_MAX);
  EXPECT_EQ(req["params"]["big"], "18446744073709551616");  // does not fit: a string
}

// disconnect: nvme-cli's -n/-a/-s after the command (-s there is the port, not the socket),
// bdev_nvme_disconnect underneath; no host-wide disconnect without --force.
TEST_F(nvmfctl_test, disconnect_takes_nvme_cli_options) {
  auto r = run({"--dry-run", "disconnect", "-n", "nqn.x", "-a", "10.0.0.1", "-s", "4421", "--owner", "mdns:m"}, "",
               false);
  ASSERT_EQ(r.status, 0) << r.err;
  auto req = json::parse(r.out);
  EXPECT_EQ(req["method"], "bdev_nvme_disconnect");
  EXPECT_EQ(req["params"],
            json({{"subnqn", "nqn.x"}, {"traddr", "10.0.0.1"}, {"trsvcid", "4421"}, {"owner", "mdns:m"}}));
  auto p = run({"--dry-run", "disconnect", "-n", "nqn.x", "-p", "4420"}, "", false);
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_EQ(json::parse(p.out)["params"]["trsvcid"], "4420");
  auto all = run({"--dry-run", "disconnect", "--all"}, "", false);
  EXPECT_EQ(all.status, 1);
  EXPECT_NE(all.err.find("--force"), std::string::npos) << all.err;
  auto forced = run({"--dry-run", "disconnect", "--all", "--force"}, "", false);
  ASSERT_EQ(forced.status, 0) << forced.err;
  EXPECT_EQ(json::parse(forced.out)["params"], json({{"force", true}}));
  EXPECT_EQ(run({"--dry-run", "disconnect"}, "", false).status, 1);
}

TEST_F(nvmfctl_test, save_config_like_rpc_py) {
  ASSERT_EQ(run({"bdev_create", "--name", "M0"}).status, 0);
  ASSERT_EQ(run({"nvmf_create", "--nqn", "n1"}).status, 0);
  auto r = run({"save_config"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), json::parse(R"({"subsystems":[
      {"subsystem":"bdev","config":[{"method":"bdev_create","params":{"name":"M0"}}]},
      {"subsystem":"nvmf","config":[{"method":"nvmf_create","params":{"nqn":"n1"}}]}]})"));
  // rpc.py's member order and indent
  EXPECT_TRUE(r.out.starts_with("{\n  \"subsystems\": [\n    {\n      \"subsystem\": \"bdev\",\n"))
      << r.out;
  ASSERT_EQ(run({"save_config", "-o", file_}).status, 0);
  EXPECT_EQ(slurp(file_), r.out);
  auto only = run({"save_config", "-s", "bdev", "-i", "-1"});
  EXPECT_EQ(only.out,
            R"({"subsystems":[{"subsystem":"bdev","config":[{"method":"bdev_create","params":{"name":"M0"}}]}]})"
            "\n");
}

TEST_F(nvmfctl_test, load_config_from_file_and_stdin) {
  const std::string cfg = R"({"subsystems":[
      {"subsystem":"accel","config":[]},
      {"subsystem":"bdev","config":[{"method":"bdev_create","params":{"name":"M0"}},
          [{"method":"bdev_create","params":{"name":"M1"}},{"method":"bdev_create","params":{"name":"M2"}}]]},
      {"subsystem":"nvmf","config":[{"method":"nvmf_create","params":{"nqn":"n1"}}]}]})";
  std::ofstream(file_) << cfg;
  auto r = run({"load_config", "-j", file_});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(target_.log, (std::vector<std::string>{"bdev_create:M0", "bdev_create:M1",
                                                   "bdev_create:M2", "nvmf_create:n1"}));
  target_.log.clear();
  auto s = run({"load_config"}, cfg);
  ASSERT_EQ(s.status, 0) << s.err;
  EXPECT_EQ(target_.log.size(), 4u);
  target_.log.clear();
  ASSERT_EQ(run({"load_config", "-i", file_}).status, 0);
  EXPECT_EQ(target_.log.size(), 4u);
}

TEST_F(nvmfctl_test, load_config_unknown_methods_all_named_and_nothing_applied) {
  auto r = run({"load_config"}, R"({"subsystems":[
      {"subsystem":"bdev","config":[{"method":"bdev_create","params":{"name":"M0"}},
                                    {"method":"bdev_raid_create","params":{}}]},
      {"subsystem":"iobuf","config":[{"method":"iobuf_set_options","params":{}}]},
      {"subsystem":"nbd","config":[{"method":"nbd_start_disk","params":{}}]}]})");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("unknown methods bdev_raid_create in subsystem 'bdev', nbd_start_disk in "
                       "subsystem 'nbd' of the configuration; nothing was applied"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(target_.log.empty());
}

TEST_F(nvmfctl_test, load_config_skips_spdk_tuning_methods_with_one_warning_each) {
  auto r = run({"load_config"}, R"({"subsystems":[
      {"subsystem":"sock","config":[{"method":"sock_impl_set_options","params":{"impl_name":"ssl"}},
                                    {"method":"sock_impl_set_options","params":{"impl_name":"posix"}}]},
      {"subsystem":"iobuf","config":[{"method":"iobuf_set_options","params":{}}]},
      {"subsystem":"bdev","config":[{"method":"bdev_set_options","params":{}},
                                    [{"method":"bdev_create","params":{"name":"M0"}},
                                     {"method":"bdev_set_options","params":{}}]]}]})");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(target_.log, (std::vector<std::string>{"bdev_create:M0"}));
  EXPECT_NE(r.err.find("ignoring SPDK's sock_impl_set_options (2 calls): "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ignoring SPDK's bdev_set_options (2 calls): "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ignoring SPDK's iobuf_set_options (1 call): "), std::string::npos) << r.err;
}

TEST_F(nvmfctl_test, load_config_failure_names_what_was_left) {
  auto r = run({"load_config"}, R"({"subsystems":[
      {"subsystem":"nvmf","config":[{"method":"nvmf_create","params":{"nqn":"n1"}},
          {"method":"nvmf_create","params":{"nqn":"fail"}},
          {"method":"nvmf_create","params":{"nqn":"n3"}},
          {"method":"bdev_create","params":{"name":"M9"}}]}]})");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find(R"(nvmf_create {"nqn":"fail"} failed)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("target is busy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not applied:\n  nvmf_create\n  bdev_create"), std::string::npos) << r.err;
  EXPECT_EQ(target_.log, (std::vector<std::string>{"nvmf_create:n1"}));
}

TEST_F(nvmfctl_test, load_config_bad_input) {
  auto r = run({"load_config"}, "{\"subsystems\": [");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("parse error"), std::string::npos) << r.err;
  auto m = run({"load_config", "-j", "/tmp/nvmfd_no_such.json"});
  EXPECT_EQ(m.status, 1);
  EXPECT_NE(m.err.find("cannot read /tmp/nvmfd_no_such.json: No such file or directory"),
            std::string::npos)
      << m.err;
}

}  // namespace
}  // namespace nvmfd
