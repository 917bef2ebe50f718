// nvmfd as an NVMe-oF gateway: target B attaches a namespace of target A with
// bdev_nvme_attach_controller and exports it in a subsystem of its own; a host writes through B
// and the data lands in A's RAM bdev. Then B's configuration goes through save_config and
// load_config into a fresh process-like node C, which serves the same data.
#include <gtest/gtest.h>

#include <chrono>

#include "../unit/bdev/bdev_harness.h"
#include "host/nvme_controller_registry.h"
#include "local_target.h"
#include "rpc/bdev_nvme_rpc.h"
#include "rpc/bdev_rpc.h"
#include "rpc/config_loader.h"
#include "rpc/nvmf_rpc.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using test::aligned_buffer;
using test::fill_pattern;

constexpr const char* nqn_a = "nqn.2016-06.io.nvmfd:backend-a";
constexpr const char* nqn_b = "nqn.2016-06.io.nvmfd:gateway-b";

json call(const rpc_method_table& m, const std::string& method, const json& params) {
  auto r = (*m.find(method))(params);
  EXPECT_TRUE(r.ok()) << method << " " << params.dump() << ": " << (r ? "" : r.err().message);
  return r ? *r : json();
}

json attach_params(const std::string& name, const std::string& port, const std::string& nqn) {
  return {{"name", name}, {"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", "127.0.0.1"}, {"trsvcid", port},
          {"subnqn", nqn}};
}

// Gateway B: a local_target plus what the daemon wires beside it (the controller registry on
// the target's reactors) and a method table with bdev, bdev_nvme and nvmf methods in the
// daemon's order. Members are destroyed table, registry, target: the registry disconnects
// while the target's reactors still run.
struct gateway_b {
  test::local_target t;
  nvme_controller_registry controllers{t.target().reactors(), t.bdevs()};
  rpc_method_table methods;
  gateway_b() {
    add_bdev_methods(methods, t.bdevs());
    add_bdev_nvme_methods(methods, controllers);
    add_nvmf_methods(methods, t.target(), t.bdevs());
  }
};

// Node C: built from nothing but a saved config, as `nvmfd -c` would.
struct node {
  reactor_pool pool{2};
  std::unique_ptr<nvmf_target> target = std::make_unique<nvmf_target>(pool);
  bdev_registry bdevs;
  nvme_controller_registry controllers{pool, bdevs};
  rpc_method_table methods;
  node() {
    add_bdev_methods(methods, bdevs);
    add_bdev_nvme_methods(methods, controllers);
    add_nvmf_methods(methods, *target, bdevs);
  }
  ~node() { target->shutdown(); }
};

// A host: its own reactors, the nvme_bdevs it attaches, and a harness to run I/O on them.
struct host_side {
  test::bdev_harness h{2};
  bdev_registry bdevs;
  nvme_controller_registry controllers{h.pool(), bdevs};
  rpc_method_table methods;
  host_side() { add_bdev_nvme_methods(methods, controllers); }
};


std::vector<std::string> section_names(const json& config) {
  std::vector<std::string> out;
  for (auto& s : config["subsystems"]) out.push_back(s["subsystem"]);
  return out;
}

TEST(gateway, host_writes_through_b_land_in_a_and_the_config_round_trips) {
  test::local_target a;
  a.add_subsystem(nqn_a, 512, 32768);
  auto b = std::make_unique<gateway_b>();

  // B attaches A's namespace and exports it.
  EXPECT_EQ(call(b->methods, "bdev_nvme_attach_controller", attach_params("GwA", a.port_text(), nqn_a)),
            json::array({"GwAn1"}));
  call(b->methods, "nvmf_create_subsystem", {{"nqn", nqn_b}, {"allow_any_host", true}});
  call(b->methods, "nvmf_subsystem_add_ns", {{"nqn", nqn_b}, {"namespace", {{"bdev_name", "GwAn1"}}}});
  call(b->methods, "nvmf_subsystem_add_listener",
       {{"nqn", nqn_b}, {"listen_address", {{"trtype", "TCP"}, {"traddr", "127.0.0.1"}, {"trsvcid", b->t.port_text()}}}});
  json gw_bdev = call(b->methods, "bdev_get_bdevs", {{"name", "GwAn1"}});
  ASSERT_EQ(gw_bdev.size(), 1u);
  EXPECT_EQ(gw_bdev[0]["claimed"], true);
  EXPECT_EQ(gw_bdev[0]["driver_specific"]["nvme"][0]["trid"]["subnqn"], nqn_a);

  // A detach while B exports the bdev is refused, naming the user.
  auto busy = (*b->methods.find("bdev_nvme_detach_controller"))({{"name", "GwA"}});
  ASSERT_FALSE(busy.ok());
  EXPECT_NE(busy.err().message.find(nqn_b), std::string::npos) << busy.err().message;

  // A host writes through B; the bytes are in A's RAM bdev, and read back through B.
  const uint64_t offset = 333, blocks = 2 * 2048 + 17;  // more than one command at each hop
  aligned_buffer out(blocks * 512), in(blocks * 512), raw(blocks * 512);
  fill_pattern(out.span(), 2024);
  {
    host_side host;
    EXPECT_EQ(call(host.methods, "bdev_nvme_attach_controller", attach_params("Host", b->t.port_text(), nqn_b)),
              json::array({"Hostn1"}));
    bdev& through_b = *host.bdevs.find("Hostn1");
    EXPECT_EQ(through_b.num_blocks(), 32768u);
    ASSERT_EQ(host.h.write(through_b, offset, blocks, out.data()), 0);
    ASSERT_EQ(host.h.flush(through_b), 0);
    ASSERT_EQ(host.h.read(through_b, offset, blocks, in.data()), 0);
    EXPECT_TRUE(equal(out, in));
    // Many small I/Os at once from both host reactors, all through B to A.
    std::vector<bdev_io> ios;
    aligned_buffer small(512 * 8 * 400);
    fill_pattern(small.span(), 7);
    for (int i = 0; i < 400; ++i)
      ios.push_back(host.h.make(bdev_op::write, 16384 + i * 8, 8, small.data() + i * 8 * 512));
    host.h.submit_on(0, through_b, std::span(ios).first(200));
    host.h.submit_on(1, through_b, std::span(ios).subspan(200));
    ASSERT_TRUE(host.h.wait(30s));
    for (auto& io : ios) ASSERT_EQ(io.status, 0);
    test::bdev_harness direct;
    aligned_buffer raw_small(small.size());
    ASSERT_EQ(direct.read(*a.bdevs().find("Malloc0"), 16384, 8 * 400, raw_small.data()), 0);
    EXPECT_TRUE(equal(small, raw_small));
    EXPECT_EQ(call(host.methods, "bdev_nvme_detach_controller", {{"name", "Host"}}), true);
  }
  {
    test::bdev_harness direct;
    ASSERT_EQ(direct.read(*a.bdevs().find("Malloc0"), offset, blocks, raw.data()), 0);
    EXPECT_TRUE(equal(out, raw));
  }

  // save_config: the attach call comes after "bdev" and before "nvmf", whose namespace uses it.
  json saved = save_config(b->methods);
  std::vector<std::string> order = section_names(saved);
  auto pos = [&](const char* n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
  ASSERT_LT(pos("bdev"), pos("bdev_nvme"));
  ASSERT_LT(pos("bdev_nvme"), pos("nvmf"));
  ASSERT_LT(pos("nvmf"), static_cast<long>(order.size()));
  const json& attach_calls = saved["subsystems"][pos("bdev_nvme")]["config"];
  ASSERT_EQ(attach_calls.size(), 2u);
  EXPECT_EQ(attach_calls[0]["method"], "bdev_nvme_set_options");  // module defaults first, as SPDK
  EXPECT_EQ(attach_calls[1]["method"], "bdev_nvme_attach_controller");
  const json& p = attach_calls[1]["params"];
  EXPECT_EQ(p["name"], "GwA");
  EXPECT_EQ(p["trtype"], "TCP");
  EXPECT_EQ(p["adrfam"], "IPv4");
  EXPECT_EQ(p["traddr"], "127.0.0.1");
  EXPECT_EQ(p["trsvcid"], a.port_text());
  EXPECT_EQ(p["subnqn"], nqn_a);
  EXPECT_EQ(p["hostnqn"], b->controllers.find("GwA")->paths.front()->get_status().ctrl->hostnqn());
  EXPECT_EQ(p["hdgst"], false);
  EXPECT_EQ(p["ctrlr_loss_timeout_sec"], -1);  // nvmfd's default: keep reconnecting
  EXPECT_EQ(p["reconnect_delay_sec"], 2);
  EXPECT_EQ(p["fast_io_fail_timeout_sec"], 30);
  // The bdev section does not repeat the remote namespace.
  for (auto& bdev_call : saved["subsystems"][pos("bdev")]["config"])
    if (bdev_call.contains("params")) {
      EXPECT_NE(bdev_call["params"].value("name", ""), "GwAn1") << bdev_call.dump();
    }

  // Tear B down (its export first), freeing its port for C.
  call(b->methods, "nvmf_delete_subsystem", {{"nqn", nqn_b}});
  EXPECT_EQ(call(b->methods, "bdev_nvme_detach_controller", {{"name", "GwA"}}), true);
  const std::string b_port = b->t.port_text();
  b.reset();

  // C loads the config, in the file order SPDK's loader would not fix: nvmf before bdev_nvme.
  json reordered = saved;
  auto& subs = reordered["subsystems"];
  std::reverse(subs.begin(), subs.end());
  node c;
  auto loaded = load_config(reordered, c.methods);
  ASSERT_TRUE(loaded.ok()) << loaded.err().message;
  EXPECT_EQ(save_config(c.methods)["subsystems"][pos("bdev_nvme")]["config"][1]["params"]["name"], "GwA");
  EXPECT_TRUE(c.bdevs.find("GwAn1"));
  // ... and serves what the host wrote through B, from A, on B's old address.
  host_side host;
  EXPECT_EQ(call(host.methods, "bdev_nvme_attach_controller", attach_params("Host", b_port, nqn_b)),
            json::array({"Hostn1"}));
  std::fill(in.span().begin(), in.span().end(), std::byte{0});
  ASSERT_EQ(host.h.read(*host.bdevs.find("Hostn1"), offset, blocks, in.data()), 0);
  EXPECT_TRUE(equal(out, in));
}

}  // namespace
}  // namespace nvmfd
