#pragma once
// The fixture of the RBD bdev tests against a real Ceph cluster (run under
// tests/ceph/ceph_cluster.sh run --, which exports CEPH_CONF, CEPH_KEYRING, CEPH_USER,
// CEPH_POOL, CEPH_DIR and CEPH_CLUSTER_SH): the RPC handlers the daemon uses on a bdev_harness
// of two reactors, and helpers for images and for stopping and restarting an OSD.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "bdev/bdev_registry.h"
#include "bdev/rbd/rbd_cluster.h"
#include "bdev_harness.h"
#include "rpc/bdev_rbd_rpc.h"
#include "rpc/bdev_rpc.h"

namespace nvmfd::test {

inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// `rbd create` through the cluster's own tool (CEPH_CONF in the environment).
inline void create_image(const std::string& image, const char* size) {
  std::string cmd = "rbd create --size " + std::string(size) + " " + env("CEPH_POOL") + "/" + image;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

class RbdBdevTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("CEPH_CONF").empty()) GTEST_SKIP() << "no Ceph cluster: run under tests/ceph/ceph_cluster.sh run --";
    add_bdev_methods(methods, bdevs);
    add_bdev_rbd_methods(methods, bdevs, clusters, h.pool());
  }
  void TearDown() override {
    for (auto& b : bdevs.list()) (void)bdevs.remove(b->name());
  }

  result<json> call(const std::string& method, const json& params) {
    const rpc_handler* fn = methods.find(method);
    if (!fn) return error{errc::not_supported, method};
    return (*fn)(params);
  }
  json register_cluster(const std::string& name) {
    auto r = call("bdev_rbd_register_cluster", {{"name", name}, {"user_id", env("CEPH_USER")},
                                                {"config_file", env("CEPH_CONF")}, {"key_file", env("CEPH_KEYRING")}});
    EXPECT_TRUE(r) << r.err().message;
    return r ? r.value() : json();
  }
  // A fresh image and an rbd bdev on it through the named cluster.
  std::shared_ptr<bdev> create_bdev(const std::string& name, const std::string& image, const std::string& cluster,
                                    uint32_t block_size = 512) {
    create_image(image, "64M");
    auto r = call("bdev_rbd_create", {{"name", name}, {"pool_name", env("CEPH_POOL")}, {"rbd_name", image},
                                      {"block_size", block_size}, {"cluster_name", cluster}});
    EXPECT_TRUE(r) << r.err().message;
    return bdevs.find(name);
  }

  // osd.ID of the test's cluster stopped (until it has exited) or started (until it is up).
  static bool osd(const char* verb, int id) {
    std::string cmd = "bash " + env("CEPH_CLUSTER_SH") + " " + verb + " " + env("CEPH_DIR") + " " + std::to_string(id);
    return std::system(cmd.c_str()) == 0;
  }

  bdev_harness h{2};  // outlives the bdevs: their completions are watched on its reactors
  rbd_cluster_registry clusters;
  bdev_registry bdevs;
  rpc_method_table methods;
};

}  // namespace nvmfd::test
