// nvmfctl resv-*: nvme-cli's options turned into bdev_nvme_resv_* params.
#include <gtest/gtest.h>

#include "apps/nvmfctl/resv_commands.h"

namespace nvmfd::ctl {
namespace {

using nlohmann::json;

TEST(resv_commands, nvme_cli_options_become_the_methods_params) {
  auto r = resv_params("resv-register", {"Nvme0n1", "-n", "1", "--nrkey=0x1111", "-r", "0", "--cptpl", "3"});
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_EQ(r->method, "bdev_nvme_resv_register");
  EXPECT_EQ(r->params, json({{"name", "Nvme0n1"}, {"nsid", 1}, {"nrkey", 0x1111}, {"rrega", 0}, {"cptpl", 3}}));

  auto a = resv_params("resv-acquire", {"Nvme0n1", "-c", "0x2222", "-p", "4369", "-t", "1", "-a", "2", "-i"});
  ASSERT_TRUE(a.ok()) << a.err().message;
  EXPECT_EQ(a->method, "bdev_nvme_resv_acquire");
  EXPECT_EQ(a->params,
            json({{"name", "Nvme0n1"}, {"crkey", 0x2222}, {"prkey", 0x1111}, {"rtype", 1}, {"racqa", 2}, {"iekey", true}}));

  auto rel = resv_params("resv-release", {"--crkey", "18446744073709551615", "Nvme0n1", "--rrela", "1"});
  ASSERT_TRUE(rel.ok()) << rel.err().message;
  EXPECT_EQ(rel->params, json({{"name", "Nvme0n1"}, {"crkey", UINT64_MAX}, {"rrela", 1}}));

  auto rep = resv_params("resv-report", {"Nvme0n1", "-o", "normal"});
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->params, json({{"name", "Nvme0n1"}, {"eds", true}}));
  EXPECT_TRUE(rep->normal_output);
  EXPECT_EQ(resv_params("resv-report", {"Nvme0n1", "--no-eds"})->params["eds"], false);
  EXPECT_TRUE(is_resv_command("resv-acquire"));
  EXPECT_FALSE(is_resv_command("resv-preempt"));
}

TEST(resv_commands, mistakes_are_named) {
  auto msg = [](const std::string& cmd, std::vector<std::string> args) {
    auto r = resv_params(cmd, args);
    return r.ok() ? std::string("accepted") : r.err().message;
  };
  EXPECT_EQ(msg("resv-register", {"-k", "1"}), "resv-register: BDEV (an nvme bdev, e.g. Nvme0n1) is required");
  EXPECT_EQ(msg("resv-acquire", {"Nvme0n1", "-c", "1"}), "resv-acquire: -t RTYPE (1..6) is required");
  EXPECT_EQ(msg("resv-register", {"Nvme0n1", "-k", "0xZZ"}), "-k: '0xZZ' is not a number (decimal or 0x hex, 64 bits)");
  EXPECT_EQ(msg("resv-register", {"Nvme0n1", "-k", "18446744073709551616"}),
            "-k: '18446744073709551616' is not a number (decimal or 0x hex, 64 bits)");
  EXPECT_EQ(msg("resv-register", {"Nvme0n1", "-k"}), "resv-register: -k needs a value");
  EXPECT_EQ(msg("resv-release", {"Nvme0n1", "-k", "1"}), "resv-release: unknown argument -k");
  EXPECT_EQ(msg("resv-report", {"Nvme0n1", "-o", "xml"}), "resv-report: -o takes normal or json, not 'xml'");
  EXPECT_EQ(msg("resv-report", {"Nvme0n1", "Nvme1n1"}), "resv-report: one BDEV only ('Nvme0n1' and 'Nvme1n1')");
}

TEST(resv_commands, the_normal_report_reads_like_nvme_cli) {
  json r = {{"gen", 3}, {"rtype", 1}, {"regctl", 1}, {"ptpls", 0},
            {"regctlext", {{{"cntlid", 0xffff}, {"rcsts", 1}, {"hostid", "00112233445566778899aabbccddeeff"}, {"rkey", 0x1111}}}}};
  std::string text = resv_report_text(r);
  EXPECT_NE(text.find("gen       : 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("regctlext[0] :\n  cntlid  : ffff\n  rcsts   : 1\n  hostid  : 00112233445566778899aabbccddeeff\n"
                      "  rkey    : 1111\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace nvmfd::ctl
