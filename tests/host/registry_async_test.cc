// The registry's asynchronous attach and detach (what discovery services call on the control
// reactor, holding a control token they acquired there): the same results and the same
// errors, word for word, as the blocking forms the RPC handlers call.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <future>
#include <memory>

#include "host_side.h"
#include "local_target.h"
#include "nvme_tcp/socket.h"
#include "reactor/blocking_call.h"

namespace nvmfd {
namespace {

using test::host_side;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:async";

// Runs op(done) on the control reactor holding a control token taken there (acquire), and
// waits for its result; the token goes back when done runs.
template <class T, class Op>
result<T> with_token(nvme_controller_registry& reg, Op op) {
  return blocking_call<T>(reg.pool().control(), [&reg, op](completion<T> done) mutable {
    reg.control().acquire([op, done = std::move(done)](control_queue::token t) mutable {
      auto held = std::make_shared<control_queue::token>(std::move(t));
      op(completion<T>([held, done = std::move(done)](result<T> r) mutable {
        held->unlock();
        done(std::move(r));
      }));
    });
  });
}

struct registry_async : ::testing::Test {
  test::local_target t;
  host_side host;
  void SetUp() override { t.add_subsystem(nqn); }
  nvme_attach_request request(const std::string& name, const std::string& owner) {
    nvme_attach_request r;
    r.name = name;
    r.trid.traddr = "127.0.0.1";
    r.trid.trsvcid = t.port_text();
    r.trid.subnqn = nqn;
    r.owner = owner;
    return r;
  }
  result<std::vector<std::string>> attach_async(nvme_attach_request req) {
    return with_token<std::vector<std::string>>(host.controllers, [this, req](auto done) mutable {
      host.controllers.attach_async(std::move(req), std::move(done));
    });
  }
  result<void> detach_path_async(const std::string& name, const std::string& owner) {
    return with_token<void>(host.controllers, [this, name, owner](auto done) {
      host.controllers.detach_path_async(name, "127.0.0.1", t.port_text(), owner, std::move(done));
    });
  }
};

TEST_F(registry_async, attach_and_detach_give_what_the_blocking_forms_give) {
  auto made = attach_async(request("A", "discovery:x"));
  ASSERT_TRUE(made.ok()) << made.err().message;
  EXPECT_EQ(*made, std::vector<std::string>({"An1"}));
  ASSERT_TRUE(host.bdevs.find("An1"));

  // The same errors as the blocking forms, message and errno alike.
  auto again_async = attach_async(request("A", "discovery:x"));
  result<std::vector<std::string>> again_sync = error{errc::io_error, ""};
  {
    auto control = host.controllers.lock_control();
    again_sync = host.controllers.attach(request("A", "discovery:x"));
  }
  ASSERT_FALSE(again_async.ok());
  ASSERT_FALSE(again_sync.ok());
  EXPECT_EQ(again_async.err().message, again_sync.err().message);
  EXPECT_EQ(again_async.err().sys_errno, again_sync.err().sys_errno);
  EXPECT_EQ(again_async.err().message, "A controller named A already exists");

  auto not_yours = detach_path_async("A", "rpc");
  ASSERT_FALSE(not_yours.ok());
  EXPECT_EQ(not_yours.err().sys_errno, EPERM);
  EXPECT_NE(not_yours.err().message.find("discovery:x"), std::string::npos) << not_yours.err().message;
  EXPECT_TRUE(host.bdevs.find("An1"));

  auto gone = detach_path_async("A", "discovery:x");
  EXPECT_TRUE(gone.ok()) << gone.err().message;
  EXPECT_FALSE(host.bdevs.find("An1"));
  auto missing = detach_path_async("A", "discovery:x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.err().message, "Controller A not found");
}

TEST_F(registry_async, detach_owned_removes_that_owners_paths_only) {
  ASSERT_TRUE(attach_async(request("A", "discovery:x")).ok());
  ASSERT_TRUE(attach_async(request("B", "discovery:x")).ok());
  {
    auto control = host.controllers.lock_control();
    ASSERT_TRUE(host.controllers.attach(request("C", "rpc")).ok());
  }
  auto gone = with_token<std::vector<std::string>>(host.controllers, [this](auto done) {
    host.controllers.detach_owned_async("discovery:x", std::move(done));
  });
  ASSERT_TRUE(gone.ok());
  ASSERT_EQ(gone->size(), 2u);
  EXPECT_EQ((*gone)[0], "A 127.0.0.1:" + t.port_text());
  EXPECT_FALSE(host.bdevs.find("An1"));
  EXPECT_FALSE(host.bdevs.find("Bn1"));
  EXPECT_TRUE(host.bdevs.find("Cn1"));
}

// The attach runs on the control reactor while it waits for the connect: the reactor keeps
// running other work, and the attach ends with the connect's error and leaves nothing.
TEST_F(registry_async, an_attach_waiting_for_a_silent_controller_holds_no_reactor) {
  // A listener that never accepts: the kernel completes the TCP connect into its backlog and
  // the ICReq is never answered; closing it resets the connection.
  auto l = tcp_listen("127.0.0.1", 0);
  ASSERT_TRUE(l.ok()) << l.err().message;
  int fd = *l;
  uint16_t port = local_address(fd)->port;
  auto req = request("S", "discovery:x");
  req.trid.trsvcid = std::to_string(port);
  req.opts.connect_timeout_ms = 600000;  // ended by the reset below, not by the clock

  std::promise<result<std::vector<std::string>>> attached;
  auto fut = attached.get_future();
  reactor& control = host.controllers.pool().control();
  control.post([&] {
    host.controllers.control().acquire([&](control_queue::token t) {
      auto held = std::make_shared<control_queue::token>(std::move(t));
      host.controllers.attach_async(req, [&, held](result<std::vector<std::string>> r) {
        held->unlock();
        attached.set_value(std::move(r));
      });
    });
  });
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 60000), 1) << "the attach connects";
  for (int i = 0; i < 3; ++i) host.controllers.pool().run_on(0, [] {});  // the control reactor is free
  EXPECT_EQ(fut.wait_for(std::chrono::seconds(0)), std::future_status::timeout);

  ::close(fd);
  auto r = fut.get();
  ASSERT_FALSE(r.ok());
  std::string prefix = std::string("S: ") + nqn + " at 127.0.0.1:" + std::to_string(port) + ": ";
  EXPECT_TRUE(r.err().message.starts_with(prefix)) << r.err().message;
  EXPECT_NE(r.err().sys_errno, 0);
  auto control_token = host.controllers.lock_control();
  EXPECT_FALSE(host.controllers.find("S"));
  EXPECT_FALSE(host.bdevs.find("Sn1"));
}

}  // namespace
}  // namespace nvmfd
