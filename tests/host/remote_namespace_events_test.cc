// Namespace change events on our host (issue 16, item 4): when the target's namespace changes
// size, its controllers send Namespace Attribute Changed; each path reads the Changed
// Namespace List and Identify Namespace again, and the nvme bdev's size follows
// (bdev_get_bdevs shows it; I/O is checked against the new size), through every path. A
// namespace added to the subsystem after attach becomes a bdev, once, however many paths.
#include <gtest/gtest.h>

#include "../unit/bdev/bdev_harness.h"
#include "bdev/ram_bdev.h"
#include "host_side.h"
#include "local_target.h"
#include "tests/lib/growing_disk.h"
#include "tests/lib/wait_until.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using test::aligned_buffer;
using test::fill_pattern;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:remote-resize";

struct remote_namespace_events : ::testing::Test {
  test::local_target t{2};
  test::host_side host{2};
  std::shared_ptr<test::growing_disk> disk;

  void SetUp() override {
    disk = std::make_shared<test::growing_disk>("Growing", ram_bdev::create("GrowingData", 512, 16384, std::nullopt).value(), 4096);
    ASSERT_TRUE(t.bdevs().add(disk).ok());
    t.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}});
    t.call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Growing"}}}});
    for (auto* a : {"127.0.0.1", "127.0.0.2"}) t.call("nvmf_subsystem_add_listener", {{"nqn", nqn}, {"listen_address", listen(a)}});
  }
  void TearDown() override {
    for (auto* e : host.controllers.list()) (void)host.controllers.detach(e->name);
  }
  json listen(const std::string& a) { return {{"trtype", "TCP"}, {"traddr", a}, {"trsvcid", t.port_text()}}; }
  json attach(const std::string& traddr, bool second = false) {
    json p = {{"name", "Nvme0"}, {"trtype", "tcp"}, {"traddr", traddr}, {"trsvcid", t.port_text()}, {"subnqn", nqn}};
    if (second) p["multipath"] = "multipath";
    return host.ok("bdev_nvme_attach_controller", p);
  }
  uint64_t reported_blocks() { return host.ok("bdev_get_bdevs", {{"name", "Nvme0n1"}})[0]["num_blocks"]; }
};

TEST_F(remote_namespace_events, the_nvme_bdev_follows_a_grown_and_a_shrunk_namespace) {
  ASSERT_EQ(attach("127.0.0.1"), json::array({"Nvme0n1"}));
  bdev& b = host.dev("Nvme0n1");
  ASSERT_EQ(b.num_blocks(), 4096u);
  aligned_buffer out(8 * 512), in(8 * 512);
  fill_pattern(out.span(), 7);
  EXPECT_EQ(host.h.write(b, 8000, 8, out.data()), -EINVAL);  // past the end, for now

  disk->resize(8192);
  ASSERT_TRUE(wait_until([&] { return b.num_blocks() == 8192; })) << b.num_blocks();
  EXPECT_EQ(reported_blocks(), 8192u);
  ASSERT_EQ(host.h.write(b, 8000, 8, out.data()), 0);
  ASSERT_EQ(host.h.read(b, 8000, 8, in.data()), 0);
  EXPECT_TRUE(equal(out, in));

  // A second event is seen too: reading the log page re-armed it on the target.
  disk->resize(2048);
  ASSERT_TRUE(wait_until([&] { return b.num_blocks() == 2048; })) << b.num_blocks();
  EXPECT_EQ(reported_blocks(), 2048u);
  EXPECT_EQ(host.h.read(b, 2044, 8, in.data()), -EINVAL);
  EXPECT_EQ(host.h.read(b, 2040, 8, in.data()), 0);
}

TEST_F(remote_namespace_events, every_path_learns_the_size_and_a_path_added_later_agrees) {
  ASSERT_EQ(attach("127.0.0.1"), json::array({"Nvme0n1"}));
  ASSERT_EQ(attach("127.0.0.2", true), json::array({"Nvme0n1"}));
  bdev& b = host.dev("Nvme0n1");
  disk->resize(12000);
  ASSERT_TRUE(wait_until([&] { return b.num_blocks() == 12000; })) << b.num_blocks();
  // Both paths learnt the new size, so dropping either one leaves it as it is.
  auto every_path_knows = [&](uint64_t blocks) {
    for (auto& p : host.controllers.find("Nvme0")->paths) {
      auto sizes = p->get_status().sizes;
      if (!sizes.count(1) || sizes[1].num_blocks != blocks) return false;
    }
    return true;
  };
  ASSERT_TRUE(wait_until([&] { return every_path_knows(12000); }));
  ASSERT_TRUE(host.controllers.detach("Nvme0", {.traddr = "127.0.0.1"}).ok());
  EXPECT_EQ(reported_blocks(), 12000u);
  // A path added after the resize shows the namespace as the bdev knows it now (not as the
  // first path first saw it) and is accepted.
  ASSERT_EQ(attach("127.0.0.1", true), json::array({"Nvme0n1"}));
  disk->resize(16384);
  ASSERT_TRUE(wait_until([&] { return b.num_blocks() == 16384; })) << b.num_blocks();
  ASSERT_TRUE(wait_until([&] { return every_path_knows(16384); }));
  aligned_buffer out(8 * 512), in(8 * 512);
  fill_pattern(out.span(), 9);
  ASSERT_EQ(host.h.write(b, 16376, 8, out.data()), 0);
  ASSERT_EQ(host.h.read(b, 16376, 8, in.data()), 0);
  EXPECT_TRUE(equal(out, in));
}

TEST_F(remote_namespace_events, a_namespace_added_after_attach_becomes_a_bdev_once) {
  ASSERT_EQ(attach("127.0.0.1"), json::array({"Nvme0n1"}));
  ASSERT_EQ(attach("127.0.0.2", true), json::array({"Nvme0n1"}));
  t.call("bdev_malloc_create", {{"name", "Later"}, {"block_size", 4096}, {"num_blocks", 256}});
  t.call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Later"}, {"nsid", 7}}}});
  ASSERT_TRUE(wait_until([&] { return host.bdevs.find("Nvme0n7") != nullptr; }));
  bdev& b = host.dev("Nvme0n7");
  EXPECT_EQ(b.block_size(), 4096u);
  EXPECT_EQ(b.num_blocks(), 256u);
  json got = host.ok("bdev_get_bdevs", {{"name", "Nvme0n7"}});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["uuid"], t.bdevs().find("Later")->id().to_string());
  // Both paths carry it; I/O lands in the target's bdev.
  ASSERT_TRUE(wait_until([&] {
    json paths = host.ok("bdev_nvme_get_io_paths", {{"name", "Nvme0n7"}});
    return paths["poll_groups"][0]["io_paths"].size() == 2;
  }));
  aligned_buffer out(4096), in(4096);
  fill_pattern(out.span(), 77);
  ASSERT_EQ(host.h.write(b, 255, 1, out.data()), 0);
  ASSERT_EQ(host.h.read(b, 255, 1, in.data()), 0);
  EXPECT_TRUE(equal(out, in));
  // One bdev per namespace, whichever path told first.
  size_t count = 0;
  for (auto& e : host.controllers.list())
    for (auto& x : e->bdevs) count += x->nsid() == nsid_t{7};
  EXPECT_EQ(count, 1u);

  // Removed from the subsystem: no path carries it any more and I/O fails; added back, the
  // same bdev serves it again.
  t.call("nvmf_subsystem_remove_ns", {{"nqn", nqn}, {"nsid", 7}});
  ASSERT_TRUE(wait_until([&] {
    json paths = host.ok("bdev_nvme_get_io_paths", {{"name", "Nvme0n7"}});
    return paths["poll_groups"][0]["io_paths"].empty();
  }));
  EXPECT_NE(host.h.read(b, 0, 1, in.data()), 0);
  t.call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Later"}, {"nsid", 7}}}});
  ASSERT_TRUE(wait_until([&] { return host.h.read(b, 255, 1, in.data()) == 0; }));
  EXPECT_TRUE(equal(out, in));
}

}  // namespace
}  // namespace nvmfd
