#include "apps/nvmf_perf/perf_options.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace nvmfd::perf {
namespace {

const char* const trid = "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:4420 subnqn:nqn.2016-06.io.nvmfd:cnode1";

// The CPUs the parsed command lines may use, unless a test says otherwise.
const std::vector<int> four_cpus{0, 1, 2, 3};

command_line parse(std::initializer_list<const char*> args, const std::vector<int>& allowed = four_cpus) {
  std::vector<const char*> argv{"nvmf-perf"};
  argv.insert(argv.end(), args);
  return parse_command_line(static_cast<int>(argv.size()), argv.data(), allowed);
}

TEST(PerfOptions, SpdkStyleCommandLine) {
  auto c = parse({"-q", "32", "-o", "4096", "-w", "randread", "-t", "10", "-r", trid, "-c", "0x6", "-P", "2",
                  "--hdgst", "--json", "-", "--warmup", "2"});
  ASSERT_TRUE(c.error.empty()) << c.error;
  const auto& o = c.options;
  EXPECT_EQ(o.queue_depth, 32u);
  EXPECT_EQ(o.io_size, 4096u);
  EXPECT_TRUE(o.random);
  EXPECT_EQ(o.read_pct, 100u);
  EXPECT_EQ(o.seconds, 10.0);
  EXPECT_EQ(o.warmup_seconds, 2.0);
  EXPECT_EQ(o.cpus, (std::vector<int>{1, 2}));
  EXPECT_EQ(o.qpairs_per_ns, 2u);
  EXPECT_TRUE(o.hdgst);
  EXPECT_FALSE(o.ddgst);
  EXPECT_EQ(o.json_path, "-");
  EXPECT_EQ(o.trid.traddr, "127.0.0.1");
  EXPECT_EQ(o.trid.subnqn, "nqn.2016-06.io.nvmfd:cnode1");
}

TEST(PerfOptions, Defaults) {
  auto c = parse({"-q", "1", "-o", "512", "-w", "write", "-t", "1", "-r", trid});
  ASSERT_TRUE(c.error.empty()) << c.error;
  EXPECT_EQ(c.options.cpus, std::vector<int>{0});
  EXPECT_EQ(c.options.core_mask, "[0]");
  EXPECT_EQ(c.options.qpairs_per_ns, 1u);
  EXPECT_EQ(c.options.read_pct, 0u);
  EXPECT_FALSE(c.options.random);
  EXPECT_EQ(c.options.warmup_seconds, 0.0);
  EXPECT_EQ(c.options.polling.mode, poll_mode::adaptive);
  EXPECT_TRUE(c.options.hostnqn.empty());
}

TEST(PerfOptions, HostNqnInTheTransportIdAndPollingFlags) {
  auto c = parse({"-q", "1", "-o", "512", "-w", "read", "-t", "1", "--poll-mode", "always", "--poll-us", "20", "-r",
                  "trtype:tcp traddr:127.0.0.1 hostnqn:nqn.2014-08.org.nvmexpress:uuid:1 trsvcid:4420 "
                  "subnqn:nqn.2016-06.io.nvmfd:cnode1"});
  ASSERT_TRUE(c.error.empty()) << c.error;
  EXPECT_EQ(c.options.hostnqn, "nqn.2014-08.org.nvmexpress:uuid:1");
  EXPECT_EQ(c.options.trid.trsvcid, "4420");
  EXPECT_EQ(c.options.trid.subnqn, "nqn.2016-06.io.nvmfd:cnode1");
  EXPECT_EQ(c.options.polling.mode, poll_mode::always);
  EXPECT_EQ(c.options.polling.max_poll, std::chrono::microseconds(20));
  EXPECT_FALSE(parse({"-q", "1", "-o", "512", "-w", "read", "-t", "1", "--poll-mode", "busy", "-r", trid}).error.empty());
}

TEST(PerfOptions, MixedWorkloadsReadFiftyPercentUnlessToldOtherwise) {
  auto a = parse({"-q", "1", "-o", "4096", "-w", "randrw", "-t", "1", "-r", trid});
  ASSERT_TRUE(a.error.empty()) << a.error;
  EXPECT_EQ(a.options.read_pct, 50u);
  EXPECT_TRUE(a.options.random);
  auto b = parse({"-q", "1", "-o", "4096", "-w", "rw", "-M", "70", "-t", "1", "-r", trid});
  ASSERT_TRUE(b.error.empty()) << b.error;
  EXPECT_EQ(b.options.read_pct, 70u);
  EXPECT_FALSE(b.options.random);
}

TEST(PerfOptions, BadFlagsAreErrors) {
  for (auto args : std::vector<std::vector<const char*>>{
           {"-o", "4096", "-w", "read", "-t", "1", "-r", trid},                     // no -q
           {"-q", "0", "-o", "4096", "-w", "read", "-t", "1", "-r", trid},          // -q 0
           {"-q", "x", "-o", "4096", "-w", "read", "-t", "1", "-r", trid},
           {"-q", "1", "-o", "4096", "-w", "readwrite", "-t", "1", "-r", trid},     // unknown workload
           {"-q", "1", "-o", "4096", "-w", "rw", "-M", "101", "-t", "1", "-r", trid},
           {"-q", "1", "-o", "4096", "-w", "read", "-M", "30", "-t", "1", "-r", trid},
           {"-q", "1", "-o", "4096", "-w", "read", "-t", "0", "-r", trid},
           {"-q", "1", "-o", "4096", "-w", "read", "-t", "1"},                      // no -r
           {"-q", "1", "-o", "4096", "-w", "read", "-t", "1", "-r", "traddr:127.0.0.1"},  // no subnqn
           {"-q", "1", "-o", "4096", "-w", "read", "-t", "1", "-r", "trtype:fc traddr:1.2.3.4 subnqn:x"},
           {"-q", "1", "-o", "4096", "-w", "read", "-t", "1", "-r", trid, "-c", "0x0"},
           {"-q", "1", "-o", "4096", "-w", "read", "-t", "1", "-r", trid, "-c", "zz"},
           {"-q", "1", "-o", "4096", "-w", "read", "-t", "1", "-r", trid, "--bogus"},
       }) {
    std::vector<const char*> argv{"nvmf-perf"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto c = parse_command_line(static_cast<int>(argv.size()), argv.data(), four_cpus);
    EXPECT_FALSE(c.error.empty()) << argv.size();
    EXPECT_FALSE(c.usage.empty());
  }
}

// Issue 13: under `taskset -c 1` the default core is CPU 1, not core 0 (which the process
// may not use), and a -c outside the allowed CPUs is refused naming the core.
TEST(PerfOptions, DefaultCoreIsTheFirstAllowedCpu) {
  auto c = parse({"-q", "1", "-o", "512", "-w", "read", "-t", "1", "-r", trid}, {1});
  ASSERT_TRUE(c.error.empty()) << c.error;
  EXPECT_EQ(c.options.cpus, std::vector<int>{1});
  EXPECT_EQ(c.options.core_mask, "[1]");
  auto d = parse({"-q", "1", "-o", "512", "-w", "read", "-t", "1", "-r", trid}, {2, 3, 5});
  ASSERT_TRUE(d.error.empty()) << d.error;
  EXPECT_EQ(d.options.cpus, std::vector<int>{2});
}

TEST(PerfOptions, CoreMaskOutsideTheAllowedCpusIsAnError) {
  auto c = parse({"-q", "1", "-o", "512", "-w", "read", "-t", "1", "-r", trid, "-c", "0x1"}, {1});
  EXPECT_EQ(c.error, "-c 0x1: core 0 is not available to this process (allowed: 1)");
  auto d = parse({"-q", "1", "-o", "512", "-w", "read", "-t", "1", "-r", trid, "-c", "[0-1]"}, {0});
  EXPECT_EQ(d.error, "-c [0-1]: core 1 is not available to this process (allowed: 0)");
  auto ok = parse({"-q", "1", "-o", "512", "-w", "read", "-t", "1", "-r", trid, "-c", "0x2"}, {1});
  EXPECT_TRUE(ok.error.empty()) << ok.error;
  EXPECT_EQ(ok.options.core_mask, "0x2");
}

TEST(PerfOptions, Help) {
  auto c = parse({"-h"});
  EXPECT_TRUE(c.help);
  EXPECT_NE(c.usage.find("-q"), std::string::npos);
}

TEST(PerfOptions, CoreMasks) {
  EXPECT_EQ(*cpus_from_core_mask("0x1"), std::vector<int>{0});
  EXPECT_EQ(*cpus_from_core_mask("3"), (std::vector<int>{0, 1}));
  EXPECT_EQ(*cpus_from_core_mask("0xA"), (std::vector<int>{1, 3}));
  EXPECT_EQ(*cpus_from_core_mask("[0,2-3]"), (std::vector<int>{0, 2, 3}));
  EXPECT_EQ(*cpus_from_core_mask("[5]"), std::vector<int>{5});
  EXPECT_FALSE(cpus_from_core_mask("[1-]").ok());
  EXPECT_FALSE(cpus_from_core_mask("[3-1]").ok());
  EXPECT_FALSE(cpus_from_core_mask("[1").ok());
  EXPECT_FALSE(cpus_from_core_mask("0x").ok());
  EXPECT_FALSE(cpus_from_core_mask("").ok());
}

}  // namespace
}  // namespace nvmfd::perf
