// The asynchronous host layer against our target (issue 14 S2, S4): admin commands and log
// reads started on another reactor complete on the admin (control) reactor; a connect
// blocks no reactor, can be cancelled, and a silent controller is a clear timeout that
// leaves no socket behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <thread>

#include "host/ana_log_reader.h"
#include "host/controller_connector.h"
#include "host/discovery_client.h"
#include "host/host_controller.h"
#include "local_target.h"
#include "nvme_tcp/socket.h"
#include "proto/nqn.h"

namespace nvmfd {
namespace {

transport_id trid_at(uint16_t port, const std::string& nqn) {
  transport_id id;
  id.traddr = "127.0.0.1";
  id.trsvcid = std::to_string(port);
  id.subnqn = nqn;
  return id;
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Waits (bounded) until the process has `want` fds again: closes on reactors are posted.
std::size_t fds_settled(std::size_t want) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (open_fds() != want && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  return open_fds();
}

// A listener that never accepts: the kernel completes TCP connects into its backlog, and an
// ICReq sent there is never answered.
struct silent_listener {
  int fd = -1;
  uint16_t port = 0;
  silent_listener() {
    auto l = tcp_listen("127.0.0.1", 0);
    EXPECT_TRUE(l.ok());
    fd = *l;
    port = local_address(fd)->port;
  }
  ~silent_listener() { ::close(fd); }
};

TEST(host_async, admin_commands_and_log_reads_from_another_reactor_complete_on_the_admin_reactor) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:async1", 512, 1024);
  reactor_pool pool(2);
  auto c = host_controller::connect(pool, trid_at(t.port(), "nqn.2016-06.io.nvmfd:async1"), {});
  ASSERT_TRUE(c.ok()) << c.err().message;
  std::shared_ptr<host_controller> ctrl = *c;

  std::promise<std::pair<reactor*, result<sync_result>>> identified;
  pool.at(1).post([&] {
    nvme_sqe cmd{};
    cmd.opcode = static_cast<uint8_t>(admin_opcode::identify);
    cmd.cdw10 = static_cast<uint32_t>(identify_cns::controller);
    ctrl->submit_admin(cmd, std::vector<std::byte>(4096), false, [&](result<sync_result> r) {
      identified.set_value({reactor::current(), std::move(r)});
    });
  });
  auto [where, r] = identified.get_future().get();
  EXPECT_EQ(where, &ctrl->admin_reactor());
  ASSERT_TRUE(r.ok()) << r.err().message;
  EXPECT_TRUE(r->completion.status.ok());
  EXPECT_EQ(load_wire<identify_controller>(r->data.data()).cntlid.get(), ctrl->cntlid().value);

  // A log page with a bad length fails on the admin reactor too (so never inside the call).
  std::promise<reactor*> refused;
  pool.at(1).post([&] {
    ctrl->get_log_page_async(0x02, 0, 6, 0, [&](result<std::vector<std::byte>> page) {
      EXPECT_FALSE(page.ok());
      refused.set_value(reactor::current());
    });
  });
  EXPECT_EQ(refused.get_future().get(), &ctrl->admin_reactor());

  // Without ANA reporting, the ANA reader says so (asynchronously).
  std::promise<result<ana_log_snapshot>> ana;
  read_ana_log_async(ctrl, [&](result<ana_log_snapshot> s) { ana.set_value(std::move(s)); });
  auto a = ana.get_future().get();
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.err().code, errc::not_supported);
  ctrl->disconnect();
}

TEST(host_async, the_discovery_log_reads_asynchronously_from_a_reactor) {
  test::local_target t;
  for (int i = 0; i < 3; ++i) t.add_subsystem("nqn.2016-06.io.nvmfd:dlog" + std::to_string(i), 512, 8);
  reactor_pool pool(2);
  auto c = host_controller::connect(pool, trid_at(t.port(), std::string(discovery_nqn)), {});
  ASSERT_TRUE(c.ok()) << c.err().message;
  std::shared_ptr<host_controller> ctrl = *c;
  std::promise<std::pair<reactor*, result<discovery_log>>> read;
  pool.at(1).post([&] {
    read_discovery_log_async(ctrl, [&](result<discovery_log> log) { read.set_value({reactor::current(), std::move(log)}); });
  });
  auto [where, log] = read.get_future().get();
  EXPECT_EQ(where, &ctrl->admin_reactor());
  ASSERT_TRUE(log.ok()) << log.err().message;
  EXPECT_EQ(log->numrec, log->entries.size());
  int ours = 0;
  for (auto& e : log->entries) ours += e.subnqn.starts_with("nqn.2016-06.io.nvmfd:dlog");
  EXPECT_EQ(ours, 3);
  ctrl->disconnect();
}

TEST(host_async, a_connect_holds_no_reactor_and_cancel_ends_it_leaving_no_socket) {
  silent_listener l;
  reactor_pool pool(2);
  for (unsigned i = 0; i < 2; ++i) pool.run_on(i, [] {});  // each reactor's ring is up
  std::size_t fds = open_fds();
  controller_options opts;
  opts.connect_timeout_ms = 60000;
  std::promise<result<std::shared_ptr<host_controller>>> connected;
  auto fut = connected.get_future();
  auto k = host_controller::connect_async(pool, trid_at(l.port, "nqn.2016-06.io.nvmfd:silent"), opts, {},
                                          [&](result<std::shared_ptr<host_controller>> c) {
                                            connected.set_value(std::move(c));
                                          });
  ASSERT_TRUE(k);
  // The control reactor, where the connect waits for its ICResp, still runs other work.
  for (int i = 0; i < 3; ++i) pool.run_on(0, [] {});
  EXPECT_EQ(fut.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  k->cancel();
  auto c = fut.get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::closed);
  EXPECT_NE(c.err().message.find("cancelled"), std::string::npos) << c.err().message;
  EXPECT_EQ(fds_settled(fds), fds);
}

TEST(host_async, an_unanswered_icreq_times_out_clearly_and_leaves_no_socket) {
  silent_listener l;
  reactor_pool pool(1);
  pool.run_on(0, [] {});
  std::size_t fds = open_fds();
  controller_options opts;
  opts.connect_timeout_ms = 200;
  auto c = host_controller::connect(pool, trid_at(l.port, "nqn.2016-06.io.nvmfd:silent"), opts);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::timed_out);
  EXPECT_NE(c.err().message.find("ICReq/ICResp exchange timed out"), std::string::npos) << c.err().message;
  EXPECT_EQ(fds_settled(fds), fds);
}

TEST(host_async, a_transport_id_without_subnqn_fails_at_once) {
  reactor_pool pool(1);
  std::promise<result<std::shared_ptr<host_controller>>> done;
  auto k = host_controller::connect_async(pool, trid_at(4420, ""), {}, {},
                                          [&](result<std::shared_ptr<host_controller>> c) {
                                            done.set_value(std::move(c));
                                          });
  EXPECT_FALSE(k);
  auto c = done.get_future().get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::invalid_argument);
}

}  // namespace
}  // namespace nvmfd
