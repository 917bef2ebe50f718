// The asynchronous connect sequence (controller_connector, issue 14 S4) against our target
// behind a PDU-aware proxy that stands in for a misbehaving controller: CSTS.RDY is polled on
// the reactor's clock (a manual_time here) until it is set or CAP.TO passes; the I/O queues
// open in parallel; a failure at any step is reported as that step and leaves no socket and
// no thread behind; cancel() closes the I/O queue sockets still opening at once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <thread>

#include "free_port.h"
#include "host/controller_connector.h"
#include "host/host_controller.h"
#include "local_target.h"
#include "pdu_proxy.h"
#include "proto/controller_properties.h"
#include "proto/fabrics.h"
#include "proto/identify.h"
#include "reactor/manual_time.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;
using connect_result = result<std::shared_ptr<host_controller>>;

constexpr const char* nqn = "nqn.2016-06.io.nvmfd:connect-seq";

transport_id trid_at(uint16_t port) {
  transport_id id;
  id.traddr = "127.0.0.1";
  id.trsvcid = std::to_string(port);
  id.subnqn = nqn;
  return id;
}

std::size_t entries(const char* dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}
std::size_t open_fds() { return entries("/proc/self/fd"); }
// What the process has open, for a failure message: "fd -> target" per line, sockets with
// their inode (matched against /proc/net/tcp by hand).
std::string fd_list() {
  std::string out;
  for (auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(e.path(), ec);
    out += e.path().filename().string() + " -> " + (ec ? "?" : target.string()) + "\n";
  }
  return out;
}
std::size_t threads() { return entries("/proc/self/task"); }

// Waits (bounded) until the process has `want` fds again: closes on reactors, in the proxy
// and in the target are asynchronous.
std::size_t fds_settled(std::size_t want) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (open_fds() != want && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  return open_fds();
}

bool is_fabrics(const nvme_sqe& s, fabrics_type t) {
  return s.opcode == static_cast<uint8_t>(admin_opcode::fabrics) && s.fctype() == static_cast<uint8_t>(t);
}
bool is_property_get(const nvme_sqe& s, uint32_t offset) {
  return is_fabrics(s, fabrics_type::property_get) && load_wire<property_command>(&s).ofst.get() == offset;
}
bool is_identify_controller(const nvme_sqe& s) {
  return s.opcode == static_cast<uint8_t>(admin_opcode::identify) &&
         (s.cdw10.get() & 0xff) == static_cast<uint32_t>(identify_cns::controller);
}

// A target, the proxy in front of it, and the host's reactors (on the manual clock when
// given one), all made before the fds and threads of the process are counted.
struct fixture {
  test::local_target target;
  std::unique_ptr<test::pdu_proxy> proxy;
  std::unique_ptr<reactor_pool> pool;
  explicit fixture(unsigned reactors = 2, manual_time* clock = nullptr) {
    target.add_subsystem(nqn, 512, 1024);
    proxy = std::make_unique<test::pdu_proxy>(target.port());
    pool = std::make_unique<reactor_pool>(reactors, std::vector<int>{}, poll_settings{}, io_settings{}, clock);
    for (unsigned i = 0; i < reactors; ++i) pool->run_on(i, [] {});  // each loop is up
  }
  std::future<connect_result> connect_async(const controller_options& opts,
                                            std::shared_ptr<controller_connector>* handle = nullptr) {
    auto p = std::make_shared<std::promise<connect_result>>();
    auto k = host_controller::connect_async(*pool, trid_at(proxy->port()), opts, {},
                                            [p](connect_result c) { p->set_value(std::move(c)); });
    if (handle) *handle = k;
    return p->get_future();
  }
};

bool ready(std::future<connect_result>& f) { return f.wait_for(0s) == std::future_status::ready; }

// Moves the clock on by `step` until `until` holds or the connect ends. The host arms its
// next poll only once the last one is answered: a step that comes before that is simply
// followed by another, so each step waits (briefly) for the proxy to see progress.
void advance_until(fixture& f, manual_time& clock, std::future<connect_result>& done, clock_type::duration step,
                   const std::function<bool()>& until) {
  for (int i = 0; i < 100000 && !until() && !ready(done); ++i) {
    clock.advance(step);
    f.proxy->wait_until([&] { return until() || ready(done); }, 5ms);
  }
}

TEST(connect_sequence, csts_rdy_raised_late_is_polled_until_it_is_set) {
  manual_time clock;
  fixture f(1, &clock);
  std::atomic<int> csts_gets{0};
  constexpr int not_ready_answers = 5;
  f.proxy->on_command([&](size_t, const nvme_sqe& s) -> std::optional<test::pdu_proxy::reply> {
    if (!is_property_get(s, property_offset::csts)) return std::nullopt;
    if (++csts_gets <= not_ready_answers) return test::pdu_proxy::reply{};  // CSTS = 0: not ready
    return std::nullopt;  // the target's answer: ready
  });
  auto done = f.connect_async({});
  // The first poll follows CC.EN = 1 at once; every later one waits for the clock.
  ASSERT_TRUE(f.proxy->wait_until([&] { return csts_gets >= 1 || ready(done); }));
  EXPECT_FALSE(ready(done));
  advance_until(f, clock, done, 10ms, [&] { return csts_gets > not_ready_answers; });
  auto c = done.get();
  ASSERT_TRUE(c.ok()) << c.err().message;
  EXPECT_EQ(csts_gets, not_ready_answers + 1);
  EXPECT_FALSE((*c)->io_queues().empty());
  (*c)->disconnect();
}

TEST(connect_sequence, csts_rdy_never_raised_fails_once_cap_to_has_passed) {
  manual_time clock;
  fixture f(1, &clock);
  std::atomic<int> csts_gets{0};
  f.proxy->on_command([&](size_t, const nvme_sqe& s) -> std::optional<test::pdu_proxy::reply> {
    if (!is_property_get(s, property_offset::csts)) return std::nullopt;
    ++csts_gets;
    return test::pdu_proxy::reply{};  // never ready
  });
  auto start = clock.now();
  auto done = f.connect_async({});
  ASSERT_TRUE(f.proxy->wait_until([&] { return csts_gets >= 1 || ready(done); }));
  // It keeps polling while the time is short of CAP.TO (our target: 30, so 15 s)...
  advance_until(f, clock, done, 10ms, [&] { return csts_gets >= 4; });
  EXPECT_FALSE(ready(done));
  // ... and gives up on the first poll after it.
  advance_until(f, clock, done, 1s, [] { return false; });
  auto c = done.get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::timed_out);
  EXPECT_NE(c.err().message.find("CSTS.RDY"), std::string::npos) << c.err().message;
  EXPECT_GE(clock.now() - start, 15s);
}

TEST(connect_sequence, io_queues_open_in_parallel) {
  fixture f(2);
  constexpr size_t io_queues = 4;
  // No I/O queue's ICResp goes out before every I/O queue has sent its ICReq: a host that
  // opened them one after the other would wait for ever (and fail at the connect timeout).
  f.proxy->hold_icresps(1, 1 + io_queues);
  controller_options opts;
  opts.num_io_queues = io_queues;
  auto c = f.connect_async(opts).get();
  ASSERT_TRUE(c.ok()) << c.err().message;
  EXPECT_EQ((*c)->io_queues().size(), io_queues);
  auto log = f.proxy->log();
  auto first_io_icresp = std::find_if(log.begin(), log.end(), [](auto& e) { return e.starts_with("icresp ") && e != "icresp 0"; });
  ASSERT_NE(first_io_icresp, log.end());
  EXPECT_EQ(std::count_if(log.begin(), first_io_icresp, [](auto& e) { return e.starts_with("icreq "); }), 1 + io_queues);
  (*c)->disconnect();
}

struct step_failure {
  const char* step;
  test::pdu_proxy::command_rule rule;  // or
  bool spoil_admin_icresp = false;
  bool refused = false;                // nobody listens
  const char* message;                 // what the error names
};

test::pdu_proxy::reply failed() { return {nvme_status::generic(0x06), 0}; }  // Internal Error

TEST(connect_sequence, a_failure_at_any_step_names_it_and_leaves_no_socket_nor_thread) {
  const step_failure rows[] = {
      {"TCP connect", nullptr, false, true, "connect 127.0.0.1:"},
      {"ICResp", nullptr, true, false, "ICResp"},
      {"admin Connect",
       [](size_t conn, const nvme_sqe& s) -> std::optional<test::pdu_proxy::reply> {
         if (conn == 0 && is_fabrics(s, fabrics_type::connect)) return failed();
         return std::nullopt;
       },
       false, false, "Connect (qid 0) failed"},
      {"Property Get",
       [](size_t, const nvme_sqe& s) -> std::optional<test::pdu_proxy::reply> {
         if (is_property_get(s, property_offset::cap)) return failed();
         return std::nullopt;
       },
       false, false, "Property Get failed"},
      {"Identify",
       [](size_t, const nvme_sqe& s) -> std::optional<test::pdu_proxy::reply> {
         if (is_identify_controller(s)) return failed();
         return std::nullopt;
       },
       false, false, "Identify Controller failed"},
      {"I/O queue Connect",
       [](size_t conn, const nvme_sqe& s) -> std::optional<test::pdu_proxy::reply> {
         if (conn == 2 && is_fabrics(s, fabrics_type::connect)) return failed();
         return std::nullopt;
       },
       false, false, "Connect (qid "},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.step);
    fixture f(2);
    if (row.rule) f.proxy->on_command(row.rule);
    if (row.spoil_admin_icresp) f.proxy->spoil_icresp(0);
    uint16_t port = row.refused ? test::free_port() : f.proxy->port();
    std::size_t fds = open_fds(), thread_count = threads();
    controller_options opts;
    opts.num_io_queues = 2;
    auto c = host_controller::connect(*f.pool, trid_at(port), opts);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.err().message.find(row.message), std::string::npos) << c.err().message;
    EXPECT_EQ(fds_settled(fds), fds) << fd_list();
    EXPECT_EQ(threads(), thread_count);
  }
}

TEST(connect_sequence, cancel_closes_io_queue_sockets_still_opening_at_once) {
  manual_time clock;  // still: the sockets' connect timeout never passes
  fixture f(2, &clock);
  constexpr size_t io_queues = 2;
  f.proxy->hold_icresps(1, 1000);  // no I/O queue's ICResp ever goes out
  std::size_t fds = open_fds();
  controller_options opts;
  opts.num_io_queues = io_queues;
  std::shared_ptr<controller_connector> k;
  auto done = f.connect_async(opts, &k);
  ASSERT_TRUE(k);
  ASSERT_TRUE(f.proxy->wait_until([&] { return f.proxy->log().size() >= 2 + io_queues; }));  // admin ICReq, ICResp
  k->cancel();
  auto c = done.get();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.err().code, errc::closed);
  EXPECT_NE(c.err().message.find("cancelled"), std::string::npos) << c.err().message;
  EXPECT_EQ(fds_settled(fds), fds);
  EXPECT_TRUE(f.proxy->wait_until([&] { return f.proxy->open_connections() == 0; }));
}

}  // namespace
}  // namespace nvmfd
