// mdns_publisher and mdns_browser against a real avahi-daemon. Run by avahi_netns.sh, which
// provides the daemon in a private network namespace with veth-a 10.78.0.1 and veth-b
// 10.78.0.2; the Unavailable tests run where it started no daemon (--no-avahi, --no-dbus).
#include <gtest/gtest.h>
#include <net/if.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <filesystem>
#include <thread>
#include <vector>

#include "mdns/mdns_browser.h"
#include "mdns/mdns_publisher.h"
#include "reactor/loop_thread.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

bool avahi_expected() {
  const char* v = std::getenv("AVAHI_NETNS_WITH_AVAHI");
  return v && std::string(v) == "1";
}

// Script of the namespace helper, for taking the daemon away and back.
int avahi_netns(const char* what) {
  std::string cmd = std::string("bash ") + NVMFD_AVAHI_NETNS_SH + " " + what;
  return std::system(cmd.c_str());
}

// What the browser reported, in order; waited on by the test thread.
class browse_log {
 public:
  mdns_browser::callbacks callbacks() {
    return {[this](const mdns_discovered_service& s) { add(true, s); },
            [this](const mdns_discovered_service& s) { add(false, s); }};
  }

  struct event {
    bool found;
    mdns_discovered_service svc;
  };

  // Waits until pred holds for some event; returns it (or nothing after the timeout).
  std::optional<event> wait(const std::function<bool(const event&)>& pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lk(mu_);
    std::optional<event> hit;
    cv_.wait_for(lk, timeout, [&] {
      for (auto& e : events_)
        if (pred(e)) {
          hit = e;
          return true;
        }
      return false;
    });
    return hit;
  }

  size_t count(const std::function<bool(const event&)>& pred) {
    std::lock_guard lk(mu_);
    size_t n = 0;
    for (auto& e : events_) n += pred(e);
    return n;
  }

  void clear() {
    std::lock_guard lk(mu_);
    events_.clear();
  }

 private:
  void add(bool found, const mdns_discovered_service& s) {
    std::lock_guard lk(mu_);
    events_.push_back({found, s});
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<event> events_;
};

auto found_at(const std::string& name_part, int iface = -1) {
  return [=](const browse_log::event& e) {
    return e.found && e.svc.name.find(name_part) != std::string::npos && (iface < 0 || e.svc.interface == iface);
  };
}

auto removed_at(const std::string& name_part) {
  return [=](const browse_log::event& e) { return !e.found && e.svc.name.find(name_part) != std::string::npos; };
}

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  std::string h(buf);
  return h.substr(0, h.find('.'));
}

// Polls pred for up to 5 s (for state the publisher learns on its own thread).
bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 50; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

int iface(const char* name) { return static_cast<int>(if_nametoindex(name)); }

// The threads of this process, by /proc/self/task.
size_t thread_count() {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

class MdnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!avahi_expected()) GTEST_SKIP() << "needs the avahi-daemon of avahi_netns.sh";
    auto b = mdns_browser::start(loop_.loop(), log_.callbacks());
    ASSERT_TRUE(b) << b.err().message;
    browser_ = std::move(b.value());
  }

  std::unique_ptr<mdns_publisher> publisher(const std::string& prefix) {
    auto p = mdns_publisher::start(loop_.loop(), prefix);
    EXPECT_TRUE(p) << p.err().message;
    return p ? std::move(p.value()) : nullptr;
  }

  loop_thread loop_{"rpc"};  // the RPC thread's loop in nvmfd: Avahi runs on it
  browse_log log_;
  std::unique_ptr<mdns_browser> browser_;
};

// Avahi runs on the loop: neither the browser nor a publisher adds a thread (the process is
// the test's main thread and the loop's).
TEST_F(MdnsTest, BrowserAndPublisherAddNoThread) {
  EXPECT_EQ(thread_count(), 2u);
  auto pub = publisher("nvmfd-e");
  ASSERT_TRUE(pub);
  pub->publish({{"10.78.0.1", 8010}});
  ASSERT_TRUE(log_.wait(found_at("10.78.0.1:8010")));
  EXPECT_EQ(thread_count(), 2u);
}

TEST_F(MdnsTest, BrowserSeesAListenerPublishedOnItsInterfaceThenWithdrawn) {
  auto pub = publisher("nvmfd-a");
  ASSERT_TRUE(pub);
  pub->publish({{"10.78.0.1", 8009}});

  auto e = log_.wait(found_at("10.78.0.1:8009"));
  ASSERT_TRUE(e) << "the service never appeared";
  EXPECT_EQ(e->svc.type, "_nvme-disc._tcp");
  EXPECT_EQ(e->svc.port, 8009);
  EXPECT_EQ(e->svc.transport, "tcp");
  EXPECT_EQ(e->svc.nqn, "nqn.2014-08.org.nvmexpress.discovery");
  EXPECT_EQ(e->svc.adrfam, "IPv4");
  EXPECT_EQ(e->svc.traddr, "10.78.0.1");
  EXPECT_EQ(e->svc.interface, iface("veth-a"));
  EXPECT_TRUE(e->svc.local);
  // Only on the listener's interface.
  EXPECT_FALSE(log_.wait(found_at("10.78.0.1:8009", iface("veth-b")), 1500ms));

  pub->publish({});
  EXPECT_TRUE(log_.wait(removed_at("10.78.0.1:8009"))) << "withdrawal not seen";
}

TEST_F(MdnsTest, WildcardListenerIsPublishedOnEveryInterface) {
  auto pub = publisher("nvmfd-b");
  ASSERT_TRUE(pub);
  pub->publish({{"0.0.0.0", 4420}});
  auto a = log_.wait(found_at("0.0.0.0:4420", iface("veth-a")));
  auto b = log_.wait(found_at("0.0.0.0:4420", iface("veth-b")));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->svc.traddr, "10.78.0.1");
  EXPECT_EQ(b->svc.traddr, "10.78.0.2");
  pub.reset();  // the destructor withdraws
  EXPECT_TRUE(log_.wait(removed_at("0.0.0.0:4420")));
}

TEST_F(MdnsTest, ATakenNameIsReplacedByAnAlternative) {
  // Another publisher holds our name with other records (another port): a real conflict.
  // (Two identical registrations do not conflict in mDNS.)
  std::string name = "nvmfd-c " + host_name() + " 10.78.0.2:8009";
  const char* argv[] = {"avahi-publish", "-s", name.c_str(), "_nvme-disc._tcp", "9999", nullptr};
  pid_t other = 0;
  ASSERT_EQ(posix_spawnp(&other, "avahi-publish", nullptr, nullptr, const_cast<char* const*>(argv), environ), 0);
  auto theirs = log_.wait([&](const browse_log::event& e) { return e.found && e.svc.port == 9999; });
  ASSERT_TRUE(theirs) << "avahi-publish's service not seen";
  EXPECT_EQ(theirs->svc.name, name);

  auto pub = publisher("nvmfd-c");
  ASSERT_TRUE(pub);
  pub->publish({{"10.78.0.2", 8009}});
  auto ours = log_.wait([&](const browse_log::event& e) { return e.found && e.svc.port == 8009; });
  kill(other, SIGTERM);
  waitpid(other, nullptr, 0);
  ASSERT_TRUE(ours) << "our service never appeared";
  EXPECT_EQ(ours->svc.name, name + " #2");
  // Browsers may see the records before Avahi tells the publisher they are established.
  EXPECT_TRUE(eventually([&] { return !pub->established().empty(); }));
  EXPECT_EQ(pub->established(), std::vector<std::string>{name + " #2"});
}

TEST_F(MdnsTest, PublisherAndBrowserSurviveADaemonRestart) {
  auto pub = publisher("nvmfd-d");
  ASSERT_TRUE(pub);
  pub->publish({{"10.78.0.1", 4421}});
  ASSERT_TRUE(log_.wait(found_at("10.78.0.1:4421")));

  ASSERT_EQ(avahi_netns("--stop-avahi"), 0);
  EXPECT_TRUE(log_.wait(removed_at("10.78.0.1:4421"))) << "the browser kept a service of a vanished daemon";
  EXPECT_TRUE(eventually([&] { return pub->established().empty(); }));
  log_.clear();
  ASSERT_EQ(avahi_netns("--start-avahi"), 0);
  auto again = log_.wait(found_at("10.78.0.1:4421"), 15s);
  ASSERT_TRUE(again) << "not published again after the daemon came back";
  EXPECT_EQ(again->svc.port, 4421);
}

// Run by avahi_netns.sh --no-avahi (a bus, no avahi-daemon) and --no-dbus (no bus either).
TEST(MdnsUnavailable, StartFailsAtOnceWithAClearError) {
  if (avahi_expected()) GTEST_SKIP() << "an avahi-daemon is running";
  auto t0 = std::chrono::steady_clock::now();
  loop_thread loop("rpc");
  auto pub = mdns_publisher::start(loop.loop());
  ASSERT_FALSE(pub);
  EXPECT_EQ(pub.err().message.rfind("mDNS unavailable: ", 0), 0u) << pub.err().message;
  auto browser = mdns_browser::start(loop.loop(), {});
  ASSERT_FALSE(browser);
  EXPECT_EQ(browser.err().message.rfind("mDNS unavailable: ", 0), 0u) << browser.err().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  std::printf("publisher: %s\nbrowser: %s\n", pub.err().message.c_str(), browser.err().message.c_str());
}

}  // namespace
}  // namespace nvmfd
