// Our host against a hostile or broken controller (scripted_controller): Identify fields
// from the wire that would make the host shift by too much, wrap a product or loop forever.
#include <gtest/gtest.h>

#include "host/identify_limits.h"
#include "nvmfd/host.h"
#include "scripted_controller.h"

namespace nvmfd {
namespace {

std::string trid_for(const test::scripted_controller& t) {
  return fmt::format("trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:{} subnqn:nqn.2016-06.io.nvmfd:hostile", t.port());
}

// A host connected to t (started here) with one I/O queue; null after a failed assertion.
struct hostile_connection {
  nvme_host host{1};
  std::shared_ptr<host_controller> c;
  explicit hostile_connection(test::scripted_controller& t) {
    t.start();
    controller_options o;
    o.num_io_queues = 1;
    o.kato_ms = 0;
    o.connect_timeout_ms = 5000;
    o.io_timeout_ms = 5000;
    auto r = host.connect(trid_for(t), o);
    EXPECT_TRUE(r.ok()) << r.err().message;
    if (r) c = *r;
  }
  ~hostile_connection() {
    if (c) c->disconnect();
  }
};

TEST(identify_limits, in_capsule_limit_is_computed_in_64_bits_and_bounded) {
  EXPECT_EQ(in_capsule_data_limit(0, 1u << 20), 0u);
  EXPECT_EQ(in_capsule_data_limit(4, 1u << 20), 0u);           // the SQE only
  EXPECT_EQ(in_capsule_data_limit(260, 1u << 20), 4096u);      // 4 KiB after the SQE
  EXPECT_EQ(in_capsule_data_limit(0x10000100, 1u << 20), 1u << 20);  // * 16 wraps in 32 bits
  EXPECT_EQ(in_capsule_data_limit(UINT32_MAX, 128 * 1024), 128u * 1024);
}

TEST(identify_limits, max_transfer_is_bounded) {
  EXPECT_EQ(max_transfer_from_mdts(0, 0), 1u << 20);
  EXPECT_EQ(max_transfer_from_mdts(1, 0), 8192u);
  EXPECT_EQ(max_transfer_from_mdts(255, 15), 1u << 30);
}

TEST(identify_limits, namespace_geometry_checks_every_field) {
  auto ns = test::scripted_controller::make_namespace(12, 1000);
  auto g = namespace_geometry_of(ns);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->block_size, 4096u);
  EXPECT_EQ(g->num_blocks, 1000u);
  for (uint8_t lbads : {0, 8, 17, 32, 40, 255}) {
    ns.lbaf[0].lbads = lbads;
    auto bad = namespace_geometry_of(ns);
    ASSERT_FALSE(bad.ok()) << "LBADS " << int{lbads};
    EXPECT_NE(bad.err().message.find("LBADS"), std::string::npos) << bad.err().message;
  }
  ns = test::scripted_controller::make_namespace(12, uint64_t{1} << 53);
  EXPECT_FALSE(namespace_geometry_of(ns).ok()) << "2^53 blocks of 4 KiB overflow 64 bits";
  ns = test::scripted_controller::make_namespace(9, 8);
  ns.lbaf[3].lbads = 12;
  ns.flbas = identify_namespace::make_flbas(3);  // NLBAF 0: only format 0 exists
  auto past = namespace_geometry_of(ns);
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.err().message.find("FLBAS"), std::string::npos) << past.err().message;
}

// Identify Namespace with LBADS 32 (1u << 32 is undefined), 8 (256-byte blocks), a format
// past NLBAF and a size that overflows: those namespaces are left out, the valid one stays.
TEST(hostile_target, namespaces_with_impossible_geometry_are_left_out) {
  test::scripted_controller t;
  t.namespaces[1] = test::scripted_controller::make_namespace(32, 1000);
  t.namespaces[2] = test::scripted_controller::make_namespace(8, 1000);
  t.namespaces[3] = test::scripted_controller::make_namespace(9, 1000);
  t.namespaces[4] = test::scripted_controller::make_namespace(9, 1000);
  t.namespaces[4].lbaf[3].lbads = 12;
  t.namespaces[4].flbas = identify_namespace::make_flbas(3);
  t.namespaces[5] = test::scripted_controller::make_namespace(12, uint64_t{1} << 60);
  hostile_connection h(t);
  ASSERT_TRUE(h.c);
  std::vector<uint32_t> listed;
  for (auto& ns : h.c->namespaces()) listed.push_back(ns.nsid.value);
  EXPECT_EQ(listed, std::vector<uint32_t>{3});
}

// IOCCSZ 0x10000100: * 16 wraps to 4096 in 32 bits. Computed in 64 bits, the capsule is as
// large as the largest transfer (128 KiB with MDTS 5), so an 8 KiB write goes in-capsule.
TEST(hostile_target, ioccsz_that_wraps_in_32_bits) {
  test::scripted_controller t;
  t.id_ctrl.ioccsz = 0x10000100;
  t.namespaces[1] = test::scripted_controller::make_namespace(9, 1000);
  hostile_connection h(t);
  ASSERT_TRUE(h.c);
  std::vector<std::byte> buf(8192, std::byte{0x5a});
  ASSERT_TRUE(h.host.write(*h.c, nsid_t{1}, 0, buf).ok());
  auto cmds = t.commands();
  ASSERT_FALSE(cmds.empty());
  EXPECT_EQ(cmds.back().sqe.opcode, static_cast<uint8_t>(io_opcode::write));
  EXPECT_EQ(cmds.back().in_capsule_bytes, 8192u);
  EXPECT_EQ(cmds.back().data, buf);
}

// A block (64 KiB) larger than the largest transfer (MDTS 1: 8 KiB): no command can carry
// one, which the blocking host API says instead of looping on zero-block chunks.
TEST(hostile_target, block_larger_than_the_largest_transfer) {
  test::scripted_controller t;
  t.id_ctrl.mdts = 1;
  t.namespaces[1] = test::scripted_controller::make_namespace(16, 16);
  hostile_connection h(t);
  ASSERT_TRUE(h.c);
  std::vector<std::byte> buf(65536);
  auto r = h.host.read(*h.c, nsid_t{1}, 0, buf);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("largest transfer"), std::string::npos) << r.err().message;
}

}  // namespace
}  // namespace nvmfd
