#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <thread>

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

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(host_controller, disconnect_async_from_a_reactor_lets_the_last_reference_go_there) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:async", 512, 1024);
  reactor_pool pool(2);
  for (unsigned i = 0; i < 2; ++i) pool.run_on(i, [] {});  // each reactor's ring is up
  std::size_t fds = open_fds();
  auto c = host_controller::connect(pool, trid_for(t, "nqn.2016-06.io.nvmfd:async"), {});
  ASSERT_TRUE(c.ok()) << c.err().message;
  std::shared_ptr<host_controller> ctrl = std::move(c.value());
  std::promise<reactor*> done;
  // From reactor 1, which holds the only reference: the controller holds itself until the
  // teardown is over, then goes on the control reactor (its destructor has nothing to wait for).
  pool.at(1).post([ctrl = std::move(ctrl), &done]() mutable {
    ctrl->disconnect_async([&done](result<void> r) {
      EXPECT_TRUE(r.ok());
      done.set_value(reactor::current());
    });
    ctrl.reset();
  });
  EXPECT_EQ(done.get_future().get(), &pool.control());
  // Every queue's socket is closed; the target's ends close once it has seen that.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (open_fds() != fds && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(open_fds(), fds);
}

}  // namespace
}  // namespace nvmfd
