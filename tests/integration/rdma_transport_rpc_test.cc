// nvmf_create_transport with trtype RDMA through the daemon's RPC handlers: bad params are
// refused by name before anything is made; on a machine without an RDMA device (this one:
// no rxe, no HCA) the error says so and how to add a soft-RoCE device; an RDMA listener
// needs the transport first. The transport itself runs in the guest (tests/interop/
// kernel_rdma.sh), where soft-RoCE exists.
#include <infiniband/verbs.h>

#include <gtest/gtest.h>

#include "rpc_target.h"

namespace nvmfd {
namespace {

bool machine_has_rdma_device() {
  int n = 0;
  ibv_device** list = ibv_get_device_list(&n);
  if (list) ibv_free_device_list(list);
  return list && n > 0;
}

TEST(rdma_transport_rpc, bad_params_are_named) {
  rpc_target t;
  auto r = t.call("nvmf_create_transport", {{"trtype", "RDMA"}, {"max_io_size", 5000}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("max_io_size"), std::string::npos) << r.err().message;
  r = t.call("nvmf_create_transport", {{"trtype", "RDMA"}, {"acceptor_backlog", 0}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("acceptor_backlog"), std::string::npos) << r.err().message;
  r = t.call("nvmf_create_transport", {{"trtype", "RDMA"}, {"no_such_option", 1}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("no_such_option"), std::string::npos) << r.err().message;
  r = t.call("nvmf_create_transport", {{"trtype", "FC"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("TCP and RDMA"), std::string::npos) << r.err().message;
}

TEST(rdma_transport_rpc, no_rdma_device_is_a_clear_error) {
  if (machine_has_rdma_device()) GTEST_SKIP() << "this machine has an RDMA device";
  rpc_target t;
  auto r = t.call("nvmf_create_transport", {{"trtype", "rdma"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("no RDMA device"), std::string::npos) << r.err().message;
  EXPECT_NE(r.err().message.find("rdma link add"), std::string::npos) << r.err().message;
  auto ts = t.call("nvmf_get_transports");
  ASSERT_TRUE(ts.ok());
  EXPECT_TRUE(ts->empty());
}

TEST(rdma_transport_rpc, rdma_listener_needs_the_transport) {
  rpc_target t;
  const std::string nqn = "nqn.2016-06.io.spdk:cnode1";
  ASSERT_TRUE(t.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}}).ok());
  auto r = t.call("nvmf_subsystem_add_listener",
                  {{"nqn", nqn},
                   {"listen_address", {{"trtype", "RDMA"}, {"adrfam", "IPv4"}, {"traddr", "127.0.0.1"}, {"trsvcid", "4420"}}}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("RDMA"), std::string::npos) << r.err().message;
}

}  // namespace
}  // namespace nvmfd
