// The RBD bdev against a real Ceph cluster (no mock of librbd): run under
//   tests/ceph/ceph_cluster.sh run -- rbd_bdev_test
// (rbd_bdev_fixture.h); rbd_cluster_gone_test.cc stops the cluster's OSD. Clusters and bdevs are set
// up through the RPC handlers the daemon uses; I/O goes through bdev_harness, which counts
// completions on the wrong thread and inline ones.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bdev/rbd/rbd_bdev.h"
#include "rpc/config_loader.h"
#include "tests/ceph/rbd_bdev_fixture.h"
#include "tests/lib/wait_until.h"

namespace nvmfd::test {
namespace {

TEST_F(RbdBdevTest, VerifiedIoOfSeveralSizesFromTwoReactors) {
  register_cluster("c");
  auto b = create_bdev("Ceph0", "io", "c");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->block_size(), 512u);
  EXPECT_EQ(b->num_blocks(), 64u * 1024 * 1024 / 512);

  // The first I/O (librbd's first write to an image) on its own, timed.
  aligned_buffer first(4096), first_back(4096);
  fill_pattern(first.span(), 99);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(h.write(*b, 0, 8, first.data()), 0);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_EQ(h.read(*b, 0, 8, first_back.data()), 0);
  auto t2 = std::chrono::steady_clock::now();
  EXPECT_TRUE(equal(first, first_back));
  std::printf("first write %.2f ms, first read %.2f ms\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count());

  // Writes of 1 block to 2 MiB (across RADOS object boundaries: 4 MiB objects), half from
  // each reactor (the bdev's completions are watched by reactor 0: reactor 1's come back by
  // a post), then read back from the other reactor.
  const std::vector<uint64_t> counts = {1, 7, 8, 64, 255, 1024, 4096};
  std::vector<aligned_buffer> data, back;
  std::vector<bdev_io> writes(counts.size()), reads(counts.size());
  uint64_t offset = 8190;  // crosses the first object boundary (8192 blocks) with the larger ones
  for (std::size_t i = 0; i < counts.size(); ++i) {
    data.emplace_back(counts[i] * 512);
    back.emplace_back(counts[i] * 512);
    fill_pattern(data[i].span(), i + 1);
    writes[i] = h.make(bdev_op::write, offset, counts[i], data[i].data());
    reads[i] = h.make(bdev_op::read, offset, counts[i], back[i].data());
    offset += counts[i] + 3;
  }
  for (std::size_t i = 0; i < counts.size(); ++i) h.submit_on(i % 2, *b, std::span(&writes[i], 1));
  ASSERT_TRUE(h.wait());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    EXPECT_EQ(writes[i].status, 0) << counts[i];
    h.submit_on((i + 1) % 2, *b, std::span(&reads[i], 1));
  }
  ASSERT_TRUE(h.wait());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    EXPECT_EQ(reads[i].status, 0) << counts[i];
    EXPECT_TRUE(equal(data[i], back[i])) << counts[i] << " blocks";
  }
  EXPECT_EQ(h.inline_completions(), 0);
  EXPECT_EQ(h.wrong_thread_completions(), 0);

  // Out of range: -EINVAL, completed later on the submitting reactor like any other.
  aligned_buffer one(512);
  EXPECT_EQ(h.read(*b, b->num_blocks(), 1, one.data()), -EINVAL);
  EXPECT_EQ(h.write(*b, b->num_blocks() - 1, 2, data[1].data()), -EINVAL);
  EXPECT_EQ(h.inline_completions(), 0);
}

TEST_F(RbdBdevTest, FlushFuaWriteZeroesAndUnmapReadBackZeroes) {
  register_cluster("c");
  auto b = create_bdev("Ceph0", "zeroes", "c", 4096);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->has_volatile_cache());  // Ceph 16's default: rbd_cache = true

  const uint64_t n = 2048;  // 8 MiB: two whole RADOS objects
  aligned_buffer data(n * 4096), back(n * 4096);
  fill_pattern(data.span(), 7);
  ASSERT_EQ(h.write(*b, 0, n, data.data()), 0);
  ASSERT_EQ(h.flush(*b), 0);
  ASSERT_EQ(h.write(*b, n, 16, data.data(), /*fua=*/true), 0);

  // write_zeroes on a partial range, unmap on a whole object and a partial tail.
  ASSERT_EQ(h.write_zeroes(*b, 3, 5), 0);
  ASSERT_EQ(h.unmap(*b, 1024, 1030), 0);  // object 1 (blocks 1024..2047) whole, plus 6 of n..
  ASSERT_EQ(h.read(*b, 0, n, back.data()), 0);
  auto block = [&](aligned_buffer& buf, uint64_t i) { return std::span<const std::byte>(buf.data() + i * 4096, 4096); };
  for (uint64_t i = 0; i < n; ++i) {
    bool zero = (i >= 3 && i < 8) || i >= 1024;
    if (zero) {
      ASSERT_TRUE(all_zero(block(back, i))) << "block " << i;
    } else {
      ASSERT_TRUE(std::equal(block(back, i).begin(), block(back, i).end(), block(data, i).begin())) << "block " << i;
    }
  }
  aligned_buffer tail(16 * 4096);
  ASSERT_EQ(h.read(*b, n, 16, tail.data()), 0);
  EXPECT_TRUE(all_zero(std::span<const std::byte>(tail.data(), 6 * 4096)));
  EXPECT_TRUE(std::equal(tail.data() + 6 * 4096, tail.data() + 16 * 4096, data.data() + 6 * 4096));
  ASSERT_EQ(h.flush(*b), 0);
  EXPECT_EQ(h.inline_completions(), 0);
  EXPECT_EQ(h.wrong_thread_completions(), 0);
}

// Writes are writeback from the first one (rbd_cache_writethrough_until_flush = false by
// default): a completed FLUSH is what makes them durable, so another client (its own
// connection and cache) reads them after it.
TEST_F(RbdBdevTest, FlushMakesWritesVisibleToAnotherClient) {
  register_cluster("c");
  auto b = create_bdev("Ceph0", "durable", "c");
  ASSERT_TRUE(b);
  const uint64_t n = 256;
  aligned_buffer data(n * 512), back(n * 512);
  fill_pattern(data.span(), 21);
  ASSERT_EQ(h.write(*b, 100, n, data.data()), 0);
  ASSERT_EQ(h.flush(*b), 0);
  auto r = call("bdev_rbd_create", {{"name", "Other"}, {"pool_name", env("CEPH_POOL")}, {"rbd_name", "durable"},
                                    {"block_size", 512}, {"user_id", env("CEPH_USER")},
                                    {"config", {{"mon_host", env("CEPH_MON_HOST")}, {"key", env("CEPH_KEY")}}}});
  ASSERT_TRUE(r) << r.err().message;
  auto other = bdevs.find("Other");
  ASSERT_TRUE(other);
  ASSERT_EQ(h.read(*other, 100, n, back.data()), 0);
  EXPECT_TRUE(equal(data, back));
}

TEST_F(RbdBdevTest, BadParamsGiveClearErrors) {
  register_cluster("c");
  create_image("exists", "8M");
  auto create = [&](json extra) {
    json p = {{"pool_name", env("CEPH_POOL")}, {"rbd_name", "exists"}, {"block_size", 512}, {"cluster_name", "c"}};
    p.update(extra);
    return call("bdev_rbd_create", p);
  };
  auto r = create({{"cluster_name", "nope"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::not_found);
  EXPECT_NE(r.err().message.find("nope"), std::string::npos) << r.err().message;

  r = create({{"rbd_name", "missing"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::not_found);
  EXPECT_NE(r.err().message.find("missing"), std::string::npos) << r.err().message;

  r = create({{"pool_name", "nopool"}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("nopool"), std::string::npos) << r.err().message;

  r = create({{"block_size", 1000}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::invalid_argument);

  r = call("bdev_rbd_create", {{"pool_name", env("CEPH_POOL")}, {"rbd_name", "exists"}});
  ASSERT_FALSE(r);  // block_size is required, as in SPDK
  EXPECT_EQ(r.err().code, errc::invalid_argument);

  r = call("bdev_rbd_register_cluster", {{"name", "c"}, {"config_file", env("CEPH_CONF")}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::already_exists);
  r = call("bdev_rbd_register_cluster", {{"name", "d"}, {"config_file", "/nonexistent/ceph.conf"}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("/nonexistent/ceph.conf"), std::string::npos) << r.err().message;
  EXPECT_FALSE(call("bdev_rbd_get_clusters_info", {{"name", "d"}}));
  EXPECT_FALSE(call("bdev_rbd_unregister_cluster", {{"name", "d"}}));
  EXPECT_FALSE(call("bdev_rbd_delete", {{"name", "nothing"}}));
}

TEST_F(RbdBdevTest, ClusterInUseCannotBeUnregistered) {
  register_cluster("c");
  auto info = call("bdev_rbd_get_clusters_info", {{"name", "c"}});
  ASSERT_TRUE(info);
  EXPECT_EQ(info.value()["cluster_name"], "c");
  EXPECT_EQ(info.value()["config_file"], env("CEPH_CONF"));
  EXPECT_EQ(info.value()["key_file"], env("CEPH_KEYRING"));

  auto b = create_bdev("Ceph0", "used", "c");
  ASSERT_TRUE(b);
  b.reset();
  auto r = call("bdev_rbd_unregister_cluster", {{"name", "c"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.err().code, errc::busy);
  EXPECT_EQ(rpc_error_code(r.err()), -EBUSY);

  auto bdev_info = call("bdev_get_bdevs", {{"name", "Ceph0"}});
  ASSERT_TRUE(bdev_info);
  const json& j = bdev_info.value()[0];
  EXPECT_EQ(j["product_name"], "Ceph Rbd Disk");
  EXPECT_EQ(j["driver_specific"]["rbd"]["pool_name"], env("CEPH_POOL"));
  EXPECT_EQ(j["driver_specific"]["rbd"]["rbd_name"], "used");
  EXPECT_EQ(j["driver_specific"]["rbd"]["cluster_name"], "c");

  // save_config: the cluster is registered before the bdev that names it is created.
  json saved = save_config(methods);
  std::string text = saved.dump();
  auto reg = text.find("bdev_rbd_register_cluster"), create = text.find("bdev_rbd_create");
  ASSERT_NE(reg, std::string::npos) << text;
  ASSERT_NE(create, std::string::npos) << text;
  EXPECT_LT(reg, create);

  // Delete and re-load the saved config into a fresh world: same bdev, same UUID.
  std::string id = j["uuid"];
  ASSERT_TRUE(call("bdev_rbd_delete", {{"name", "Ceph0"}}));
  EXPECT_FALSE(bdevs.find("Ceph0"));
  ASSERT_TRUE(call("bdev_rbd_unregister_cluster", {{"name", "c"}}));
  auto loaded = load_config(saved, methods);
  ASSERT_TRUE(loaded) << loaded.err().message;
  auto again = bdevs.find("Ceph0");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id().to_string(), id);
}

TEST_F(RbdBdevTest, ResizeGrowsImageAndBdevAndTellsObservers) {
  register_cluster("c");
  auto b = create_bdev("Ceph0", "grow", "c");
  ASSERT_TRUE(b);
  uint64_t old_blocks = b->num_blocks();
  std::atomic<int> told{0};
  auto token = b->add_resize_observer([&] { ++told; });

  auto r = call("bdev_rbd_resize", {{"name", "Ceph0"}, {"new_size", 32}});
  ASSERT_FALSE(r);  // smaller than the 64 MiB it has: refused, as SPDK
  EXPECT_EQ(r.err().code, errc::invalid_argument);
  EXPECT_FALSE(call("bdev_rbd_resize", {{"name", "nothing"}, {"new_size", 128}}));

  aligned_buffer data(4096), back(4096);
  fill_pattern(data.span(), 11);
  EXPECT_EQ(h.write(*b, old_blocks, 8, data.data()), -EINVAL);  // past the end, before
  r = call("bdev_rbd_resize", {{"name", "Ceph0"}, {"new_size", 80}});
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(b->num_blocks(), 80u * 1024 * 1024 / 512);
  EXPECT_EQ(told.load(), 1);
  ASSERT_EQ(h.write(*b, old_blocks, 8, data.data()), 0);  // librbd takes it: the image grew
  ASSERT_EQ(h.read(*b, old_blocks, 8, back.data()), 0);
  EXPECT_TRUE(equal(data, back));

  // Resized by another client (the rbd tool): the header watch brings the new size, once.
  std::string grow = "rbd resize --size 96M " + env("CEPH_POOL") + "/grow";
  ASSERT_EQ(std::system(grow.c_str()), 0);
  ASSERT_TRUE(wait_until([&] { return b->num_blocks() == 96u * 1024 * 1024 / 512; })) << b->num_blocks();
  ASSERT_TRUE(wait_until([&] { return told.load() == 2; })) << told.load();
  ASSERT_EQ(h.write(*b, 90u * 2048, 8, data.data()), 0);
  std::string shrink = "rbd resize --allow-shrink --size 72M " + env("CEPH_POOL") + "/grow 2>/dev/null";
  ASSERT_EQ(std::system(shrink.c_str()), 0);
  ASSERT_TRUE(wait_until([&] { return b->num_blocks() == 72u * 1024 * 1024 / 512; })) << b->num_blocks();
  EXPECT_EQ(h.write(*b, 90u * 2048, 8, data.data()), -EINVAL);
  EXPECT_EQ(told.load(), 3);
  b->remove_resize_observer(token);
}

TEST_F(RbdBdevTest, ClientTimeoutsAreSetByDefault) {
  register_cluster("c");
  auto c = clusters.find("c");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->conf_get("rados_osd_op_timeout"), "30");
  EXPECT_EQ(c->conf_get("rados_mon_op_timeout"), "30");
  EXPECT_EQ(c->conf_get("client_mount_timeout"), "30");
  EXPECT_EQ(c->osd_op_timeout_s(), 30u);
  // Writeback from the first write: the bdev reports a volatile cache, hosts flush.
  EXPECT_EQ(c->conf_get("rbd_cache_writethrough_until_flush"), "false");
  // config_param wins.
  auto r = call("bdev_rbd_register_cluster",
                {{"name", "d"},
                 {"config_file", env("CEPH_CONF")},
                 {"config_param", {{"rados_osd_op_timeout", "7"}, {"rbd_cache_writethrough_until_flush", "true"}}}});
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(clusters.find("d")->conf_get("rados_osd_op_timeout"), "7");
  EXPECT_EQ(clusters.find("d")->conf_get("rbd_cache_writethrough_until_flush"), "true");
}

TEST_F(RbdBdevTest, PrivateConnectionWithoutClusterName) {
  create_image("private", "8M");
  auto r = call("bdev_rbd_create", {{"pool_name", env("CEPH_POOL")}, {"rbd_name", "private"}, {"block_size", 512},
                                    {"user_id", env("CEPH_USER")},
                                    {"config", {{"mon_host", env("CEPH_MON_HOST")}, {"key", env("CEPH_KEY")}}}});
  ASSERT_TRUE(r) << r.err().message;
  EXPECT_EQ(r.value(), "Ceph0");
  auto b = bdevs.find("Ceph0");
  ASSERT_TRUE(b);
  aligned_buffer data(512), back(512);
  fill_pattern(data.span(), 3);
  ASSERT_EQ(h.write(*b, 5, 1, data.data()), 0);
  ASSERT_EQ(h.read(*b, 5, 1, back.data()), 0);
  EXPECT_TRUE(equal(data, back));
  auto info = call("bdev_get_bdevs", {{"name", "Ceph0"}});
  ASSERT_TRUE(info);
  EXPECT_EQ(info.value()[0]["driver_specific"]["rbd"]["config"]["mon_host"], env("CEPH_MON_HOST"));
}

}  // namespace
}  // namespace nvmfd::test
