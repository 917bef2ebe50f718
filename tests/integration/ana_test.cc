// Asymmetric Namespace Access on the target (issue 4): Identify fields, the ANA log page
// (LID 0Ch) with and without RGO, the ANA change AER, and path statuses per ANA state.
#include <gtest/gtest.h>

#include <cstring>

#include "proto/ana_log.h"
#include "proto/features.h"
#include "proto/identify.h"
#include "proto/log_pages.h"
#include "target_test.h"

namespace nvmfd {
namespace {

constexpr std::string_view ana_nqn = "nqn.2014-08.io.nvmfd.test:ana";
constexpr uint8_t lid_ana = static_cast<uint8_t>(log_page_id::ana);

struct parsed_group {
  uint32_t grpid = 0;
  uint64_t chgcnt = 0;
  ana_state state = ana_state::optimized;
  std::vector<uint32_t> nsids;
  uint32_t nnsids = 0;
};

struct parsed_log {
  uint64_t chgcnt = 0;
  std::vector<parsed_group> groups;
};

// Parses an ANA log, bounds-checking every descriptor against the buffer.
std::optional<parsed_log> parse_ana_log(const std::vector<std::byte>& page) {
  if (page.size() < sizeof(ana_log_header)) return std::nullopt;
  auto h = load_wire<ana_log_header>(page.data());
  parsed_log out;
  out.chgcnt = h.chgcnt.get();
  size_t off = sizeof(h);
  for (uint16_t i = 0; i < h.ngrps.get(); ++i) {
    if (off + sizeof(ana_group_descriptor) > page.size()) return std::nullopt;
    auto d = load_wire<ana_group_descriptor>(page.data() + off);
    off += sizeof(d);
    parsed_group g{d.grpid.get(), d.chgcnt.get(), d.ana(), {}, d.nnsids.get()};
    if (off + size_t{g.nnsids} * 4 > page.size()) return std::nullopt;
    for (uint32_t k = 0; k < g.nnsids; ++k) {
      g.nsids.push_back(load_wire<le32>(page.data() + off).get());
      off += 4;
    }
    out.groups.push_back(g);
  }
  return out;
}

class ana_test : public target_test {
 protected:
  void SetUp() override {
    target_test::SetUp();
    if (!fx) return;
    subsystem_params p;
    p.nqn = std::string(ana_nqn);
    p.allow_any_host = true;
    p.ana_reporting = true;
    p.max_namespaces = 8;
    ASSERT_TRUE(ok(fx->target().create_subsystem(p)));
    // nsid 1 and 3 in group 1, nsid 2 in group 2.
    const uint32_t groups[] = {1, 2, 1};
    for (uint32_t i = 0; i < 3; ++i) {
      auto d = fx->make_ram_bdev("ana" + std::to_string(i + 1), 512, 2048);
      ASSERT_TRUE(ok(d));
      ASSERT_TRUE(ok(fx->target().add_namespace(p.nqn, {.dev = *d, .nsid = nsid_t{i + 1}, .anagrpid = groups[i]})));
    }
    ASSERT_TRUE(ok(fx->target().add_listener(p.nqn, fx->listener())));
  }

  result<test_controller> connect_ana() const { return test_controller::connect(params(ana_nqn)); }

  result<void> set_state(ana_state st, std::optional<uint32_t> grp) {
    return fx->target().set_ana_state(std::string(ana_nqn), fx->listener(), st, grp);
  }

  static result<command_result> get_ana_log(test_client& c, bool rgo, bool rae, uint32_t len = 4096,
                                            uint64_t offset = 0) {
    nvme_sqe s = test_client::make_sqe(static_cast<uint8_t>(admin_opcode::get_log_page), 0xffffffffu);
    const uint32_t numd = len / 4 - 1;
    s.cdw10 = uint32_t{lid_ana} | (rgo ? uint32_t{ana_lsp_bits::rgo} << 8 : 0u) | (rae ? 1u << 15 : 0u) |
              ((numd & 0xffff) << 16);
    s.cdw11 = numd >> 16;
    s.cdw12 = static_cast<uint32_t>(offset);
    s.cdw13 = static_cast<uint32_t>(offset >> 32);
    test_client::set_sgl_transport(s, len);
    return c.execute(s, {}, {}, len);
  }
};

TEST_F(ana_test, identify_reports_ana_capabilities) {
  auto h = connect_ana();
  ASSERT_TRUE(ok(h));
  auto r = h->admin.identify(static_cast<uint8_t>(identify_cns::controller));
  ASSERT_TRUE(succeeded(r));
  auto id = r->data_as<identify_controller>();
  EXPECT_NE(id.cmic & cmic_bits::ana_reporting, 0);
  EXPECT_NE(id.oaes.get() & oaes_bits::ana_change, 0u);
  EXPECT_EQ(id.anatt, 10);
  const uint8_t all = anacap_bits::optimized | anacap_bits::non_optimized | anacap_bits::inaccessible |
                      anacap_bits::persistent_loss | anacap_bits::change;
  EXPECT_EQ(id.anacap & all, all);
  EXPECT_EQ(id.anagrpmax.get(), 8u);
  EXPECT_EQ(id.nanagrpid.get(), 8u);
  for (uint32_t nsid : {1u, 2u, 3u}) {
    auto n = h->admin.identify(static_cast<uint8_t>(identify_cns::namespace_), nsid);
    ASSERT_TRUE(succeeded(n));
    EXPECT_EQ(n->data_as<identify_namespace>().anagrpid.get(), nsid == 2 ? 2u : 1u);
  }
}

TEST_F(ana_test, subsystem_without_ana_reporting_has_no_ana_log) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto id = h->admin.identify(static_cast<uint8_t>(identify_cns::controller));
  ASSERT_TRUE(succeeded(id));
  EXPECT_EQ(id->data_as<identify_controller>().cmic & cmic_bits::ana_reporting, 0);
  EXPECT_TRUE(has_status(get_ana_log(h->admin, false, false),
                         nvme_status::specific(sc_command_specific::invalid_log_page)));
}

TEST_F(ana_test, log_lists_groups_with_and_without_nsids) {
  auto h = connect_ana();
  ASSERT_TRUE(ok(h));
  auto r = get_ana_log(h->admin, false, false);
  ASSERT_TRUE(succeeded(r));
  auto log = parse_ana_log(r->data);
  ASSERT_TRUE(log);
  ASSERT_EQ(log->groups.size(), 2u);
  EXPECT_EQ(log->groups[0].grpid, 1u);
  EXPECT_EQ(log->groups[0].nsids, (std::vector<uint32_t>{1, 3}));
  EXPECT_EQ(log->groups[0].state, ana_state::optimized);
  EXPECT_EQ(log->groups[1].grpid, 2u);
  EXPECT_EQ(log->groups[1].nsids, (std::vector<uint32_t>{2}));
  // Past the page: zeroes.
  EXPECT_TRUE(all_zero(std::span(r->data).subspan(ana_log_size(2, 3))));

  auto g = get_ana_log(h->admin, true, false);
  ASSERT_TRUE(succeeded(g));
  auto glog = parse_ana_log(g->data);
  ASSERT_TRUE(glog);
  ASSERT_EQ(glog->groups.size(), 2u);
  EXPECT_EQ(glog->groups[0].nnsids, 0u);
  EXPECT_EQ(glog->groups[1].nnsids, 0u);
  EXPECT_TRUE(all_zero(std::span(g->data).subspan(ana_log_size(2, 0))));

  // An offset into the page: the second descriptor first.
  auto part = get_ana_log(h->admin, true, false, 32, sizeof(ana_log_header) + sizeof(ana_group_descriptor));
  ASSERT_TRUE(succeeded(part));
  EXPECT_EQ(load_wire<ana_group_descriptor>(part->data.data()).grpid.get(), 2u);
}

TEST_F(ana_test, state_change_raises_an_aer_and_shows_in_the_log) {
  auto h = connect_ana();
  ASSERT_TRUE(ok(h));
  ASSERT_TRUE(succeeded(h->admin.set_features(static_cast<uint8_t>(feature_id::async_event_configuration),
                                              aec_bits::ana_change)));
  auto aer = h->admin.submit_async_event_request();
  ASSERT_TRUE(ok(aer));
  ASSERT_TRUE(ok(set_state(ana_state::inaccessible, 2u)));
  auto ev = h->admin.wait(*aer);
  ASSERT_TRUE(succeeded(ev));
  EXPECT_EQ(ev->dw0(), aer_notice_result(aer_notice::ana_change, lid_ana));

  // Masked until the log is read without RAE: the next change raises nothing yet.
  auto aer2 = h->admin.submit_async_event_request();
  ASSERT_TRUE(ok(aer2));
  auto rae = get_ana_log(h->admin, false, true);
  ASSERT_TRUE(succeeded(rae));
  auto log = parse_ana_log(rae->data);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->chgcnt, 1u);
  ASSERT_EQ(log->groups.size(), 2u);
  EXPECT_EQ(log->groups[0].state, ana_state::optimized);
  EXPECT_EQ(log->groups[1].state, ana_state::inaccessible);

  ASSERT_TRUE(ok(set_state(ana_state::non_optimized, 1u)));
  ASSERT_TRUE(succeeded(h->admin.keep_alive()));  // the posted notice has run by now
  EXPECT_EQ(h->admin.outstanding(), 1u) << "no second notice while masked";

  ASSERT_TRUE(succeeded(get_ana_log(h->admin, false, false)));  // unmask
  ASSERT_TRUE(ok(set_state(ana_state::optimized, 1u)));
  auto ev2 = h->admin.wait(*aer2);
  ASSERT_TRUE(succeeded(ev2));
  EXPECT_EQ(ev2->dw0(), aer_notice_result(aer_notice::ana_change, lid_ana));
  auto last = get_ana_log(h->admin, false, false);
  ASSERT_TRUE(succeeded(last));
  EXPECT_EQ(parse_ana_log(last->data)->chgcnt, 3u);
}

TEST_F(ana_test, io_completes_with_the_path_status_of_its_group) {
  auto h = connect_ana();
  ASSERT_TRUE(ok(h));
  struct {
    ana_state st;
    std::optional<uint8_t> sc;
  } cases[] = {{ana_state::non_optimized, std::nullopt},
               {ana_state::inaccessible, sc_path::ana_inaccessible},
               {ana_state::persistent_loss, sc_path::ana_persistent_loss},
               {ana_state::change, sc_path::ana_transition},
               {ana_state::optimized, std::nullopt}};
  for (auto& c : cases) {
    SCOPED_TRACE(std::string(ana_state_rpc_name(c.st)));
    ASSERT_TRUE(ok(set_state(c.st, 2u)));
    auto r = h->io.read(2, 0, 1, 512);
    if (c.sc) {
      EXPECT_TRUE(has_status(r, nvme_status::path(*c.sc)));
    } else {
      EXPECT_TRUE(succeeded(r));
    }
    EXPECT_TRUE(succeeded(h->io.read(1, 0, 1, 512))) << "group 1 stays optimized";
  }
  // Without a group: every group of the listener.
  ASSERT_TRUE(ok(set_state(ana_state::inaccessible, std::nullopt)));
  EXPECT_TRUE(has_status(h->io.read(1, 0, 1, 512), nvme_status::path(sc_path::ana_inaccessible)));
  EXPECT_TRUE(has_status(h->io.read(3, 0, 1, 512), nvme_status::path(sc_path::ana_inaccessible)));
}

TEST_F(ana_test, moving_a_namespace_to_another_group) {
  auto h = connect_ana();
  ASSERT_TRUE(ok(h));
  ASSERT_TRUE(ok(set_state(ana_state::inaccessible, 2u)));
  ASSERT_TRUE(ok(fx->target().set_ns_ana_group(std::string(ana_nqn), nsid_t{3}, 2)));
  EXPECT_TRUE(has_status(h->io.read(3, 0, 1, 512), nvme_status::path(sc_path::ana_inaccessible)));
  auto r = get_ana_log(h->admin, false, false);
  ASSERT_TRUE(succeeded(r));
  auto log = parse_ana_log(r->data);
  ASSERT_TRUE(log);
  ASSERT_EQ(log->groups.size(), 2u);
  EXPECT_EQ(log->groups[1].nsids, (std::vector<uint32_t>{2, 3}));
  EXPECT_FALSE(ok(fx->target().set_ns_ana_group(std::string(ana_nqn), nsid_t{3}, 9))) << "above max_namespaces";
  EXPECT_FALSE(ok(set_state(ana_state::inaccessible, 0u)));
}

}  // namespace
}  // namespace nvmfd
