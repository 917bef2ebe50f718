// The discovery controller as a persistent connection (TP8013/TP8014): the current
// discovery subsystem's entries with DUPRETINFO and EPCSD, Keep Alive, a Discovery Log
// Page Change notice for every kind of change that alters the log (and none for namespace
// changes), masked until the log is read without RAE; the per-host and discovery_filter
// views of the log. (A discovery controller's keep-alive is tested on the manual clock:
// kato_test in controller_lifecycle_test.cc.)
#include <gtest/gtest.h>

#include <chrono>
#include <functional>

#include "discovery_support.h"

namespace nvmfd {
namespace {

using namespace discovery_support;
using namespace std::chrono_literals;

const std::string nqn = "nqn.2014-08.io.nvmfd.test:disc-events";
const std::string other_host = std::string(target_fixture::other_host_nqn);

class discovery_events_test : public discovery_rpc_test {
 protected:
  // The Discovery Log Page Change notice completes AER cid within the timeout.
  static ::testing::AssertionResult notice_arrives(test_client& c, uint16_t cid) {
    c.options().timeout = 10000ms;
    auto r = c.wait(cid);
    c.options().timeout = 5000ms;
    if (!succeeded(r)) return succeeded(r) << " (no notice within 10 s)";
    if (r->dw0() != aer_notice_result(aer_notice::discovery_log_change, discovery_lid))
      return ::testing::AssertionFailure() << "dw0 " << r->dw0();
    return ::testing::AssertionSuccess();
  }
  // AER cid is still outstanding once every notice posted so far has run: an event would
  // have come before the Keep Alive's response (one reactor, one socket, in order).
  ::testing::AssertionResult no_notice(test_client& c, uint16_t cid) {
    settle(t.target().reactors());
    if (auto ka = c.keep_alive(); !succeeded(ka)) return succeeded(ka);
    if (!c.completed(cid)) return ::testing::AssertionSuccess();
    auto r = c.wait(cid);
    if (!r) return ok(r);
    return ::testing::AssertionFailure() << "an event came: dw0 " << r->dw0();
  }
};

TEST_F(discovery_events_test, one_current_discovery_entry_per_discovery_listener) {
  ASSERT_TRUE(ok_json(add_listener(std::string(discovery_nqn), "127.0.0.2", ports[1])));
  ASSERT_TRUE(ok_json(add_listener(std::string(discovery_nqn), "0.0.0.0", ports[2])));
  test_client c;
  ASSERT_TRUE(connect_discovery(c));
  auto log = read_log(c);
  EXPECT_EQ(log.entries, (std::vector<entry>{current("127.0.0.1", ports[0]), current("127.0.0.2", ports[1]),
                                             current("127.0.0.1", ports[2])}))
      << "the wildcard listener shows the address the host used";
  ASSERT_EQ(log.raw.size(), 3u);
  EXPECT_EQ(log.raw[0].eflags.get(), 0x3) << "DUPRETINFO (bit 0) and EPCSD (bit 1)";
  for (auto& e : log.raw) {
    EXPECT_EQ(e.cntlid.get(), cntlid_dynamic);
    EXPECT_NE(e.portid.get(), 0);
    EXPECT_EQ(e.asqsz.get(), target_fixture::default_transport().max_aq_depth);
  }
  EXPECT_NE(log.raw[0].portid.get(), log.raw[1].portid.get());
  EXPECT_NE(log.raw[1].portid.get(), log.raw[2].portid.get());

  // Through the wildcard listener on another address, that address is shown.
  test_client via2;
  ASSERT_TRUE(connect_discovery(via2, 0, "127.0.0.2", ports[2]));
  EXPECT_EQ(read_log(via2).entries.back(), current("127.0.0.2", ports[2]));
}

// Each change that alters what a discovery log shows: one notice, a new genctr.
TEST_F(discovery_events_test, every_kind_of_log_change_sends_a_notice) {
  ASSERT_TRUE(ok_json(t.call("bdev_malloc_create", {{"name", "M0"}, {"block_size", 512}, {"num_blocks", 2048}})));
  test_client c;
  ASSERT_TRUE(connect_discovery(c));
  ASSERT_TRUE(enable_events(c));
  struct change {
    const char* what;
    std::function<result<json>()> run;
    std::vector<entry> log_after;  // the whole log the host reads next
  };
  const auto cur = current("127.0.0.1", ports[0]);
  const auto sub = nvm(nqn, "127.0.0.1", ports[1]);
  const entry ref{static_cast<uint8_t>(subsystem_type::referral), std::string(discovery_nqn), "10.0.0.9", "8009", 0,
                  treq_bits::secure_channel_not_specified};
  const json referral = {{"address", address("10.0.0.9", "8009")}};
  const std::vector<change> changes{
      {"create subsystem (allow_any_host)",
       [&] { return t.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}}); }, {cur}},
      {"add listener", [&] { return add_listener(nqn, "127.0.0.1", ports[1]); }, {cur, sub}},
      {"allow_any_host false", [&] { return t.call("nvmf_subsystem_allow_any_host", {{"nqn", nqn}, {"allow_any_host", false}}); },
       {cur}},
      {"add host", [&] { return t.call("nvmf_subsystem_add_host", {{"nqn", nqn}, {"host", std::string(test_host_nqn)}}); },
       {cur, sub}},
      {"add another host", [&] { return t.call("nvmf_subsystem_add_host", {{"nqn", nqn}, {"host", other_host}}); },
       {cur, sub}},
      {"remove host", [&] { return t.call("nvmf_subsystem_remove_host", {{"nqn", nqn}, {"host", std::string(test_host_nqn)}}); },
       {cur}},
      {"allow_any_host true", [&] { return t.call("nvmf_subsystem_allow_any_host", {{"nqn", nqn}, {"allow_any_host", true}}); },
       {cur, sub}},
      {"add referral", [&] { return t.call("nvmf_discovery_add_referral", referral); }, {cur, sub, ref}},
      {"discovery filter", [&] { return t.call("nvmf_set_config", {{"discovery_filter", "svcid"}}); }, {cur, ref}},
      {"discovery filter back", [&] { return t.call("nvmf_set_config", {{"discovery_filter", "match_any"}}); },
       {cur, sub, ref}},
      {"remove referral", [&] { return t.call("nvmf_discovery_remove_referral", referral); }, {cur, sub}},
      {"remove listener",
       [&] {
         return t.call("nvmf_subsystem_remove_listener", {{"nqn", nqn}, {"listen_address", address("127.0.0.1", ports[1])}});
       },
       {cur}},
      {"add listener again", [&] { return add_listener(nqn, "127.0.0.1", ports[1]); }, {cur, sub}},
      {"delete subsystem", [&] { return t.call("nvmf_delete_subsystem", {{"nqn", nqn}}); }, {cur}},
  };
  uint64_t genctr = read_log(c).genctr;
  for (const auto& ch : changes) {
    SCOPED_TRACE(ch.what);
    auto aer = c.submit_async_event_request();
    ASSERT_TRUE(ok(aer));
    ASSERT_TRUE(ok_json(ch.run()));
    ASSERT_TRUE(notice_arrives(c, *aer));
    auto log = read_log(c);  // RAE clear: unmasks the next notice
    EXPECT_NE(log.genctr, genctr);
    EXPECT_EQ(log.entries, ch.log_after);
    genctr = log.genctr;
  }
}

TEST_F(discovery_events_test, namespace_changes_and_no_op_calls_send_no_notice) {
  ASSERT_TRUE(ok_json(t.call("bdev_malloc_create", {{"name", "M0"}, {"block_size", 512}, {"num_blocks", 2048}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}})));
  test_client c;
  ASSERT_TRUE(connect_discovery(c));
  ASSERT_TRUE(enable_events(c));
  const uint64_t genctr = read_log(c).genctr;
  auto aer = c.submit_async_event_request();
  ASSERT_TRUE(ok(aer));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_add_ns", {{"nqn", nqn}, {"namespace", {{"bdev_name", "M0"}}}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_remove_ns", {{"nqn", nqn}, {"nsid", 1}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_allow_any_host", {{"nqn", nqn}, {"allow_any_host", true}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_set_config", {{"discovery_filter", "match_any"}})));
  EXPECT_TRUE(no_notice(c, *aer));
  EXPECT_EQ(read_log(c).genctr, genctr);
  // The AER is still outstanding: the next real change completes it.
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_allow_any_host", {{"nqn", nqn}, {"allow_any_host", false}})));
  EXPECT_TRUE(notice_arrives(c, *aer));
}

TEST_F(discovery_events_test, the_notice_is_masked_until_the_log_is_read_without_rae) {
  test_client c;
  ASSERT_TRUE(connect_discovery(c));
  ASSERT_TRUE(enable_events(c));
  auto referral = [&](const char* addr) { return t.call("nvmf_discovery_add_referral", {{"address", address(addr, "8009")}}); };
  auto aer = c.submit_async_event_request();
  ASSERT_TRUE(ok(aer));
  ASSERT_TRUE(ok_json(referral("10.0.0.1")));
  ASSERT_TRUE(notice_arrives(c, *aer));

  aer = c.submit_async_event_request();
  ASSERT_TRUE(ok(aer));
  ASSERT_TRUE(ok_json(referral("10.0.0.2")));
  EXPECT_TRUE(no_notice(c, *aer)) << "masked: the log was not read";
  ASSERT_TRUE(succeeded(c.get_log_page(discovery_lid, 0, sizeof(discovery_log_header), 0xffffffffu, true)));
  ASSERT_TRUE(ok_json(referral("10.0.0.3")));
  EXPECT_TRUE(no_notice(c, *aer)) << "still masked: read with RAE";
  ASSERT_TRUE(succeeded(c.get_log_page(discovery_lid, 0, sizeof(discovery_log_header))));
  ASSERT_TRUE(ok_json(referral("10.0.0.4")));
  EXPECT_TRUE(notice_arrives(c, *aer)) << "unmasked by the read without RAE";
}

TEST_F(discovery_events_test, every_connected_discovery_controller_is_told) {
  test_client a, b;
  ASSERT_TRUE(connect_discovery(a));
  client_options o;
  o.hostnqn = other_host;
  b.options() = o;
  ASSERT_TRUE(connect_discovery(b));
  ASSERT_TRUE(enable_events(a));
  ASSERT_TRUE(enable_events(b));
  auto aer_a = a.submit_async_event_request(), aer_b = b.submit_async_event_request();
  ASSERT_TRUE(ok(aer_a));
  ASSERT_TRUE(ok(aer_b));
  ASSERT_TRUE(ok_json(t.call("nvmf_create_subsystem", {{"nqn", nqn}})));
  EXPECT_TRUE(notice_arrives(a, *aer_a));
  EXPECT_TRUE(notice_arrives(b, *aer_b));
}

// Per host (allow lists) and per connection (discovery_filter): what each view shows.
TEST_F(discovery_events_test, hosts_see_allowed_subsystems_and_filters_keep_matching_listeners) {
  const std::string acl = "nqn.2014-08.io.nvmfd.test:disc-acl";
  ASSERT_TRUE(ok_json(t.call("nvmf_create_subsystem", {{"nqn", nqn}, {"allow_any_host", true}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_create_subsystem", {{"nqn", acl}})));
  ASSERT_TRUE(ok_json(t.call("nvmf_subsystem_add_host", {{"nqn", acl}, {"host", other_host}})));
  ASSERT_TRUE(ok_json(add_listener(std::string(discovery_nqn), "127.0.0.2", ports[1])));
  ASSERT_TRUE(ok_json(add_listener(nqn, "127.0.0.1", ports[0])));
  ASSERT_TRUE(ok_json(add_listener(nqn, "127.0.0.2", ports[1])));
  ASSERT_TRUE(ok_json(add_listener(nqn, "127.0.0.1", ports[1])));
  ASSERT_TRUE(ok_json(add_listener(nqn, "0.0.0.0", ports[2])));
  ASSERT_TRUE(ok_json(add_listener(acl, "127.0.0.1", ports[0])));
  ASSERT_TRUE(ok_json(t.call("nvmf_discovery_add_referral", {{"address", address("10.0.0.9", "8009")}})));
  const entry ref{static_cast<uint8_t>(subsystem_type::referral), std::string(discovery_nqn), "10.0.0.9", "8009", 0,
                  treq_bits::secure_channel_not_specified};

  test_client a;  // test_host_nqn, on 127.0.0.1:ports[0]
  ASSERT_TRUE(connect_discovery(a));
  client_options o;
  o.hostnqn = other_host;
  test_client b(o);  // other_host, on 127.0.0.2:ports[1]
  ASSERT_TRUE(connect_discovery(b, 0, "127.0.0.2", ports[1]));

  struct row {
    const char* filter;
    std::vector<entry> a, b;
  };
  // Without a filter (and with "transport": every listener here is TCP) each host sees all.
  const std::vector<entry> every_a{current("127.0.0.1", ports[0]), current("127.0.0.2", ports[1]),
                                   nvm(nqn, "127.0.0.1", ports[0]),  nvm(nqn, "127.0.0.2", ports[1]),
                                   nvm(nqn, "127.0.0.1", ports[1]),  nvm(nqn, "127.0.0.1", ports[2]), ref};
  std::vector<entry> every_b = every_a;
  every_b[5] = nvm(nqn, "127.0.0.2", ports[2]);  // the wildcard listener, as b reached the target
  every_b.insert(every_b.end() - 1, nvm(acl, "127.0.0.1", ports[0]));
  const std::vector<row> rows{
      {"match_any", every_a, every_b},
      {"transport", every_a, every_b},
      {"address",
       {current("127.0.0.1", ports[0]), nvm(nqn, "127.0.0.1", ports[0]), nvm(nqn, "127.0.0.1", ports[1]),
        nvm(nqn, "127.0.0.1", ports[2]), ref},
       {current("127.0.0.2", ports[1]), nvm(nqn, "127.0.0.2", ports[1]), nvm(nqn, "127.0.0.2", ports[2]), ref}},
      {"svcid",
       {current("127.0.0.1", ports[0]), nvm(nqn, "127.0.0.1", ports[0]), ref},
       {current("127.0.0.2", ports[1]), nvm(nqn, "127.0.0.2", ports[1]), nvm(nqn, "127.0.0.1", ports[1]), ref}},
      {"address,svcid",
       {current("127.0.0.1", ports[0]), nvm(nqn, "127.0.0.1", ports[0]), ref},
       {current("127.0.0.2", ports[1]), nvm(nqn, "127.0.0.2", ports[1]), ref}},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.filter);
    ASSERT_TRUE(ok_json(t.call("nvmf_set_config", {{"discovery_filter", r.filter}})));
    EXPECT_EQ(read_log(a).entries, r.a) << "test_host_nqn is not on " << acl << "'s allow list";
    EXPECT_EQ(read_log(b).entries, r.b);
  }
}

}  // namespace
}  // namespace nvmfd
