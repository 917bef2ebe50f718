#include <gtest/gtest.h>

#include "host/host_controller.h"
#include "local_target.h"

namespace nvmfd {
namespace {

transport_id trid_for(const test::local_target& t, const std::string& nqn) {
  transport_id id;
  id.traddr = "127.0.0.1";
  id.trsvcid = t.port_text();
  id.subnqn = nqn;
  return id;
}

TEST(host_controller, connects_identifies_and_lists_namespaces) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:host1", 512, 32768);
  reactor_pool pool(2);
  auto c = host_controller::connect(pool, trid_for(t, "nqn.2016-06.io.nvmfd:host1"), {});
  ASSERT_TRUE(c.ok()) << c.err().message;
  auto& ctrl = **c;
  EXPECT_EQ(ctrl.io_queue_count(), 2u);
  ASSERT_EQ(ctrl.namespaces().size(), 1u);
  EXPECT_EQ(ctrl.namespaces()[0].num_blocks, 32768u);
  EXPECT_EQ(ctrl.namespaces()[0].block_size, 512u);
  EXPECT_EQ(ctrl.max_transfer_bytes(), 1u << 20);
  ctrl.disconnect();
}

TEST(host_controller, unknown_subsystem_is_a_clear_error) {
  test::local_target t;
  reactor_pool pool(1);
  auto c = host_controller::connect(pool, trid_for(t, "nqn.2016-06.io.nvmfd:nope"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.err().message.find("nqn.2016-06.io.nvmfd:nope"), std::string::npos) << c.err().message;
}

TEST(host_controller, refused_host_is_a_clear_error) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:closed", 512, 1024, false);
  reactor_pool pool(1);
  auto c = host_controller::connect(pool, trid_for(t, "nqn.2016-06.io.nvmfd:closed"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.err().message.find("not allowed"), std::string::npos) << c.err().message;
}

}  // namespace
}  // namespace nvmfd
