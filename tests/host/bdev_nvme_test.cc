// bdev_nvme: remote namespaces as block devices, through SPDK's RPCs (attach, get_controllers,
// bdev_get_bdevs, detach) against a local_target, with verified I/O through nvme_bdev.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "../unit/bdev/bdev_harness.h"
#include "host/nvme_controller_registry.h"
#include "host_side.h"
#include "local_target.h"
#include "rpc/bdev_nvme_rpc.h"
#include "rpc/bdev_rpc.h"
#include "tests/lib/wait_until.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using test::aligned_buffer;
using test::fill_pattern;

constexpr const char* nqn1 = "nqn.2016-06.io.nvmfd:bdev-nvme";

using test::host_side;

// The controller of a name's first path (connected).
std::shared_ptr<host_controller> ctrl_of(const nvme_controller_entry* e) { return e->paths.front()->get_status().ctrl; }

json attach_params(const test::local_target& t, const std::string& nqn, const std::string& name = "Nvme0") {
  return {{"name", name},       {"trtype", "tcp"},      {"adrfam", "ipv4"},
          {"traddr", "127.0.0.1"}, {"trsvcid", t.port_text()}, {"subnqn", nqn}};
}

// The keys of SPDK's result, recursively (arrays: their first element), so that a result can
// be checked for SPDK's names and nesting. Values are compared by JSON type.
void expect_same_shape(const json& want, const json& got, const std::string& where) {
  if (want.is_object()) {
    ASSERT_TRUE(got.is_object()) << where << ": expected an object, got " << got.dump();
    for (auto& [k, v] : want.items()) {
      ASSERT_TRUE(got.contains(k)) << where << ": no \"" << k << "\" in " << got.dump();
      expect_same_shape(v, got[k], where + "." + k);
    }
  } else if (want.is_array()) {
    ASSERT_TRUE(got.is_array()) << where << ": expected an array";
    ASSERT_FALSE(got.empty()) << where;
    expect_same_shape(want[0], got[0], where + "[0]");
  } else if (want.is_number()) {
    EXPECT_TRUE(got.is_number()) << where << ": " << got.dump();
  } else {
    EXPECT_EQ(want.type(), got.type()) << where << ": " << got.dump();
  }
}

// SPDK v26.05's bdev_nvme_get_controllers result (shared/spdk-rpc-results), one path.
const json spdk_get_controllers = json::parse(R"([{
  "name": "Nvme0",
  "ctrlrs": [{
    "state": "enabled",
    "trid": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "4420",
             "subnqn": "nqn.2016-06.io.spdk:cnode1"},
    "cntlid": 67,
    "host": {"nqn": "nqn.2014-08.org.nvmexpress:uuid:6232ecab-eb35-4eaa-a76f-dd205e0aae19",
             "addr": "", "svcid": "", "no_shn_notification": false}
  }]
}])");

// driver_specific of SPDK v26.05's bdev_get_bdevs for Nvme0n1, one path, without ana_state
// (SPDK writes it only when the controller reports ANA; checked separately).
const json spdk_driver_specific = json::parse(R"({
  "nvme": [{
    "trid": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "4420",
             "subnqn": "nqn.2016-06.io.spdk:cnode1"},
    "ctrlr_data": {"cntlid": 67, "vendor_id": "0x8086", "model_number": "SPDK_PEER_Ctrl",
                   "serial_number": "SPDK001", "firmware_revision": "26.05",
                   "subnqn": "nqn.2016-06.io.spdk:cnode1",
                   "oacs": {"security": 0, "format": 0, "firmware": 0, "ns_manage": 0},
                   "multi_ctrlr": true, "ana_reporting": true},
    "vs": {"nvme_version": "2.0"},
    "ns_data": {"id": 1, "can_share": true}
  }],
  "mp_policy": "active_passive"
})");


// --- attach, I/O, results ----------------------------------------------------------------

TEST(bdev_nvme, attach_creates_one_bdev_per_namespace_and_io_round_trips) {
  test::local_target t;
  t.add_subsystem(nqn1, 512, 32768);
  t.call("bdev_malloc_create", {{"name", "Second"}, {"block_size", 4096}, {"num_blocks", 1024}});
  t.call("nvmf_subsystem_add_ns", {{"nqn", nqn1}, {"namespace", {{"bdev_name", "Second"}, {"nsid", 5}}}});
  host_side host;
  json names = host.ok("bdev_nvme_attach_controller", attach_params(t, nqn1));
  EXPECT_EQ(names, json::array({"Nvme0n1", "Nvme0n5"}));
  bdev& n1 = host.dev("Nvme0n1");
  bdev& n5 = host.dev("Nvme0n5");
  EXPECT_EQ(n1.block_size(), 512u);
  EXPECT_EQ(n1.num_blocks(), 32768u);
  EXPECT_EQ(n5.block_size(), 4096u);
  EXPECT_EQ(n5.num_blocks(), 1024u);
  EXPECT_EQ(n1.product_name(), "NVMe disk");

  aligned_buffer out(64 * 512), in(64 * 512);
  fill_pattern(out.span(), 1);
  ASSERT_EQ(host.h.write(n1, 100, 64, out.data()), 0);
  ASSERT_EQ(host.h.read(n1, 100, 64, in.data()), 0);
  EXPECT_TRUE(equal(out, in));
  // The data is in the target's RAM bdev, at the same place.
  test::bdev_harness direct;
  aligned_buffer raw(64 * 512);
  ASSERT_EQ(direct.read(*t.bdevs().find("Malloc0"), 100, 64, raw.data()), 0);
  EXPECT_TRUE(equal(out, raw));

  // The other namespace, and I/O from the second reactor (its own I/O queue).
  aligned_buffer out5(8 * 4096), in5(8 * 4096);
  fill_pattern(out5.span(), 5);
  std::array<bdev_io, 1> w{host.h.make(bdev_op::write, 3, 8, out5.data())};
  host.h.submit_on(1, n5, w);
  ASSERT_TRUE(host.h.wait(10s));
  ASSERT_EQ(w[0].status, 0);
  std::array<bdev_io, 1> r{host.h.make(bdev_op::read, 3, 8, in5.data())};
  host.h.submit_on(1, n5, r);
  ASSERT_TRUE(host.h.wait(10s));
  ASSERT_EQ(r[0].status, 0);
  EXPECT_TRUE(equal(out5, in5));
  EXPECT_EQ(host.h.flush(n1), 0);
  EXPECT_EQ(host.h.write_zeroes(n1, 100, 8), 0);
  ASSERT_EQ(host.h.read(n1, 100, 8, in.data()), 0);
  EXPECT_TRUE(test::all_zero({in.data(), 8 * 512}));
  EXPECT_EQ(host.h.read(n1, 32768 - 4, 8, in.data()), -EINVAL);
  EXPECT_EQ(host.h.inline_completions(), 0);
  EXPECT_EQ(host.h.wrong_thread_completions(), 0);
}

TEST(bdev_nvme, get_controllers_has_spdk_shape_and_values) {
  test::local_target t;
  t.add_subsystem(nqn1);
  host_side host;
  json params = attach_params(t, nqn1);
  params["hostnqn"] = "nqn.2016-06.io.nvmfd:test-host";
  host.ok("bdev_nvme_attach_controller", params);

  json all = host.ok("bdev_nvme_get_controllers", json::object());
  expect_same_shape(spdk_get_controllers, all, "result");
  ASSERT_EQ(all.size(), 1u);
  const json& c = all[0]["ctrlrs"][0];
  EXPECT_EQ(all[0]["name"], "Nvme0");
  EXPECT_EQ(c["state"], "enabled");
  EXPECT_EQ(c["trid"], json({{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", "127.0.0.1"},
                             {"trsvcid", t.port_text()}, {"subnqn", nqn1}}));
  EXPECT_EQ(c["cntlid"], ctrl_of(host.controllers.find("Nvme0"))->cntlid().value);
  EXPECT_EQ(c["host"], json({{"nqn", "nqn.2016-06.io.nvmfd:test-host"}, {"addr", ""}, {"svcid", ""},
                             {"no_shn_notification", false}}));
  // The target sees that controller, from that host.
  json tc = t.call("nvmf_subsystem_get_controllers", {{"nqn", nqn1}});
  ASSERT_EQ(tc.size(), 1u);
  EXPECT_EQ(tc[0]["cntlid"], c["cntlid"]);
  EXPECT_EQ(tc[0]["hostnqn"], "nqn.2016-06.io.nvmfd:test-host");

  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", {{"name", "Nvme0"}}), all);
  auto missing = host.call("bdev_nvme_get_controllers", {{"name", "Nvme9"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(rpc_error_code(missing.err()), -ENODEV);
  EXPECT_NE(missing.err().message.find("Nvme9"), std::string::npos);
}

TEST(bdev_nvme, get_bdevs_shows_nvme_driver_specific_like_spdk) {
  test::local_target t;
  t.add_subsystem(nqn1, 4096, 2048);
  host_side host;
  host.ok("bdev_nvme_attach_controller", attach_params(t, nqn1));
  json b = host.ok("bdev_get_bdevs", {{"name", "Nvme0n1"}});
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0]["product_name"], "NVMe disk");
  EXPECT_EQ(b[0]["block_size"], 4096);
  EXPECT_EQ(b[0]["num_blocks"], 2048);
  const json& ds = b[0]["driver_specific"];
  expect_same_shape(spdk_driver_specific, ds, "driver_specific");
  const json& path = ds["nvme"][0];
  EXPECT_EQ(path["trid"]["trsvcid"], t.port_text());
  EXPECT_EQ(path["trid"]["subnqn"], nqn1);
  EXPECT_EQ(path["ctrlr_data"]["subnqn"], nqn1);
  EXPECT_EQ(path["ctrlr_data"]["model_number"], "nvmfd Controller");  // padding trimmed
  EXPECT_EQ(path["ctrlr_data"]["serial_number"], "00000000000000000000");
  EXPECT_EQ(path["ctrlr_data"]["cntlid"], ctrl_of(host.controllers.find("Nvme0"))->cntlid().value);
  std::string vid = path["ctrlr_data"]["vendor_id"];
  EXPECT_EQ(vid.size(), 6u);
  EXPECT_EQ(vid.substr(0, 2), "0x");
  EXPECT_EQ(path["ns_data"]["id"], 1);
  EXPECT_EQ(path["ctrlr_data"]["ana_reporting"], false);
  EXPECT_FALSE(path["ns_data"].contains("ana_state"));  // SPDK: only with ANA reporting
  EXPECT_EQ(ds["mp_policy"], "active_passive");

  // A subsystem with ANA reporting: ana_state is read from the ANA log page, when the
  // controller serves one (omitted otherwise).
  const char* ana_nqn = "nqn.2016-06.io.nvmfd:ana";
  t.call("bdev_malloc_create", {{"name", "AnaDisk"}, {"block_size", 512}, {"num_blocks", 64}});
  t.call("nvmf_create_subsystem", {{"nqn", ana_nqn}, {"allow_any_host", true}, {"ana_reporting", true}});
  t.call("nvmf_subsystem_add_ns", {{"nqn", ana_nqn}, {"namespace", {{"bdev_name", "AnaDisk"}}}});
  t.call("nvmf_subsystem_add_listener",
         {{"nqn", ana_nqn}, {"listen_address", {{"trtype", "TCP"}, {"traddr", "127.0.0.1"}, {"trsvcid", t.port_text()}}}});
  host.ok("bdev_nvme_attach_controller", attach_params(t, ana_nqn, "Ana"));
  json ana = host.ok("bdev_get_bdevs", {{"name", "Anan1"}});
  ASSERT_EQ(ana.size(), 1u);
  const json& ana_path = ana[0]["driver_specific"]["nvme"][0];
  EXPECT_EQ(ana_path["ctrlr_data"]["ana_reporting"], true);
  if (ana_path["ns_data"].contains("ana_state")) {
    static const std::set<std::string> states = {"optimized", "non_optimized", "inaccessible", "persistent_loss",
                                                 "change"};
    EXPECT_TRUE(states.count(ana_path["ns_data"]["ana_state"].get<std::string>())) << ana_path.dump();
  }
}

// --- splitting and queueing in nvme_bdev ------------------------------------------------

TEST(bdev_nvme, io_beyond_mdts_is_split_and_lands_in_place) {
  test::local_target t;  // max_io_size 1 MiB: MDTS
  t.add_subsystem(nqn1, 512, 32768);
  host_side host;
  host.ok("bdev_nvme_attach_controller", attach_params(t, nqn1));
  ASSERT_EQ(ctrl_of(host.controllers.find("Nvme0"))->max_transfer_bytes(), 1u << 20);
  bdev& n1 = host.dev("Nvme0n1");
  const uint64_t blocks = 5 * 2048 + 3;  // five full 1 MiB commands and a short one
  aligned_buffer out(blocks * 512), in(blocks * 512), raw(blocks * 512);
  fill_pattern(out.span(), 77);
  ASSERT_EQ(host.h.write(n1, 7, blocks, out.data()), 0);
  ASSERT_EQ(host.h.read(n1, 7, blocks, in.data()), 0);
  EXPECT_TRUE(equal(out, in));
  test::bdev_harness direct;
  ASSERT_EQ(direct.read(*t.bdevs().find("Malloc0"), 7, blocks, raw.data()), 0);
  EXPECT_TRUE(equal(out, raw));
  // Zeroes over more than one command's worth too.
  ASSERT_EQ(host.h.write_zeroes(n1, 7, blocks), 0);
  ASSERT_EQ(direct.read(*t.bdevs().find("Malloc0"), 7, blocks, raw.data()), 0);
  EXPECT_TRUE(test::all_zero(raw.span()));
}

TEST(bdev_nvme, more_ios_than_the_queue_depth_wait_and_all_complete) {
  test::local_target t;
  t.add_subsystem(nqn1, 512, 32768);
  host_side host;
  host.ok("bdev_nvme_attach_controller", attach_params(t, nqn1));
  bdev& n1 = host.dev("Nvme0n1");
  auto ctrl_ptr = ctrl_of(host.controllers.find("Nvme0"));
  auto& ctrl = *ctrl_ptr;
  const size_t depth = ctrl.io_queues()[0]->queue_size();
  const size_t count = depth * 4 + 7;  // per reactor
  const uint64_t per_io = 8;
  ASSERT_LE(2 * count * per_io, 32768u);
  aligned_buffer out(2 * count * per_io * 512), in(2 * count * per_io * 512);
  fill_pattern(out.span(), 9);
  std::vector<bdev_io> writes, reads;
  for (size_t i = 0; i < 2 * count; ++i) {
    writes.push_back(host.h.make(bdev_op::write, i * per_io, per_io, out.data() + i * per_io * 512));
    reads.push_back(host.h.make(bdev_op::read, i * per_io, per_io, in.data() + i * per_io * 512));
  }
  host.h.submit_on(0, n1, std::span(writes).first(count));
  host.h.submit_on(1, n1, std::span(writes).subspan(count));
  ASSERT_TRUE(host.h.wait(30s));
  for (auto& io : writes) ASSERT_EQ(io.status, 0);
  host.h.submit_on(0, n1, std::span(reads).first(count));
  host.h.submit_on(1, n1, std::span(reads).subspan(count));
  ASSERT_TRUE(host.h.wait(30s));
  for (auto& io : reads) ASSERT_EQ(io.status, 0);
  EXPECT_TRUE(equal(out, in));
  EXPECT_EQ(host.h.inline_completions(), 0);
  EXPECT_EQ(host.h.wrong_thread_completions(), 0);
}

// Two namespaces share the controller's queue: when one fills it, the other's I/O waits for
// a slot that the first one's completions free.
TEST(bdev_nvme, a_namespace_waiting_behind_another_on_a_full_queue_completes) {
  test::local_target t;
  t.add_subsystem(nqn1, 512, 32768);
  t.call("bdev_malloc_create", {{"name", "Second"}, {"block_size", 512}, {"num_blocks", 1024}});
  t.call("nvmf_subsystem_add_ns", {{"nqn", nqn1}, {"namespace", {{"bdev_name", "Second"}}}});
  test::bdev_harness h(1);
  bdev_registry bdevs;
  nvme_controller_registry controllers(h.pool(), bdevs);
  nvme_attach_request req;
  req.name = "Nvme0";
  req.trid.traddr = "127.0.0.1";
  req.trid.trsvcid = t.port_text();
  req.trid.subnqn = nqn1;
  req.opts.io_queue_size = 4;
  auto names = controllers.attach(req);
  ASSERT_TRUE(names.ok()) << names.err().message;
  ASSERT_EQ(names->size(), 2u);
  bdev& a = *bdevs.find("Nvme0n1");
  bdev& b = *bdevs.find("Nvme0n2");
  aligned_buffer buf(64 * 8 * 512), one(512);
  std::vector<bdev_io> ios;
  for (int i = 0; i < 64; ++i) ios.push_back(h.make(bdev_op::read, i * 8, 8, buf.data() + i * 8 * 512));
  std::array<bdev_io, 1> other{h.make(bdev_op::read, 0, 1, one.data())};
  h.submit_on(0, a, ios);
  h.submit_on(0, b, other);
  EXPECT_TRUE(h.wait(10s));
  for (auto& io : ios) EXPECT_EQ(io.status, 0);
  EXPECT_EQ(other[0].status, 0) << "B's read never started";
}

// --- detach ---------------------------------------------------------------------------------

TEST(bdev_nvme, detach_removes_bdevs_and_disconnects) {
  test::local_target t;
  t.add_subsystem(nqn1);
  host_side host;
  host.ok("bdev_nvme_attach_controller", attach_params(t, nqn1));
  auto held = host.bdevs.find("Nvme0n1");  // as a user still holding it would

  // A claimed bdev (a namespace of a subsystem, say) keeps it attached, and says who.
  held->claim("nqn.2016-06.io.nvmfd:gw nsid 1");
  auto busy = host.call("bdev_nvme_detach_controller", {{"name", "Nvme0"}});
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(rpc_error_code(busy.err()), -EBUSY);
  EXPECT_NE(busy.err().message.find("Nvme0n1"), std::string::npos) << busy.err().message;
  EXPECT_NE(busy.err().message.find("nqn.2016-06.io.nvmfd:gw nsid 1"), std::string::npos) << busy.err().message;
  EXPECT_TRUE(host.bdevs.find("Nvme0n1"));
  held->release();

  // Path filters must match the controller's path.
  auto wrong = host.call("bdev_nvme_detach_controller", {{"name", "Nvme0"}, {"traddr", "127.0.0.2"}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(rpc_error_code(wrong.err()), -ENODEV);
  EXPECT_NE(wrong.err().message.find("127.0.0.2"), std::string::npos) << wrong.err().message;
  auto wrong_nqn = host.call("bdev_nvme_detach_controller", {{"name", "Nvme0"}, {"subnqn", "nqn.2016-06.io.x:y"}});
  ASSERT_FALSE(wrong_nqn.ok());
  auto wrong_host = host.call("bdev_nvme_detach_controller", {{"name", "Nvme0"}, {"hostaddr", "127.0.0.1"}});
  ASSERT_FALSE(wrong_host.ok());
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()).size(), 1u);

  EXPECT_EQ(host.ok("bdev_nvme_detach_controller",
                    {{"name", "Nvme0"}, {"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", "127.0.0.1"},
                     {"trsvcid", t.port_text()}, {"subnqn", nqn1}}),
            true);
  EXPECT_FALSE(host.bdevs.find("Nvme0n1"));
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()), json::array());
  // The target saw the host go.
  EXPECT_TRUE(wait_until([&] { return t.call("nvmf_subsystem_get_controllers", {{"nqn", nqn1}}).empty(); }));
  // A leftover reference fails I/O, it does not crash.
  aligned_buffer buf(512);
  EXPECT_EQ(host.h.read(*held, 0, 1, buf.data()), -EIO);

  auto again = host.call("bdev_nvme_detach_controller", {{"name", "Nvme0"}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(rpc_error_code(again.err()), -ENODEV);
  // The name is free again.
  EXPECT_EQ(host.ok("bdev_nvme_attach_controller", attach_params(t, nqn1)), json::array({"Nvme0n1"}));
}

// --- errors -----------------------------------------------------------------------------------

TEST(bdev_nvme, duplicate_names_are_refused_like_spdk) {
  test::local_target t;
  t.add_subsystem(nqn1);
  t.add_subsystem("nqn.2016-06.io.nvmfd:other");
  host_side host;
  host.ok("bdev_nvme_attach_controller", attach_params(t, nqn1));
  auto dup = host.call("bdev_nvme_attach_controller", attach_params(t, "nqn.2016-06.io.nvmfd:other"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(rpc_error_code(dup.err()), -EALREADY);
  EXPECT_EQ(dup.err().message, "A controller named Nvme0 already exists");
  json same = attach_params(t, nqn1);
  same["multipath"] = "multipath";
  auto same_path = host.call("bdev_nvme_attach_controller", same);
  ASSERT_FALSE(same_path.ok());
  EXPECT_NE(same_path.err().message.find("already exists with the specified network path"), std::string::npos);
  json second = attach_params(t, nqn1);
  second["multipath"] = "failover";
  second["trsvcid"] = std::to_string(test::free_port());
  // A second path that cannot be reached is refused, naming where it tried.
  auto second_path = host.call("bdev_nvme_attach_controller", second);
  ASSERT_FALSE(second_path.ok());
  EXPECT_NE(second_path.err().message.find(second["trsvcid"].get<std::string>()), std::string::npos)
      << second_path.err().message;
  // A bdev name taken by something else: nothing is left behind.
  host.ok("bdev_malloc_create", {{"name", "Nvme1n1"}, {"block_size", 512}, {"num_blocks", 8}});
  auto clash = host.call("bdev_nvme_attach_controller", attach_params(t, "nqn.2016-06.io.nvmfd:other", "Nvme1"));
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.err().message.find("Nvme1n1"), std::string::npos) << clash.err().message;
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()).size(), 1u);
  EXPECT_EQ(host.bdevs.list().size(), 2u);  // Nvme0n1 and the malloc one
}

TEST(bdev_nvme, connection_failures_are_clear_errors) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:closed", 512, 1024, /*allow_any_host=*/false);
  host_side host;

  auto unknown = host.call("bdev_nvme_attach_controller", attach_params(t, "nqn.2016-06.io.nvmfd:nope"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.err().message.find("nqn.2016-06.io.nvmfd:nope"), std::string::npos) << unknown.err().message;

  auto refused = host.call("bdev_nvme_attach_controller", attach_params(t, "nqn.2016-06.io.nvmfd:closed"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.err().message.find("not allowed"), std::string::npos) << refused.err().message;

  json closed_port = attach_params(t, nqn1);
  closed_port["trsvcid"] = std::to_string(test::free_port());
  auto no_listener = host.call("bdev_nvme_attach_controller", closed_port);
  ASSERT_FALSE(no_listener.ok());
  EXPECT_EQ(rpc_error_code(no_listener.err()), -ECONNREFUSED) << no_listener.err().message;

  // TEST-NET-1 (RFC 5737): nothing answers; the attach fails within the connect timeout.
  json unreachable = attach_params(t, nqn1);
  unreachable["traddr"] = "192.0.2.1";
  unreachable["fabrics_connect_timeout_us"] = 300000;
  auto start = std::chrono::steady_clock::now();
  auto timed_out = host.call("bdev_nvme_attach_controller", unreachable);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(timed_out.ok());
  EXPECT_LT(took, 20s) << "the 300 ms connect timeout was not applied (a SYN to nowhere retries for minutes)";
  EXPECT_NE(timed_out.err().message.find("192.0.2.1"), std::string::npos) << timed_out.err().message;
  EXPECT_LT(rpc_error_code(timed_out.err()), 0);

  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()), json::array());
  EXPECT_TRUE(host.bdevs.list().empty());
}

TEST(bdev_nvme, bad_params_are_invalid_params_naming_the_field) {
  test::local_target t;
  t.add_subsystem(nqn1);
  host_side host;
  struct bad_case {
    json patch;
    const char* field;
  };
  const std::vector<bad_case> cases = {
      {{{"subnqn", nullptr}}, "subnqn"},
      {{{"subnqn", "nqn.2014-08.org.nvmexpress.discovery"}}, "subnqn"},
      {{{"subnqn", "not an nqn"}}, "subnqn"},
      {{{"hostnqn", "bad"}}, "hostnqn"},
      {{{"trtype", "FC"}}, "trtype"},
      {{{"adrfam", "IB"}}, "adrfam"},
      {{{"traddr", "localhost"}}, "traddr"},
      {{{"trsvcid", "http"}}, "trsvcid"},
      {{{"trsvcid", "70000"}}, "trsvcid"},
      {{{"psk", "key0"}}, "psk"},
      {{{"dhchap_key", "key1"}}, "dhchap_key"},
      {{{"dhchap_ctrlr_key", "key2"}}, "dhchap_ctrlr_key"},
      {{{"hostaddr", "127.0.0.1"}}, "hostaddr"},
      {{{"hostsvcid", "5000"}}, "hostsvcid"},
      {{{"num_io_queues", 0}}, "num_io_queues"},
      {{{"num_io_queues", 1}}, "num_io_queues"},  // fewer than the 2 reactors
      {{{"max_bdevs", 0}}, "max_bdevs"},
      {{{"multipath", "sometimes"}}, "multipath"},
      {{{"ctrlr_loss_timeout_sec", -2}}, "ctrlr_loss_timeout_sec"},
      {{{"ctrlr_loss_timeout_sec", 10}, {"reconnect_delay_sec", 0}}, "reconnect_delay_sec"},
      {{{"ctrlr_loss_timeout_sec", 10}, {"reconnect_delay_sec", 20}}, "reconnect_delay_sec"},
      {{{"ctrlr_loss_timeout_sec", 10}, {"reconnect_delay_sec", 5}, {"fast_io_fail_timeout_sec", 2}},
       "fast_io_fail_timeout_sec"},
      {{{"ctrlr_loss_timeout_sec", 0}, {"reconnect_delay_sec", 1}}, "reconnect_delay_sec"},
      {{{"hdgst", "yes"}}, "hdgst"},
      {{{"no_such_param", 1}}, "no_such_param"},
      {{{"name", nullptr}}, "name"},
  };
  for (const auto& c : cases) {
    json params = attach_params(t, nqn1);
    params.update(c.patch);
    auto r = host.call("bdev_nvme_attach_controller", params);
    ASSERT_FALSE(r.ok()) << c.patch.dump();
    EXPECT_EQ(rpc_error_code(r.err()), rpc_error_invalid_params) << c.patch.dump() << ": " << r.err().message;
    EXPECT_EQ(r.err().message.rfind(c.field, 0), 0u) << c.patch.dump() << ": " << r.err().message;
  }
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()), json::array());

  // Accepted: what SPDK's save_config writes, and the reconnect settings (kept, not acted on).
  json full = attach_params(t, nqn1);
  full.update({{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"prchk_reftag", false}, {"prchk_guard", false},
               {"ctrlr_loss_timeout_sec", -1}, {"reconnect_delay_sec", 2}, {"fast_io_fail_timeout_sec", 0},
               {"hdgst", true}, {"ddgst", true}, {"fabrics_connect_timeout_us", 2000000}, {"num_io_queues", 1024},
               {"multipath", "disable"}, {"disable_sq_flow_control", true}, {"priority", "0"},
               {"allow_unrecognized_csi", false}, {"max_bdevs", 4}, {"psk", ""}});
  EXPECT_EQ(host.ok("bdev_nvme_attach_controller", full), json::array({"Nvme0n1"}));
  bdev& n1 = host.dev("Nvme0n1");
  aligned_buffer out(4096), in(4096);
  fill_pattern(out.span(), 3);
  ASSERT_EQ(host.h.write(n1, 0, 8, out.data()), 0);  // with both digests
  ASSERT_EQ(host.h.read(n1, 0, 8, in.data()), 0);     // ending with C2H SUCCESS
  EXPECT_TRUE(equal(out, in));
  EXPECT_TRUE(ctrl_of(host.controllers.find("Nvme0"))->options().disable_sq_flow_control);
}

TEST(bdev_nvme, more_namespaces_than_max_bdevs_is_an_error) {
  test::local_target t;
  t.add_subsystem(nqn1);
  t.call("bdev_malloc_create", {{"name", "Second"}, {"block_size", 512}, {"num_blocks", 64}});
  t.call("nvmf_subsystem_add_ns", {{"nqn", nqn1}, {"namespace", {{"bdev_name", "Second"}}}});
  host_side host;
  json params = attach_params(t, nqn1);
  params["max_bdevs"] = 1;
  auto r = host.call("bdev_nvme_attach_controller", params);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(rpc_error_code(r.err()), -ERANGE);
  EXPECT_TRUE(host.bdevs.list().empty());
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object()), json::array());
}

// --- the target goes away under load ----------------------------------------------------------

// Keeps `slots` I/Os in flight on one bdev: each one is resubmitted when it succeeds, and
// stops at its first error. ended() counts the stopped ones.
class io_loop final : public bdev_io_callback {
 public:
  io_loop(bdev& b, reactor& r, size_t slots, uint32_t blocks) : b_(b), r_(r), buf_(slots * blocks * b.block_size()) {
    fill_pattern(buf_.span(), 11);
    ios_.resize(slots);
    for (size_t i = 0; i < slots; ++i) {
      bdev_io& io = ios_[i];
      io.op = i % 2 ? bdev_op::read : bdev_op::write;
      io.offset_blocks = i * blocks;
      io.num_blocks = blocks;
      io.buf = buf_.data() + i * blocks * b.block_size();
      io.owner = &r_;
      io.done = this;
    }
  }
  void start() {
    r_.post([this] {
      for (auto& io : ios_) b_.submit(io);
    });
  }
  void on_bdev_io_done(bdev_io& io) override {
    if (io.status == 0) {
      ++ok_;
      b_.submit(io);
      return;
    }
    std::lock_guard lk(mu_);
    statuses_.push_back(io.status);
    cv_.notify_all();
  }
  uint64_t completed_ok() const { return ok_; }
  bool wait_all_ended(std::chrono::milliseconds limit) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, limit, [&] { return statuses_.size() == ios_.size(); });
  }
  std::vector<int> statuses() {
    std::lock_guard lk(mu_);
    return statuses_;
  }

 private:
  bdev& b_;
  reactor& r_;
  aligned_buffer buf_;
  std::vector<bdev_io> ios_;
  std::atomic<uint64_t> ok_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> statuses_;
};

// With ctrlr_loss_timeout_sec 0 (never reconnect), a lost single path fails the I/O.
TEST(bdev_nvme, target_killed_mid_io_fails_every_outstanding_io_and_later_ones_at_once) {
  auto t = std::make_unique<test::local_target>();
  t->add_subsystem(nqn1, 512, 32768);
  host_side host;
  json params = attach_params(*t, nqn1);
  params["ctrlr_loss_timeout_sec"] = 0;
  params["reconnect_delay_sec"] = 0;
  params["fast_io_fail_timeout_sec"] = 0;
  host.ok("bdev_nvme_attach_controller", params);
  bdev& n1 = host.dev("Nvme0n1");
  const size_t depth = ctrl_of(host.controllers.find("Nvme0"))->io_queues()[0]->queue_size();
  // More than the queue holds, so that some wait in nvme_bdev's wait list as well.
  io_loop loop(n1, host.h.pool().at(0), depth + 64, 16);
  loop.start();
  wait_until([&] { return loop.completed_ok() >= 2000; });
  ASSERT_GE(loop.completed_ok(), 2000u) << "no I/O flowing before the target went away";

  t.reset();  // shuts the target down: every connection closes
  ASSERT_TRUE(loop.wait_all_ended(10s)) << loop.statuses().size() << " of " << depth + 64 << " I/Os ended";
  for (int s : loop.statuses()) EXPECT_EQ(s, -EIO);

  // The controller is failed; new I/O fails at once, on every reactor.
  EXPECT_EQ(host.ok("bdev_nvme_get_controllers", json::object())[0]["ctrlrs"][0]["state"], "failed");
  aligned_buffer buf(512);
  // (Nothing would complete them otherwise: the controller never reconnects.)
  EXPECT_EQ(host.h.read(n1, 0, 1, buf.data()), -EIO);
  std::array<bdev_io, 1> on1{host.h.make(bdev_op::write, 0, 1, buf.data())};
  host.h.submit_on(1, n1, on1);
  ASSERT_TRUE(host.h.wait(10s));
  EXPECT_EQ(on1[0].status, -EIO);
  // get_bdevs still answers (no admin command to a dead controller), and detach works.
  EXPECT_EQ(host.ok("bdev_get_bdevs", {{"name", "Nvme0n1"}}).size(), 1u);
  EXPECT_EQ(host.ok("bdev_nvme_detach_controller", {{"name", "Nvme0"}}), true);
}

}  // namespace
}  // namespace nvmfd
