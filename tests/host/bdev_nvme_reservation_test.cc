// NVMe reservations through bdev_nvme (issue 16, item 6): bdev_nvme_resv_* on an nvme bdev
// against our target, with two hosts (two host sides, two Host IDs); the first one has two
// paths, which share its registration because they present one Host ID.
#include <gtest/gtest.h>

#include "../unit/bdev/bdev_harness.h"
#include "host_side.h"
#include "local_target.h"
#include "nvmfd/host.h"

namespace nvmfd {
namespace {

using test::aligned_buffer;
using test::fill_pattern;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:bdev-resv";

struct bdev_nvme_reservations : ::testing::Test {
  test::local_target t{2};
  test::host_side a{2};
  test::host_side b{2};

  void SetUp() override {
    t.call("bdev_malloc_create", {{"name", "Shared"}, {"block_size", 512}, {"num_blocks", 8192}});
    t.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}});
    t.call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "Shared"}}}});
    for (auto* addr : {"127.0.0.1", "127.0.0.2"})
      t.call("nvmf_subsystem_add_listener",
             {{"nqn", nqn}, {"listen_address", {{"trtype", "TCP"}, {"traddr", addr}, {"trsvcid", t.port_text()}}}});
  }
  void TearDown() override {
    for (auto* side : {&a, &b})
      for (auto* e : side->controllers.list()) (void)side->controllers.detach(e->name);
  }
  json attach(test::host_side& h, const std::string& traddr, bool second_path = false) {
    json p = {{"name", "Nvme0"}, {"trtype", "tcp"}, {"traddr", traddr}, {"trsvcid", t.port_text()}, {"subnqn", nqn}};
    if (second_path) p["multipath"] = "multipath";
    return h.ok("bdev_nvme_attach_controller", p);
  }
  int write(test::host_side& h, uint64_t lba) {
    aligned_buffer buf(512);
    fill_pattern(buf.span(), lba);
    return h.h.write(h.dev("Nvme0n1"), lba, 1, buf.data());
  }
  int read(test::host_side& h, uint64_t lba) {
    aligned_buffer buf(512);
    return h.h.read(h.dev("Nvme0n1"), lba, 1, buf.data());
  }
  static std::string hostid_hex(test::host_side& h) {
    std::string s;
    for (auto byte : h.controllers.find("Nvme0")->paths.front()->get_status().ctrl->hostid().bytes)
      s += fmt::format("{:02x}", static_cast<unsigned>(byte));
    return s;
  }
};

TEST_F(bdev_nvme_reservations, two_hosts_register_hold_conflict_and_preempt_and_abort_across_paths) {
  ASSERT_EQ(attach(a, "127.0.0.1"), json::array({"Nvme0n1"}));
  ASSERT_EQ(attach(a, "127.0.0.2", true), json::array({"Nvme0n1"}));
  ASSERT_EQ(attach(b, "127.0.0.1"), json::array({"Nvme0n1"}));

  a.ok("bdev_nvme_resv_register", {{"name", "Nvme0n1"}, {"nrkey", 0xAAAA}, {"cptpl", 0}});
  a.ok("bdev_nvme_resv_acquire", {{"name", "Nvme0n1"}, {"crkey", 0xAAAA}, {"rtype", 1}, {"racqa", 0}});
  json rep = a.ok("bdev_nvme_resv_report", {{"name", "Nvme0n1"}});
  EXPECT_EQ(rep["rtype"], 1);
  EXPECT_EQ(rep["regctl"], 1);
  ASSERT_EQ(rep["regctlext"].size(), 1u) << rep.dump();
  EXPECT_EQ(rep["regctlext"][0]["rkey"], 0xAAAA);
  EXPECT_EQ(rep["regctlext"][0]["rcsts"], 1);
  EXPECT_EQ(rep["regctlext"][0]["hostid"], hostid_hex(a));
  // Without EDS the target refuses a report for 128-bit host IDs, and the error says so.
  auto no_eds = a.call("bdev_nvme_resv_report", {{"name", "Nvme0n1"}, {"eds", false}});
  ASSERT_FALSE(no_eds.ok());
  EXPECT_NE(no_eds.err().message.find("Host Identifier Inconsistent Format"), std::string::npos) << no_eds.err().message;

  // Write Exclusive: the holder writes; the other host reads but its write is a conflict.
  EXPECT_EQ(write(a, 10), 0);
  EXPECT_EQ(read(b, 10), 0);
  EXPECT_EQ(write(b, 11), -EBADE);
  auto taken = b.call("bdev_nvme_resv_acquire", {{"name", "Nvme0n1"}, {"crkey", 0xBBBB}, {"rtype", 1}});
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.err().message.find("Reservation Conflict"), std::string::npos) << taken.err().message;
  EXPECT_EQ(taken.err().sys_errno, EACCES);

  // One host over two paths: with the first path gone, the second is still the holder's.
  ASSERT_TRUE(a.controllers.detach("Nvme0", {.traddr = "127.0.0.1"}).ok());
  EXPECT_EQ(write(a, 12), 0);
  rep = a.ok("bdev_nvme_resv_report", {{"name", "Nvme0n1"}});
  EXPECT_EQ(rep["regctlext"][0]["rcsts"], 1);

  // The other host registers and preempts with abort: it holds, the first host is out.
  b.ok("bdev_nvme_resv_register", {{"name", "Nvme0n1"}, {"nrkey", 0xBBBB}});
  b.ok("bdev_nvme_resv_acquire",
       {{"name", "Nvme0n1"}, {"crkey", 0xBBBB}, {"prkey", 0xAAAA}, {"rtype", 1}, {"racqa", 2}});
  rep = b.ok("bdev_nvme_resv_report", {{"name", "Nvme0n1"}});
  EXPECT_EQ(rep["regctl"], 1);
  EXPECT_EQ(rep["regctlext"][0]["rkey"], 0xBBBB);
  EXPECT_EQ(rep["regctlext"][0]["hostid"], hostid_hex(b));
  EXPECT_EQ(write(b, 13), 0);
  EXPECT_EQ(write(a, 14), -EBADE);

  // Release, unregister: nobody is left.
  b.ok("bdev_nvme_resv_release", {{"name", "Nvme0n1"}, {"crkey", 0xBBBB}, {"rtype", 1}});
  b.ok("bdev_nvme_resv_register", {{"name", "Nvme0n1"}, {"crkey", 0xBBBB}, {"rrega", 1}});
  rep = a.ok("bdev_nvme_resv_report", {{"name", "Nvme0n1"}});
  EXPECT_EQ(rep["regctl"], 0);
  EXPECT_EQ(rep["rtype"], 0);
  EXPECT_EQ(write(a, 15), 0);
}

TEST_F(bdev_nvme_reservations, bad_requests_are_clear_errors) {
  ASSERT_EQ(attach(a, "127.0.0.1"), json::array({"Nvme0n1"}));
  auto unknown = a.call("bdev_nvme_resv_report", {{"name", "Nvme9n1"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.err().code, errc::not_found);
  auto wrong_ns = a.call("bdev_nvme_resv_register", {{"name", "Nvme0n1"}, {"nsid", 2}, {"nrkey", 1}});
  ASSERT_FALSE(wrong_ns.ok());
  EXPECT_EQ(wrong_ns.err().message, "nsid: Nvme0n1 is namespace 1, not 2");
  for (auto bad : {json{{"name", "Nvme0n1"}, {"rtype", 0}}, json{{"name", "Nvme0n1"}, {"rtype", 7}},
                   json{{"name", "Nvme0n1"}}, json{{"name", "Nvme0n1"}, {"rtype", 1}, {"racqa", 3}},
                   json{{"name", "Nvme0n1"}, {"rtype", 1}, {"crkey", -1}}}) {
    auto r = a.call("bdev_nvme_resv_acquire", bad);
    EXPECT_FALSE(r.ok()) << bad.dump();
    if (!r.ok()) {
      EXPECT_EQ(r.err().code, errc::invalid_argument) << bad.dump() << ": " << r.err().message;
    }
  }
  auto reserved_cptpl = a.call("bdev_nvme_resv_register", {{"name", "Nvme0n1"}, {"nrkey", 1}, {"cptpl", 1}});
  ASSERT_FALSE(reserved_cptpl.ok());
  EXPECT_EQ(reserved_cptpl.err().code, errc::invalid_argument);
  // The target's answer to a wrong key: Reservation Conflict, named.
  a.ok("bdev_nvme_resv_register", {{"name", "Nvme0n1"}, {"nrkey", 5}});
  auto wrong_key = a.call("bdev_nvme_resv_register", {{"name", "Nvme0n1"}, {"crkey", 6}, {"rrega", 1}});
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_NE(wrong_key.err().message.find("Reservation Register: Reservation Conflict"), std::string::npos)
      << wrong_key.err().message;
}

// The embedding API (include/nvmfd/host.h) on a controller of its own.
TEST_F(bdev_nvme_reservations, the_host_api_registers_acquires_reports_and_releases) {
  nvme_host host(1);
  auto c = host.connect(fmt::format("trtype:tcp traddr:127.0.0.1 trsvcid:{} subnqn:{}", t.port(), nqn));
  ASSERT_TRUE(c.ok()) << c.err().message;
  ASSERT_TRUE(host.resv_register(**c, nsid_t{1}, {.nrkey = 0x1234, .cptpl = ptpl_change::no_change}).ok());
  ASSERT_TRUE(host.resv_acquire(**c, nsid_t{1},
                                {.rtype = reservation_type::exclusive_access_registrants_only, .crkey = 0x1234})
                  .ok());
  auto rep = host.resv_report(**c, nsid_t{1});
  ASSERT_TRUE(rep.ok()) << rep.err().message;
  EXPECT_EQ(rep->rtype, reservation_type::exclusive_access_registrants_only);
  ASSERT_EQ(rep->registrants.size(), 1u);
  EXPECT_TRUE(rep->registrants[0].holds);
  EXPECT_EQ(rep->registrants[0].rkey, 0x1234u);
  EXPECT_EQ(std::memcmp(rep->registrants[0].hostid.data(), (*c)->hostid().bytes.data(), 16), 0);
  // Exclusive Access, registrants only: another host (not registered) may not even read.
  ASSERT_EQ(attach(b, "127.0.0.1"), json::array({"Nvme0n1"}));
  EXPECT_EQ(read(b, 0), -EBADE);
  auto bad = host.resv_release(**c, nsid_t{1}, {.rtype = reservation_type::write_exclusive, .crkey = 0x1234});
  ASSERT_FALSE(bad.ok());  // the type held is another: Invalid Field
  EXPECT_NE(bad.err().message.find("Reservation Release"), std::string::npos) << bad.err().message;
  ASSERT_TRUE(host.resv_release(**c, nsid_t{1}, {.action = release_action::clear, .crkey = 0x1234}).ok());
  EXPECT_EQ(read(b, 0), 0);
  (*c)->disconnect();
}

}  // namespace
}  // namespace nvmfd
