// An RBD bdev as a namespace of our target, used by our host over NVMe/TCP (loopback), on a
// real Ceph cluster: run under tests/ceph/ceph_cluster.sh run -- rbd_target_test. Verified
// I/O through the fabric, then bdev_rbd_resize: the host learns the new size from the
// Namespace Attribute Changed AEN and writes past the old end.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "../unit/bdev/bdev_harness.h"
#include "bdev/rbd/rbd_cluster.h"
#include "host_side.h"
#include "local_target.h"
#include "rpc/bdev_rbd_rpc.h"
#include "tests/lib/wait_until.h"

namespace nvmfd {
namespace {

using test::aligned_buffer;
using test::fill_pattern;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:rbd";

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

TEST(rbd_target, host_io_through_the_fabric_and_resize_seen_by_the_host) {
  if (env("CEPH_CONF").empty()) GTEST_SKIP() << "no Ceph cluster: run under tests/ceph/ceph_cluster.sh run --";
  std::string cmd = "rbd create --size 32M " + env("CEPH_POOL") + "/ns";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  rbd_cluster_registry clusters;  // outlives the target's bdevs
  test::local_target t{2};
  add_bdev_rbd_methods(t.methods(), t.bdevs(), clusters, t.pool());
  t.call("bdev_rbd_register_cluster", {{"name", "c"}, {"config_file", env("CEPH_CONF")}});
  ASSERT_EQ(t.call("bdev_rbd_create", {{"name", "Ceph0"}, {"pool_name", env("CEPH_POOL")}, {"rbd_name", "ns"},
                                       {"block_size", 4096}, {"cluster_name", "c"}}),
            "Ceph0");
  t.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}});
  t.call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Ceph0"}}}});
  t.call("nvmf_subsystem_add_listener",
         {{"nqn", nqn}, {"listen_address", {{"trtype", "TCP"}, {"traddr", "127.0.0.1"}, {"trsvcid", t.port_text()}}}});

  test::host_side host{2};
  ASSERT_EQ(host.ok("bdev_nvme_attach_controller", {{"name", "Nvme0"}, {"trtype", "tcp"}, {"traddr", "127.0.0.1"},
                                                    {"trsvcid", t.port_text()}, {"subnqn", nqn}}),
            json::array({"Nvme0n1"}));
  bdev& b = host.dev("Nvme0n1");
  ASSERT_EQ(b.num_blocks(), 32u * 1024 * 1024 / 4096);
  EXPECT_TRUE(b.has_volatile_cache());  // librbd's cache: VWC set, FLUSH goes to rbd_aio_flush

  aligned_buffer out(64 * 4096), in(64 * 4096);
  fill_pattern(out.span(), 17);
  ASSERT_EQ(host.h.write(b, 1000, 64, out.data()), 0);
  ASSERT_EQ(host.h.flush(b), 0);
  ASSERT_EQ(host.h.read(b, 1000, 64, in.data()), 0);
  EXPECT_TRUE(test::equal(out, in));
  ASSERT_EQ(host.h.write_zeroes(b, 1010, 4), 0);
  ASSERT_EQ(host.h.read(b, 1000, 64, in.data()), 0);
  EXPECT_TRUE(test::all_zero(std::span<const std::byte>(in.data() + 10 * 4096, 4 * 4096)));

  EXPECT_EQ(host.h.write(b, 8190, 4, out.data()), -EINVAL);  // past the end, for now
  t.call("bdev_rbd_resize", {{"name", "Ceph0"}, {"new_size", 48}});
  ASSERT_TRUE(wait_until([&] { return b.num_blocks() == 48u * 1024 * 1024 / 4096; })) << b.num_blocks();
  ASSERT_EQ(host.h.write(b, 8190, 4, out.data()), 0);
  ASSERT_EQ(host.h.read(b, 8190, 4, in.data()), 0);
  EXPECT_EQ(std::memcmp(in.data(), out.data(), 4 * 4096), 0);

  for (auto* e : host.controllers.list()) (void)host.controllers.detach(e->name);
}

}  // namespace
}  // namespace nvmfd
