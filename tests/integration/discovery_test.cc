// The discovery service as a host uses it: Connect to the well-known NQN, read the log
// header, then the whole log (or any dword-aligned window of it); the entries, per-host
// filtering, and the generation counter as the configuration changes. The fixture's log
// is: the current discovery subsystem's entry (its listener), then open_nqn and acl_nqn.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <vector>

#include "proto/features.h"
#include "proto/log_pages.h"
#include "target_test.h"

namespace nvmfd {
namespace {

constexpr uint8_t discovery_lid = static_cast<uint8_t>(log_page_id::discovery);

struct discovery_log {
  discovery_log_header header{};
  std::vector<discovery_log_entry> entries;
};

class discovery_test : public target_test {
 protected:
  // Connects a discovery controller as hostnqn.
  result<uint16_t> connect_discovery(test_client& c) {
    return connect_admin_queue(c, addr(), port(), std::string(discovery_nqn));
  }

  // Reads the header, then the whole log, as the Linux host does.
  static discovery_log read_log(test_client& c) {
    discovery_log log;
    auto h = c.get_log_page(discovery_lid, 0, sizeof(discovery_log_header));
    EXPECT_TRUE(succeeded(h));
    if (!h || !h->status().ok()) return log;
    const uint64_t numrec = h->data_as<discovery_log_header>().numrec.get();
    auto all = c.get_log_page(discovery_lid, 0, static_cast<uint32_t>(discovery_log_size(numrec)));
    EXPECT_TRUE(succeeded(all));
    if (!all || !all->status().ok()) return log;
    log.header = all->data_as<discovery_log_header>();
    for (uint64_t i = 0; i < numrec; ++i)
      log.entries.push_back(load_wire<discovery_log_entry>(all->data.data() + discovery_entry_offset(i)));
    return log;
  }

  static std::set<std::string> subnqns(const discovery_log& log) {
    std::set<std::string> s;
    for (auto& e : log.entries) s.insert(std::string(e.subnqn_text()));
    return s;
  }

  uint64_t genctr(test_client& c) {
    auto h = c.get_log_page(discovery_lid, 0, sizeof(discovery_log_header));
    EXPECT_TRUE(succeeded(h));
    return h && h->status().ok() ? h->data_as<discovery_log_header>().genctr.get() : 0;
  }
};

TEST_F(discovery_test, header_counts_every_record_even_when_only_the_header_is_read) {
  test_client c;
  ASSERT_TRUE(ok(connect_discovery(c)));
  auto h = c.get_log_page(discovery_lid, 0, sizeof(discovery_log_header));
  ASSERT_TRUE(succeeded(h));
  ASSERT_EQ(h->data.size(), sizeof(discovery_log_header));
  const auto hdr = h->data_as<discovery_log_header>();
  EXPECT_EQ(hdr.numrec.get(), 3u) << "the discovery subsystem, open_nqn and acl_nqn (test_host_nqn is allowed there)";
  EXPECT_EQ(hdr.recfmt.get(), 0);

  auto log = read_log(c);
  EXPECT_EQ(log.header.numrec.get(), 3u);
  EXPECT_EQ(log.header.genctr.get(), hdr.genctr.get());
  EXPECT_EQ(log.entries.size(), 3u);
}

TEST_F(discovery_test, entries_describe_the_subsystems_and_the_listener) {
  test_client c;
  ASSERT_TRUE(ok(connect_discovery(c)));
  auto log = read_log(c);
  ASSERT_EQ(log.entries.size(), 3u);
  EXPECT_EQ(subnqns(log), (std::set<std::string>{std::string(discovery_nqn), std::string(target_fixture::open_nqn),
                                                 std::string(target_fixture::acl_nqn)}));
  EXPECT_EQ(log.entries[0].subnqn_text(), discovery_nqn) << "the current discovery subsystem comes first";
  for (const auto& e : log.entries) {
    SCOPED_TRACE(std::string(e.subnqn_text()));
    const bool current = e.subnqn_text() == discovery_nqn;
    EXPECT_EQ(e.trtype, static_cast<uint8_t>(transport_type::tcp));
    EXPECT_EQ(e.adrfam, static_cast<uint8_t>(address_family::ipv4));
    EXPECT_EQ(e.subtype, static_cast<uint8_t>(current ? subsystem_type::current_discovery : subsystem_type::nvme));
    EXPECT_EQ(e.eflags.get(), current ? eflags_bits::duplicate_returned_info | eflags_bits::explicit_persistent_connection
                                      : 0);
    EXPECT_EQ(e.traddr_text(), "127.0.0.1");
    EXPECT_EQ(e.trsvcid_text(), std::to_string(port()));
    EXPECT_EQ(e.cntlid.get(), cntlid_dynamic);
    EXPECT_NE(e.portid.get(), 0);
    EXPECT_EQ(e.portid.get(), log.entries[0].portid.get()) << "one address and port: one port ID";
    EXPECT_EQ(e.tsas[0], static_cast<uint8_t>(tcp_sectype::none));
  }
}

TEST_F(discovery_test, a_window_in_the_middle_returns_that_slice) {
  test_client c;
  ASSERT_TRUE(ok(connect_discovery(c)));
  const uint32_t whole = static_cast<uint32_t>(discovery_log_size(3));
  auto all = c.get_log_page(discovery_lid, 0, whole);
  ASSERT_TRUE(succeeded(all));
  struct row {
    uint64_t offset;
    uint32_t len;
  };
  for (auto [offset, len] : {row{discovery_entry_offset(1), 1024}, row{512, 1024}, row{1024 + 252, 8},
                             row{discovery_entry_offset(1) + 1020, 4}}) {
    SCOPED_TRACE(offset);
    auto part = c.get_log_page(discovery_lid, offset, len);
    ASSERT_TRUE(succeeded(part));
    ASSERT_EQ(part->data.size(), len);
    EXPECT_TRUE(std::equal(part->data.begin(), part->data.end(), all->data.begin() + offset));
  }
  // Reading past the end returns zeroes after the log.
  auto tail = c.get_log_page(discovery_lid, discovery_entry_offset(2), 2048);
  ASSERT_TRUE(succeeded(tail));
  EXPECT_TRUE(std::equal(tail->data.begin(), tail->data.begin() + 1024, all->data.begin() + discovery_entry_offset(2)));
  EXPECT_TRUE(all_zero(std::span(tail->data).subspan(1024)));
}

TEST_F(discovery_test, a_host_not_on_an_allow_list_does_not_see_that_subsystem) {
  client_options other;
  other.hostnqn = std::string(target_fixture::other_host_nqn);
  test_client c(other);
  ASSERT_TRUE(ok(connect_discovery(c)));
  auto log = read_log(c);
  EXPECT_EQ(log.header.numrec.get(), 2u);
  EXPECT_EQ(subnqns(log), (std::set<std::string>{std::string(discovery_nqn), std::string(target_fixture::open_nqn)}));
}

TEST_F(discovery_test, genctr_changes_with_the_configuration) {
  test_client c;
  ASSERT_TRUE(ok(connect_discovery(c)));
  const std::string extra = "nqn.2014-08.io.nvmfd.test:extra";
  subsystem_params p;
  p.nqn = extra;
  ASSERT_TRUE(ok(fx->target().create_subsystem(p)));

  const uint64_t g0 = genctr(c);
  ASSERT_TRUE(ok(fx->target().add_listener(extra, fx->listener())));
  const uint64_t g1 = genctr(c);
  EXPECT_NE(g1, g0) << "add_listener";
  EXPECT_EQ(read_log(c).entries.size(), 3u) << "test_host_nqn is not allowed on " << extra << " yet";

  ASSERT_TRUE(ok(fx->target().add_host(extra, std::string(test_host_nqn))));
  const uint64_t g2 = genctr(c);
  EXPECT_NE(g2, g1) << "add_host";
  auto log = read_log(c);
  EXPECT_EQ(log.entries.size(), 4u);
  EXPECT_TRUE(subnqns(log).count(extra));

  ASSERT_TRUE(ok(fx->target().remove_listener(extra, fx->listener())));
  const uint64_t g3 = genctr(c);
  EXPECT_NE(g3, g2) << "remove_listener";
  EXPECT_EQ(read_log(c).entries.size(), 3u);
  EXPECT_EQ(genctr(c), g3) << "reading does not change it";

  // The shared listening socket stays: other subsystems still listen there.
  test_client again;
  EXPECT_TRUE(ok(connect_discovery(again)));
}

// Regression (found by this suite, fixed in 89070c2): the discovery controller advertises
// OAES bit 31 and accepts Asynchronous Event Configuration bit 31, so a configuration
// change must complete an outstanding AER with a Discovery Log Page Change notice
// (nvme-cli persistent discovery connections wait for it).
TEST_F(discovery_test, log_change_completes_an_outstanding_async_event_request) {
  test_client c;
  ASSERT_TRUE(ok(connect_discovery(c)));
  ASSERT_TRUE(succeeded(c.set_features(static_cast<uint8_t>(feature_id::async_event_configuration),
                                       aec_bits::discovery_log_change)));
  auto aer = c.submit_async_event_request();
  ASSERT_TRUE(ok(aer));
  ASSERT_TRUE(ok(fx->target().add_host(std::string(target_fixture::acl_nqn), "nqn.2014-08.io.nvmfd.test:host-c")));
  c.options().timeout = std::chrono::milliseconds(10000);
  auto r = c.wait(*aer);
  ASSERT_TRUE(succeeded(r)) << "no Discovery Log Page Change event within 10 s";
  EXPECT_EQ(r->dw0(), aer_notice_result(aer_notice::discovery_log_change, discovery_lid));
}

}  // namespace
}  // namespace nvmfd
