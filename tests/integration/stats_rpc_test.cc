// The statistics RPCs on a target serving a host over TCP: bdev_get_iostat counts exactly the
// ops and bytes the host sent (and per_channel splits them by reactor; reset_mode clears what
// it says), nvmf_get_stats shows the queues and the completed commands, and
// nvmf_subsystem_get_qpairs the host's queues; log_set_level / log_get_level change the level.
#include <gtest/gtest.h>

#include <vector>

#include "base/log.h"
#include "rpc/log_rpc.h"
#include "rpc/stats_rpc.h"
#include "target_test.h"
#include "test_controller.h"
#include "test_support.h"

namespace nvmfd {
namespace {

class stats_rpc_test : public target_test {
 protected:
  void SetUp() override {
    target_test::SetUp();
    add_stats_methods(methods_, fx->target().reactors(), fx->bdevs(), fx->target());
    add_log_methods(methods_);
  }
  json call(const std::string& method, const json& params = json::object()) {
    auto r = (*methods_.find(method))(params);
    EXPECT_TRUE(r.ok()) << method << ": " << (r.ok() ? "" : r.err().message);
    return r.ok() ? *r : json();
  }
  result<json> try_call(const std::string& method, const json& params) { return (*methods_.find(method))(params); }
  json iostat_of(const std::string& name, const json& extra = json::object()) {
    json p = {{"names", {name}}};
    p.update(extra);
    auto r = call("bdev_get_iostat", p);
    return r.is_object() && r["bdevs"].size() == 1 ? r["bdevs"][0] : json();
  }

  rpc_method_table methods_;
};

TEST_F(stats_rpc_test, iostat_counts_exactly_what_the_host_did) {
  auto c = connect_controller();
  ASSERT_TRUE(ok(c)) << c.err().message;
  const auto& dev = fx->ns_dev(target_fixture::ns_512);
  const std::string name = dev->name();
  json before = iostat_of(name);
  ASSERT_TRUE(before.is_object());

  auto data = random_bytes(8 * 512, 1);
  for (int i = 0; i < 7; ++i)
    ASSERT_TRUE(succeeded(c->io.write(target_fixture::ns_512, i * 8, data, 512, i % 2 ? write_mode::r2t : write_mode::in_capsule)));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(succeeded(c->io.read(target_fixture::ns_512, i * 8, 2, 512)));
  ASSERT_TRUE(succeeded(c->io.write_zeroes(target_fixture::ns_512, 100, 16)));
  std::vector<lba_range> ranges{{200, 10}, {300, 6}};
  ASSERT_TRUE(succeeded(c->io.dsm_deallocate(target_fixture::ns_512, ranges)));
  ASSERT_TRUE(succeeded(c->io.flush(target_fixture::ns_512)));

  json after = iostat_of(name);
  auto delta = [&](const char* k) { return after[k].get<uint64_t>() - before[k].get<uint64_t>(); };
  EXPECT_EQ(delta("num_write_ops"), 7u);
  EXPECT_EQ(delta("bytes_written"), 7u * 4096);
  EXPECT_EQ(delta("num_read_ops"), 5u);
  EXPECT_EQ(delta("bytes_read"), 5u * 1024);
  EXPECT_EQ(delta("num_write_zeroes_ops"), 1u);
  EXPECT_EQ(delta("bytes_zeroed"), 16u * 512);
  EXPECT_GE(delta("num_unmap_ops"), 1u);
  EXPECT_EQ(delta("bytes_unmapped"), 16u * 512);
  EXPECT_EQ(delta("num_flush_ops"), 1u);
  EXPECT_EQ(after["num_io_errors"], before["num_io_errors"]);
  EXPECT_GT(after["write_latency_ticks"].get<uint64_t>(), 0u);
  EXPECT_GE(after["max_write_latency_ticks"].get<uint64_t>(), after["min_write_latency_ticks"].get<uint64_t>());
  EXPECT_GT(after["min_read_latency_ticks"].get<uint64_t>(), 0u);
  EXPECT_EQ(after["num_copy_ops"], 0);

  // Every bdev I/O of an I/O queue is one completed command of its poll group.
  json stats = call("nvmf_get_stats");
  ASSERT_EQ(stats["poll_groups"].size(), 2u);
  uint64_t admin = 0, io = 0, completed = 0, pending = 0;
  for (auto& g : stats["poll_groups"]) {
    admin += g["current_admin_qpairs"].get<uint64_t>();
    io += g["current_io_qpairs"].get<uint64_t>();
    completed += g["completed_nvme_io"].get<uint64_t>();
    pending += g["pending_bdev_io"].get<uint64_t>();
    EXPECT_EQ(g["transports"], json::parse(R"([{"trtype":"TCP"}])"));
    EXPECT_GE(g["admin_qpairs"].get<uint64_t>(), g["current_admin_qpairs"].get<uint64_t>());
  }
  EXPECT_EQ(stats["poll_groups"][0]["name"], "nvmf_tgt_poll_group_000");
  EXPECT_EQ(admin, 1u);
  EXPECT_EQ(io, 1u);
  EXPECT_EQ(pending, 0u);
  uint64_t ops = 0;
  for (const char* k : {"num_write_ops", "num_read_ops", "num_write_zeroes_ops", "num_unmap_ops", "num_flush_ops"})
    ops += after[k].get<uint64_t>();
  EXPECT_EQ(completed, ops);

  // per_channel: one entry per reactor that did I/O; they add up to the totals.
  json pc = call("bdev_get_iostat", {{"names", {name}}, {"per_channel", true}});
  EXPECT_EQ(pc["name"], name);
  ASSERT_GE(pc["channels"].size(), 1u);
  uint64_t writes = 0;
  for (auto& ch : pc["channels"]) {
    EXPECT_LT(ch["thread_id"].get<unsigned>(), 2u);
    writes += ch["num_write_ops"].get<uint64_t>();
  }
  EXPECT_EQ(writes, after["num_write_ops"].get<uint64_t>());
  EXPECT_FALSE(try_call("bdev_get_iostat", {{"per_channel", true}}).ok()) << "per_channel needs one bdev";

  // reset_mode: the answer is the state before the reset.
  json mm = iostat_of(name, {{"reset_mode", "maxmin"}});
  EXPECT_GT(mm["max_write_latency_ticks"].get<uint64_t>(), 0u);
  json now = iostat_of(name);
  EXPECT_EQ(now["max_write_latency_ticks"], 0);
  EXPECT_EQ(now["min_write_latency_ticks"], 0);
  EXPECT_EQ(now["num_write_ops"], after["num_write_ops"]);
  iostat_of(name, {{"reset_mode", "all"}});
  now = iostat_of(name);
  EXPECT_EQ(now["num_write_ops"], 0);
  EXPECT_EQ(now["bytes_read"], 0);
  EXPECT_EQ(now["write_latency_ticks"], 0);
  ASSERT_TRUE(succeeded(c->io.read(target_fixture::ns_512, 0, 4, 512)));
  now = iostat_of(name);
  EXPECT_EQ(now["num_read_ops"], 1);
  EXPECT_EQ(now["bytes_read"], 2048);

  auto missing = try_call("bdev_get_iostat", {{"names", {"nope"}}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.err().code, errc::not_found);
  EXPECT_FALSE(try_call("bdev_get_iostat", {{"reset_mode", "some"}}).ok());
}

TEST_F(stats_rpc_test, get_qpairs_lists_the_hosts_queues) {
  auto c = connect_controller();
  ASSERT_TRUE(ok(c)) << c.err().message;
  json q = call("nvmf_subsystem_get_qpairs", {{"nqn", target_fixture::open_nqn}});
  ASSERT_EQ(q.size(), 2u) << q.dump();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(q[i]["cntlid"], c->cntlid);
    EXPECT_EQ(q[i]["qid"], i);
    EXPECT_EQ(q[i]["state"], "enabled");
    EXPECT_EQ(q[i]["hostnqn"], test_host_nqn);
    EXPECT_EQ(q[i]["listen_address"]["traddr"], addr());
    EXPECT_EQ(q[i]["listen_address"]["trsvcid"], std::to_string(port()));
    EXPECT_EQ(q[i]["listen_address"]["adrfam"], "IPv4");
    EXPECT_EQ(q[i]["peer_address"]["traddr"], "127.0.0.1");
    EXPECT_NE(q[i]["peer_address"]["trsvcid"], "");
    EXPECT_EQ(q[i]["thread"].get<std::string>().rfind("nvmf_tgt_poll_group_", 0), 0u);
  }
  auto missing = try_call("nvmf_subsystem_get_qpairs", {{"nqn", "nqn.2014-08.io.nvmfd.test:none"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.err().code, errc::not_found);
}

TEST_F(stats_rpc_test, log_set_level_changes_the_level) {
  auto old = spdlog::get_level();
  EXPECT_EQ(call("log_set_level", {{"level", "DEBUG"}}), true);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  EXPECT_EQ(call("log_get_level"), "DEBUG");
  EXPECT_EQ(call("log_set_level", {{"level", "notice"}}), true);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::info);
  EXPECT_EQ(call("log_get_level"), "NOTICE");
  EXPECT_EQ(call("log_set_level", {{"level", "ERROR"}}), true);
  EXPECT_EQ(spdlog::get_level(), spdlog::level::err);
  EXPECT_FALSE(try_call("log_set_level", {{"level", "LOUD"}}).ok());
  EXPECT_EQ(spdlog::get_level(), spdlog::level::err);
  spdlog::set_level(spdlog::level::warn);  // set elsewhere: read back by its own name
  EXPECT_EQ(call("log_get_level"), "WARNING");
  spdlog::set_level(old);
}

}  // namespace
}  // namespace nvmfd
