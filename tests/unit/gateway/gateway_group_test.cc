// gateway_group's decisions against a store in memory that keeps RADOS' lock rules (a lease
// is renewed only by the same holder: same gateway AND same connection; it expires a whole
// lease after its last renewal; blocklisted clients are refused with ESHUTDOWN), on a clock
// the test moves. The RADOS store itself is tested on a real cluster (tests/ceph).
#include <cerrno>
#include <map>
#include <optional>
#include <set>

#include <gtest/gtest.h>

#include "gateway/gateway_group.h"

namespace nvmfd::gateway {
namespace {

using namespace std::chrono_literals;

struct fake_cluster {
  clock::time_point now{std::chrono::seconds(1000)};
  struct lock {
    std::string cookie;
    int client;
    clock::time_point expires;
  };
  std::vector<lock> members;
  std::map<uint32_t, lock> owners;
  std::map<uint32_t, owner_record> records;
  std::map<uint32_t, std::string> requested;
  std::set<std::string> blocklist;
  std::set<int> unreachable;  // clients whose calls time out
  int fences = 0;

  void expire() {
    std::erase_if(members, [&](const lock& l) { return l.expires <= now; });
    std::erase_if(owners, [&](const auto& e) { return e.second.expires <= now; });
  }
};

class fake_store final : public lease_store {
 public:
  fake_store(fake_cluster& c, std::string gw, int client) : c_(c), gw_(std::move(gw)), client_(client) {}

  result<void> join(std::chrono::milliseconds lease) override {
    if (auto e = check()) return *e;
    c_.expire();
    for (auto& l : c_.members)
      if (l.cookie == gw_ && l.client == client_) {
        l.expires = c_.now + lease;
        return success();
      }
    c_.members.push_back({gw_, client_, c_.now + lease});
    return success();
  }
  result<void> leave() override {
    if (auto e = check()) return *e;
    std::erase_if(c_.members, [&](const fake_cluster::lock& l) { return l.cookie == gw_ && l.client == client_; });
    return success();
  }
  result<std::vector<member>> members() override {
    if (auto e = check()) return *e;
    c_.expire();
    std::vector<member> out;
    for (auto& l : c_.members) out.push_back({l.cookie, address_of(l.client)});
    return out;
  }
  result<bool> acquire(uint32_t g, std::chrono::milliseconds lease) override {
    if (auto e = check()) return *e;
    c_.expire();
    auto it = c_.owners.find(g);
    if (it != c_.owners.end() && !(it->second.cookie == gw_ && it->second.client == client_)) return false;
    c_.owners[g] = {gw_, client_, c_.now + lease};
    return true;
  }
  result<bool> renew(uint32_t g, std::chrono::milliseconds lease) override {
    if (auto e = check()) return *e;
    c_.expire();
    auto it = c_.owners.find(g);
    if (it == c_.owners.end() || it->second.cookie != gw_ || it->second.client != client_) return false;
    it->second.expires = c_.now + lease;
    return true;
  }
  result<void> release(uint32_t g) override {
    if (auto e = check()) return *e;
    auto it = c_.owners.find(g);
    if (it != c_.owners.end() && it->second.cookie == gw_ && it->second.client == client_) c_.owners.erase(it);
    return success();
  }
  result<std::string> holder(uint32_t g) override {
    if (auto e = check()) return *e;
    c_.expire();
    auto it = c_.owners.find(g);
    return it == c_.owners.end() ? std::string() : it->second.cookie;
  }
  result<std::optional<owner_record>> read_owner(uint32_t g) override {
    if (auto e = check()) return *e;
    auto it = c_.records.find(g);
    if (it == c_.records.end()) return std::optional<owner_record>();
    return std::optional<owner_record>(it->second);
  }
  result<void> write_owner(uint32_t g, const owner_record& r) override {
    if (auto e = check()) return *e;
    c_.records[g] = r;
    return success();
  }
  result<std::string> requested_owner(uint32_t g) override {
    if (auto e = check()) return *e;
    return c_.requested[g];
  }
  result<void> request_owner(uint32_t g, const std::string& gw) override {
    if (auto e = check()) return *e;
    c_.requested[g] = gw;
    return success();
  }
  result<void> fence(const std::vector<std::string>& addresses) override {
    if (auto e = check()) return *e;
    if (fail_fence) return error{errc::io_error, "blocklist refused"};
    ++c_.fences;
    for (auto& a : addresses) c_.blocklist.insert(a);
    return success();
  }
  std::string own_address() const override { return address_of(client_); }
  static std::string address_of(int client) { return "127.0.0.1:0/" + std::to_string(client); }

  bool fail_fence = false;

 private:
  std::optional<error> check() const {
    if (c_.blocklist.count(own_address())) {
      error e{errc::io_error, "blocklisted"};
      e.sys_errno = ESHUTDOWN;
      return e;
    }
    if (c_.unreachable.count(client_)) return error{errc::timed_out, "timed out"};
    return std::nullopt;
  }
  fake_cluster& c_;
  std::string gw_;
  int client_;
};

class fake_local final : public gateway_local {
 public:
  explicit fake_local(std::string addr) : addr_(std::move(addr)) {}
  void show(uint32_t g, ana_state st) override { shown[g] = st; }
  result<void> take_over(uint32_t g, bool fenced) override {
    taken.push_back(g);
    if (fenced) fenced_takeovers.push_back(g);
    return success();
  }
  std::vector<std::string> client_addresses() override { return {addr_}; }
  std::map<uint32_t, ana_state> shown;
  std::vector<uint32_t> taken;
  std::vector<uint32_t> fenced_takeovers;

 private:
  std::string addr_;
};

// One gateway process: its connection (client id), store, local side and group.
struct gateway_process {
  gateway_process(fake_cluster& c, group_config cfg, int client)
      : store(c, cfg.gateway_id, client),
        local(fake_store::address_of(client)),
        group(std::move(cfg), store, local, [&c] { return c.now; }) {}
  fake_store store;
  fake_local local;
  gateway_group group;
  ana_state shows(uint32_t g) { return *group.state_of(g); }
};

group_config config(std::string gw, bool failback = false) {
  group_config g;
  g.name = "gw";
  g.gateway_id = std::move(gw);
  g.ana_groups = {1, 2};
  g.home = {{1, "a"}, {2, "b"}};
  g.failback = failback;
  g.lease = 4000ms;
  return g;
}

class GatewayGroup : public ::testing::Test {
 protected:
  // Every live gateway runs rounds for `span`, one per lease/4.
  void run(std::initializer_list<gateway_process*> gws, clock::duration span) {
    auto end = c.now + span;
    while (c.now < end) {
      for (auto* g : gws) g->group.tick();
      c.now += 1000ms;
    }
  }
  fake_cluster c;
};

TEST_F(GatewayGroup, EachAnaGroupIsOptimizedOnItsHomeWhenBothStartTogether) {
  gateway_process a(c, config("a"), 1), b(c, config("b"), 2);
  a.group.tick();
  b.group.tick();  // b joined after a's first round: a took both (b was not live yet)
  EXPECT_EQ(a.shows(1), ana_state::optimized);
  EXPECT_EQ(a.shows(2), ana_state::optimized);
  EXPECT_EQ(b.shows(2), ana_state::non_optimized);
  run({&a, &b}, 20s);  // no failback: a keeps group 2
  EXPECT_EQ(a.shows(2), ana_state::optimized);
  EXPECT_EQ(b.shows(2), ana_state::non_optimized);
  EXPECT_EQ(b.shows(1), ana_state::non_optimized);
  EXPECT_EQ(c.fences, 0);
}

TEST_F(GatewayGroup, FailbackHandsAGroupToItsHomeWithoutFencing) {
  gateway_process a(c, config("a", true), 1), b(c, config("b", true), 2);
  a.group.tick();
  run({&a, &b}, 5s);
  EXPECT_EQ(a.shows(1), ana_state::optimized);
  EXPECT_EQ(a.shows(2), ana_state::non_optimized);
  EXPECT_EQ(b.shows(2), ana_state::optimized);
  EXPECT_EQ(b.shows(1), ana_state::non_optimized);
  EXPECT_EQ(c.fences, 0);  // a released it: nothing to fence
  EXPECT_EQ(b.local.taken, (std::vector<uint32_t>{2}));
  EXPECT_TRUE(b.local.fenced_takeovers.empty());  // a is alive: its image locks are not broken
}

TEST_F(GatewayGroup, ADeadOwnersGroupsGoToTheSurvivorAfterTheLeaseAndTheDeadIsFenced) {
  gateway_process a(c, config("a"), 1), b(c, config("b"), 2);
  run({&a, &b}, 3s);
  ASSERT_EQ(a.shows(1), ana_state::optimized);
  // a is killed: no more rounds. b must not take its groups before a's lease has run out.
  auto killed = c.now;
  while (b.shows(1) != ana_state::optimized) {
    b.group.tick();
    if (b.shows(1) == ana_state::optimized) break;
    c.now += 1000ms;
    ASSERT_LT(c.now - killed, 10s);
  }
  EXPECT_GE(c.now - killed, 3s);  // a renewed at most 1 s before it died; the lease is 4 s
  EXPECT_EQ(b.shows(2), ana_state::optimized);
  EXPECT_TRUE(c.blocklist.count(fake_store::address_of(1)));
  EXPECT_EQ(b.local.taken, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(b.local.fenced_takeovers, (std::vector<uint32_t>{1, 2}));
  // a restarted (a new connection, client 3) rejoins as non-optimized and takes nothing back.
  gateway_process a2(c, config("a"), 3);
  run({&a2, &b}, 20s);
  EXPECT_EQ(a2.shows(1), ana_state::non_optimized);
  EXPECT_EQ(a2.shows(2), ana_state::non_optimized);
  EXPECT_EQ(b.shows(1), ana_state::optimized);
}

TEST_F(GatewayGroup, ACutOffOwnerStopsBeingOptimizedBeforeItsLeaseCanPassAndIsFencedWhenItReturns) {
  gateway_process a(c, config("a"), 1), b(c, config("b"), 2);
  run({&a, &b}, 3s);
  ASSERT_EQ(a.shows(1), ana_state::optimized);
  c.unreachable.insert(1);
  auto cut = c.now;
  bool b_took = false;
  while (c.now - cut < 10s) {
    a.group.tick();
    b.group.tick();
    if (b.shows(1) == ana_state::optimized && !b_took) {
      b_took = true;
      EXPECT_EQ(a.shows(1), ana_state::inaccessible) << "both optimized at once";
    }
    if (a.shows(1) == ana_state::optimized) {
      EXPECT_LT(c.now - cut, 2s);
    }
    c.now += 500ms;
  }
  EXPECT_TRUE(b_took);
  c.unreachable.clear();  // a is back, but fenced: it stays inaccessible
  run({&a, &b}, 5s);
  EXPECT_EQ(a.shows(1), ana_state::inaccessible);
  EXPECT_TRUE(a.group.view().fenced);
  EXPECT_EQ(b.shows(1), ana_state::optimized);
}

TEST_F(GatewayGroup, AMoveHandsTheGroupOverOnceAndIsThenForgotten) {
  gateway_process a(c, config("a"), 1), b(c, config("b"), 2);
  run({&a, &b}, 3s);
  ASSERT_EQ(a.shows(1), ana_state::optimized);
  EXPECT_EQ(a.group.move(1, "nobody").err().code, errc::invalid_argument);
  EXPECT_EQ(a.group.move(9, "b").err().code, errc::invalid_argument);
  ASSERT_TRUE(a.group.move(1, "b"));
  run({&a, &b}, 3s);
  EXPECT_EQ(b.shows(1), ana_state::optimized);
  EXPECT_EQ(a.shows(1), ana_state::non_optimized);
  EXPECT_EQ(c.requested[1], "");
  EXPECT_EQ(c.fences, 0);
  run({&a, &b}, 10s);  // no failback: it stays with b
  EXPECT_EQ(b.shows(1), ana_state::optimized);
}

TEST_F(GatewayGroup, NotOptimizedWithoutTheFence) {
  gateway_process a(c, config("a"), 1), b(c, config("b"), 2);
  run({&a, &b}, 3s);
  b.store.fail_fence = true;
  run({&b}, 10s);  // a dead; b cannot fence it
  EXPECT_NE(b.shows(1), ana_state::optimized);
  EXPECT_FALSE(b.group.view().last_error.empty());
  b.store.fail_fence = false;
  run({&b}, 2s);
  EXPECT_EQ(b.shows(1), ana_state::optimized);
}

TEST_F(GatewayGroup, LeaveHandsEverythingOverWithoutFencing) {
  gateway_process a(c, config("a"), 1), b(c, config("b"), 2);
  run({&a, &b}, 3s);
  a.group.leave();
  EXPECT_EQ(a.shows(1), ana_state::inaccessible);
  run({&b}, 2s);
  EXPECT_EQ(b.shows(1), ana_state::optimized);
  EXPECT_EQ(b.shows(2), ana_state::optimized);
  EXPECT_EQ(c.fences, 0);
}

}  // namespace
}  // namespace nvmfd::gateway
