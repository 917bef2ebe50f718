// Host-side discovery against our own target, in one process over loopback: the log read
// (also while the target's configuration changes), discover(), per-host filtering, errors.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "host/discovery_client.h"
#include "local_target.h"
#include "proto/nqn.h"

namespace nvmfd {
namespace {

transport_id discovery_at(const test::local_target& t) {
  transport_id id;
  id.traddr = "127.0.0.1";
  id.trsvcid = t.port_text();
  id.subnqn = std::string(discovery_nqn);
  return id;
}

const discovery_entry* find(const std::vector<discovery_entry>& v, const std::string& nqn) {
  for (const auto& e : v)
    if (e.subnqn == nqn) return &e;
  return nullptr;
}

TEST(host_discovery, reads_the_log_of_our_discovery_controller) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:d1", 512, 8);
  t.add_subsystem("nqn.2016-06.io.nvmfd:d2", 512, 8);
  reactor_pool pool(1);
  auto c = host_controller::connect(pool, discovery_at(t), {});
  ASSERT_TRUE(c.ok()) << c.err().message;
  EXPECT_EQ((*c)->identity().type(), controller_type::discovery);
  auto log = read_discovery_log(**c);
  ASSERT_TRUE(log.ok()) << log.err().message;
  EXPECT_GT(log->genctr, 0u);
  EXPECT_EQ(log->numrec, log->entries.size());
  for (const char* nqn : {"nqn.2016-06.io.nvmfd:d1", "nqn.2016-06.io.nvmfd:d2"}) {
    const auto* e = find(log->entries, nqn);
    ASSERT_NE(e, nullptr) << nqn;
    EXPECT_EQ(e->trtype, static_cast<uint8_t>(transport_type::tcp));
    EXPECT_EQ(e->adrfam, static_cast<uint8_t>(address_family::ipv4));
    EXPECT_EQ(e->subtype, static_cast<uint8_t>(subsystem_type::nvme));
    EXPECT_EQ(e->traddr, "127.0.0.1");
    EXPECT_EQ(e->trsvcid, t.port_text());
    EXPECT_EQ(e->sectype, 0u);
  }
  (*c)->disconnect();
}

TEST(host_discovery, genctr_moves_when_the_configuration_changes) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:g1", 512, 8);
  reactor_pool pool(1);
  auto c = host_controller::connect(pool, discovery_at(t), {});
  ASSERT_TRUE(c.ok()) << c.err().message;
  auto before = read_discovery_log(**c);
  ASSERT_TRUE(before.ok()) << before.err().message;
  t.add_subsystem("nqn.2016-06.io.nvmfd:g2", 512, 8);
  auto after = read_discovery_log(**c);
  ASSERT_TRUE(after.ok()) << after.err().message;
  EXPECT_NE(after->genctr, before->genctr);
  EXPECT_EQ(after->entries.size(), before->entries.size() + 1);
  EXPECT_NE(find(after->entries, "nqn.2016-06.io.nvmfd:g2"), nullptr);
  (*c)->disconnect();
}

TEST(host_discovery, a_log_larger_than_one_read_comes_in_chunks) {
  test::local_target t;
  const int n = 70;  // 70 entries + header: 72 KiB, more than one 64 KiB read
  for (int i = 0; i < n; ++i) t.add_subsystem("nqn.2016-06.io.nvmfd:many" + std::to_string(i), 512, 8);
  reactor_pool pool(1);
  auto entries = discover(pool, discovery_at(t), {}, false);
  ASSERT_TRUE(entries.ok()) << entries.err().message;
  int found = 0;
  for (int i = 0; i < n; ++i) found += find(*entries, "nqn.2016-06.io.nvmfd:many" + std::to_string(i)) != nullptr;
  EXPECT_EQ(found, n);
}

TEST(host_discovery, every_read_is_consistent_while_subsystems_come_and_go) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:base", 512, 8);
  std::atomic<bool> stop{false};
  std::thread churn([&] {
    for (int i = 0; !stop.load() && i < 200; ++i) {
      std::string nqn = "nqn.2016-06.io.nvmfd:churn" + std::to_string(i % 4);
      if (i / 4 % 2 == 0)
        t.add_subsystem(nqn, 512, 8);
      else
        t.call("nvmf_delete_subsystem", {{"nqn", nqn}});
    }
  });
  reactor_pool pool(1);
  auto c = host_controller::connect(pool, discovery_at(t), {});
  ASSERT_TRUE(c.ok()) << c.err().message;
  int ok = 0, busy = 0;
  for (int i = 0; i < 50; ++i) {
    auto log = read_discovery_log(**c);
    if (!log.ok()) {
      ASSERT_EQ(log.err().code, errc::busy) << log.err().message;
      ++busy;
      continue;
    }
    ++ok;
    EXPECT_EQ(log->numrec, log->entries.size());
    EXPECT_NE(find(log->entries, "nqn.2016-06.io.nvmfd:base"), nullptr);
    for (const auto& e : log->entries) {
      EXPECT_TRUE(validate_nqn(e.subnqn).ok()) << e.subnqn;
      EXPECT_EQ(e.trsvcid, t.port_text());
    }
  }
  stop = true;
  churn.join();
  EXPECT_GT(ok, 0) << busy << " reads gave up";
  (*c)->disconnect();
}

TEST(host_discovery, the_log_lists_only_what_the_host_may_reach) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:closed", 512, 8, false);
  reactor_pool pool(1);
  controller_options opts;
  opts.hostnqn = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-4333-8444-555555555555";
  auto before = discover(pool, discovery_at(t), opts, false);
  ASSERT_TRUE(before.ok()) << before.err().message;
  EXPECT_EQ(find(*before, "nqn.2016-06.io.nvmfd:closed"), nullptr);
  t.call("nvmf_subsystem_add_host", {{"nqn", "nqn.2016-06.io.nvmfd:closed"}, {"host", opts.hostnqn}});
  auto after = discover(pool, discovery_at(t), opts, true);
  ASSERT_TRUE(after.ok()) << after.err().message;
  EXPECT_NE(find(*after, "nqn.2016-06.io.nvmfd:closed"), nullptr);
}

TEST(host_discovery, an_io_subsystem_is_not_a_discovery_controller) {
  test::local_target t;
  t.add_subsystem("nqn.2016-06.io.nvmfd:io", 512, 8);
  reactor_pool pool(1);
  transport_id id = discovery_at(t);
  id.subnqn = "nqn.2016-06.io.nvmfd:io";
  auto r = discover(pool, id, {}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("not a discovery controller"), std::string::npos) << r.err().message;
}

TEST(host_discovery, nothing_listening_is_a_clear_error) {
  reactor_pool pool(1);
  transport_id id;
  id.traddr = "127.0.0.1";
  id.trsvcid = std::to_string(test::free_port());
  auto r = discover(pool, id, {}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.err().message.find("refused"), std::string::npos) << r.err().message;
  EXPECT_NE(r.err().message.find(id.trsvcid), std::string::npos) << r.err().message;
}

}  // namespace
}  // namespace nvmfd
