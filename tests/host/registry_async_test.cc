// The registry's asynchronous attach and detach (what discovery services call on the control
// reactor, holding a control token they acquired there): the same results and the same
// errors, word for word, as the blocking forms the RPC handlers call.
#include <gtest/gtest.h>

#include <memory>

#include "host_side.h"
#include "local_target.h"
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

}  // namespace
}  // namespace nvmfd
