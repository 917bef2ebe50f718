// Identify as a host reads it over the wire: controller, namespace, active namespace list
// and namespace identification descriptors, checked against the target's configuration.
#include <gtest/gtest.h>

#include <bit>

#include "proto/controller_properties.h"
#include "proto/identify.h"
#include "target_test.h"

namespace nvmfd {
namespace {

class identify_test : public target_test {
 protected:
  static uint8_t cns(identify_cns c) { return static_cast<uint8_t>(c); }
};

TEST_F(identify_test, controller_fields_match_the_configuration) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto r = h->admin.identify(cns(identify_cns::controller));
  ASSERT_TRUE(succeeded(r));
  ASSERT_EQ(r->data.size(), identify_data_size);
  const auto id = r->data_as<identify_controller>();
  const auto& t = fx->transport();

  EXPECT_EQ(id.cntlid.get(), h->cntlid);
  EXPECT_EQ(id.type(), controller_type::io);
  EXPECT_EQ(read_padded(id.subnqn), target_fixture::open_nqn);
  EXPECT_EQ(read_padded(id.sn), "NVMFDTEST0001");
  EXPECT_EQ(read_padded(id.mn), "nvmfd integration");

  // MDTS is in units of CAP.MPSMIN: 2^mdts pages of 4 KiB = max_io_size.
  auto cap = h->admin.property_value(property_offset::cap);
  ASSERT_TRUE(ok(cap));
  const uint64_t min_page = uint64_t{4096} << cap_fields::decode(*cap).mpsmin;
  ASSERT_NE(id.mdts, 0);
  EXPECT_EQ((uint64_t{1} << id.mdts) * min_page, t.max_io_size);
  EXPECT_EQ(id.mdts, 8);  // 1 MiB

  // IOCCSZ counts the 64-byte SQE plus the in-capsule data, in 16-byte units.
  EXPECT_EQ(id.ioccsz.get(), (sizeof(nvme_sqe) + t.in_capsule_data_size) / 16);
  EXPECT_EQ(id.iorcsz.get(), sizeof(nvme_cqe) / 16);
  EXPECT_EQ(id.icdoff.get(), 0);
  EXPECT_EQ(id.sgls.get() & 0x3, sgls_bits::supported);
  EXPECT_NE(id.sgls.get() & sgls_bits::address_is_offset, 0u) << "needed for in-capsule data";
  EXPECT_EQ(id.sgls.get() & sgls_bits::keyed_data_block, 0u) << "keyed SGLs are RDMA only";
  EXPECT_EQ(id.vwc, 0) << "a RAM namespace has no volatile write cache";
  EXPECT_EQ(id.nn.get(), target_fixture::max_namespaces);
  EXPECT_NE(id.oncs.get() & oncs_bits::write_zeroes, 0);
  EXPECT_NE(id.oncs.get() & oncs_bits::dataset_management, 0);
  EXPECT_EQ(id.sqes, 0x66);
  EXPECT_EQ(id.cqes, 0x44);
  EXPECT_EQ(id.maxcmd.get(), t.max_queue_depth);
  EXPECT_NE(id.ofcs.get() & 1, 0) << "Disconnect supported";
  EXPECT_NE(id.oaes.get() & oaes_bits::namespace_attribute, 0u);
  EXPECT_EQ(id.fcatt, 0) << "dynamic controller model";
}

TEST_F(identify_test, discovery_controller_says_so) {
  test_client d;
  auto cntlid = connect_admin_queue(d, addr(), port(), std::string(discovery_nqn));
  ASSERT_TRUE(ok(cntlid));
  auto r = d.identify(cns(identify_cns::controller));
  ASSERT_TRUE(succeeded(r));
  const auto id = r->data_as<identify_controller>();
  EXPECT_EQ(id.type(), controller_type::discovery);
  EXPECT_EQ(id.cntlid.get(), *cntlid);
  EXPECT_EQ(read_padded(id.subnqn), discovery_nqn);
  EXPECT_NE(id.oaes.get() & oaes_bits::discovery_log_change, 0u);
  // No namespaces behind a discovery controller.
  EXPECT_FALSE(succeeded(d.identify(cns(identify_cns::namespace_), 1)));
}

TEST_F(identify_test, namespace_geometry) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  struct row {
    uint32_t nsid;
    uint8_t lbads;
  };
  for (auto [nsid, lbads] : {row{target_fixture::ns_512, 9}, row{target_fixture::ns_4k, 12}}) {
    SCOPED_TRACE(nsid);
    auto r = h->admin.identify(cns(identify_cns::namespace_), nsid);
    ASSERT_TRUE(succeeded(r));
    const auto ns = r->data_as<identify_namespace>();
    EXPECT_EQ(ns.nsze.get(), target_fixture::ns_bytes >> lbads);
    EXPECT_EQ(ns.ncap.get(), ns.nsze.get());
    EXPECT_EQ(ns.current_format().lbads, lbads);
    EXPECT_EQ(ns.current_format().ms.get(), 0);
    EXPECT_NE(ns.nmic & nmic_bits::shared, 0) << "a subsystem namespace is shared by its controllers";
    const auto& dev = fx->ns_dev(nsid);
    EXPECT_EQ(0, std::memcmp(ns.nguid, dev->id().bytes.data(), 16)) << "NGUID defaults to the bdev UUID";
  }
  // An inactive NSID reads as zeroes; NSID 0 is invalid.
  auto inactive = h->admin.identify(cns(identify_cns::namespace_), 7);
  ASSERT_TRUE(succeeded(inactive));
  EXPECT_TRUE(all_zero(inactive->data));
  EXPECT_TRUE(has_status(h->admin.identify(cns(identify_cns::namespace_), 0),
                         nvme_status::generic(sc_generic::invalid_namespace_or_format)));
}

TEST_F(identify_test, active_namespace_list) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto list_after = [&](uint32_t nsid) -> std::vector<uint32_t> {
    auto r = h->admin.identify(cns(identify_cns::active_namespace_list), nsid);
    EXPECT_TRUE(succeeded(r));
    std::vector<uint32_t> ids;
    if (!r) return ids;
    for (size_t at = 0; at + 4 <= r->data.size(); at += 4) {
      uint32_t id = load_wire<le32>(r->data.data() + at).get();
      if (id == 0) break;
      ids.push_back(id);
    }
    return ids;
  };
  EXPECT_EQ(list_after(0), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(list_after(1), (std::vector<uint32_t>{2}));
  EXPECT_EQ(list_after(2), (std::vector<uint32_t>{}));
}

TEST_F(identify_test, namespace_id_descriptors_carry_uuid_and_nguid) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  for (uint32_t nsid : {target_fixture::ns_512, target_fixture::ns_4k}) {
    SCOPED_TRACE(nsid);
    auto r = h->admin.identify(cns(identify_cns::namespace_id_descriptors), nsid);
    ASSERT_TRUE(succeeded(r));
    auto d = parse_ns_id_descriptors(r->data);
    ASSERT_TRUE(ok(d));
    ASSERT_TRUE(d->uuid.has_value());
    ASSERT_TRUE(d->nguid.has_value());
    EXPECT_EQ(*d->uuid, fx->ns_dev(nsid)->id().bytes);
    EXPECT_FALSE(d->eui64.has_value()) << "no EUI-64 was configured";
    ASSERT_TRUE(d->csi.has_value());
    EXPECT_EQ(*d->csi, static_cast<uint8_t>(command_set::nvm));
  }
  EXPECT_TRUE(has_status(h->admin.identify(cns(identify_cns::namespace_id_descriptors), 9),
                         nvme_status::generic(sc_generic::invalid_namespace_or_format)));
}

TEST_F(identify_test, nvm_command_set_controller_data_is_zero_other_sets_are_refused) {
  // SPDK's bdev_nvme and Linux hosts read CNS 06h for the NVM command set.
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto r = h->admin.identify(cns(identify_cns::io_cs_controller), 0, 0, static_cast<uint8_t>(command_set::nvm));
  ASSERT_TRUE(succeeded(r));
  EXPECT_EQ(r->data, std::vector<std::byte>(identify_data_size));
  EXPECT_TRUE(has_status(h->admin.identify(cns(identify_cns::io_cs_controller), 0, 0,
                                           static_cast<uint8_t>(command_set::zoned)),
                         nvme_status::generic(sc_generic::invalid_field)));
}

}  // namespace
}  // namespace nvmfd
