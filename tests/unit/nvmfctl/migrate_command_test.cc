// nvmfctl migrate-config: the kept / ignored / refused classification of an SPDK config.
#include "apps/nvmfctl/migrate_command.h"

#include <gtest/gtest.h>

namespace nvmfd::ctl {
namespace {

const std::set<std::string> nvmfd_methods = {"bdev_malloc_create", "bdev_nvme_attach_controller",
                                             "nvmf_create_subsystem", "nvmf_subsystem_add_ns"};

json add_ns(const std::string& bdev) {
  return {{"method", "nvmf_subsystem_add_ns"},
          {"params", {{"nqn", "nqn.x:c1"}, {"namespace", {{"nsid", 1}, {"bdev_name", bdev}}}}}};
}

TEST(migrate_spdk_config, kept_ignored_refused_and_out) {
  json in = {{"subsystems",
              json::array({{{"subsystem", "iobuf"},
                            {"config", json::array({{{"method", "iobuf_set_options"}, {"params", json::object()}}})}},
                           {{"subsystem", "vmd"}, {"config", json::array()}},
                           {{"subsystem", "bdev"},
                            {"config", json::array({
                                           {{"method", "bdev_set_options"}},
                                           {{"method", "bdev_malloc_create"},
                                            {"params", {{"name", "M0"}, {"uuid", "u-0"}}}},
                                           {{"method", "bdev_nvme_attach_controller"}, {"params", {{"name", "Nvme0"}}}},
                                           {{"method", "bdev_raid_create"}, {"params", {{"name", "Raid0"}}}},
                                       })}},
                           {{"subsystem", "nvmf"},
                            {"config", json::array({{{"method", "nvmf_create_subsystem"}, {"params", {{"nqn", "nqn.x:c1"}}}},
                                                    json::array({add_ns("M0"), add_ns("u-0")}), add_ns("Nvme0n1"),
                                                    add_ns("Nvme0n1x"), add_ns("Raid0")})}}})}};
  auto m = migrate_spdk_config(in, nvmfd_methods);
  ASSERT_TRUE(m.ok()) << m.err().message;
  EXPECT_EQ(m->kept, (std::vector<std::string>{"bdev: bdev_malloc_create", "bdev: bdev_nvme_attach_controller",
                                               "nvmf: nvmf_create_subsystem", "nvmf: nvmf_subsystem_add_ns",
                                               "nvmf: nvmf_subsystem_add_ns", "nvmf: nvmf_subsystem_add_ns"}));
  ASSERT_EQ(m->ignored.size(), 2u);
  EXPECT_TRUE(m->ignored[0].starts_with("iobuf_set_options (1 call): ")) << m->ignored[0];
  EXPECT_TRUE(m->ignored[1].starts_with("bdev_set_options (1 call): ")) << m->ignored[1];
  ASSERT_EQ(m->refused.size(), 3u);
  EXPECT_EQ(m->refused[0], "bdev: bdev_raid_create: nvmfd has no such method");
  EXPECT_TRUE(m->refused[1].starts_with("nvmf: nvmf_subsystem_add_ns nqn.x:c1 nsid 1: bdev 'Nvme0n1x' is not created"))
      << m->refused[1];
  EXPECT_TRUE(m->refused[2].find("bdev 'Raid0'") != std::string::npos) << m->refused[2];
  const json& subs = m->out["subsystems"];
  ASSERT_EQ(subs.size(), 2u);  // iobuf and vmd: nothing kept
  EXPECT_EQ(subs[0]["subsystem"], "bdev");
  EXPECT_EQ(subs[0]["config"].size(), 2u);
  EXPECT_EQ(subs[1]["config"].size(), 4u);  // the batch flattened

  auto report = migration_report(*m);
  EXPECT_NE(report.find("kept (6):\n  bdev: bdev_malloc_create\n"), std::string::npos) << report;
  EXPECT_NE(report.find("\nrefused (3):\n  bdev: bdev_raid_create"), std::string::npos) << report;
}

TEST(migrate_spdk_config, shape_errors) {
  EXPECT_FALSE(migrate_spdk_config(json::object(), nvmfd_methods).ok());
  EXPECT_FALSE(migrate_spdk_config(json::array(), nvmfd_methods).ok());
  auto r = migrate_spdk_config(
      json::parse(R"({"subsystems":[{"subsystem":"bdev","config":[{"params":{}}]}]})"), nvmfd_methods);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.err().code, errc::invalid_argument);
}

}  // namespace
}  // namespace nvmfd::ctl
