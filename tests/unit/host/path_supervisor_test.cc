// path_supervisor's policy on a manual clock, with fake connect and ANA-read seams: the
// reconnect schedule (first attempt at once, then every reconnect_delay_sec, giving up at
// ctrlr_loss_timeout_sec), failover rotation and remove_transport, the ANATT timer, events
// of a replaced connection, namespace change events, and stop while an attempt is under way.
#include "host/path_supervisor.h"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <vector>

#include "reactor/manual_time.h"
#include "reactor/reactor.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

transport_id at(const std::string& addr) {
  transport_id t;
  t.trtype = "tcp";
  t.adrfam = "ipv4";
  t.traddr = addr;
  t.trsvcid = "4420";
  t.subnqn = "nqn.2016-06.io.nvmfd:sup";
  return t;
}

struct attempt {
  transport_id trid;
  host_controller::event_handlers handlers;
  completion<std::shared_ptr<host_controller>> done;
  time_source::time_point when;
  int cancels = 0;
};

struct path_supervisor_test : ::testing::Test {
  manual_time time;
  reactor_pool pool{1, {}, {}, {}, &time};
  reactor& home = pool.control();
  time_source::time_point t0 = time.now();
  // Filled on the reactor; read by the test after flush().
  std::vector<std::shared_ptr<attempt>> attempts;
  std::vector<completion<ana_log_snapshot>> ana_reads;
  std::vector<completion<std::vector<namespace_change>>> ns_reads;
  int changes = 0;
  std::shared_ptr<path_supervisor> sup;

  nvme_attach_request request(const reconnect_policy& pol) {
    nvme_attach_request req;
    req.name = "Nvme0";
    req.trid = at("10.0.0.1");
    req.reconnect = pol;
    return req;
  }

  path_supervisor_seams seams() {
    path_supervisor_seams s;
    s.connect = [this](const transport_id& trid, const controller_options&, host_controller::event_handlers h,
                       completion<std::shared_ptr<host_controller>> done) -> std::function<void()> {
      auto a = std::make_shared<attempt>();
      a->trid = trid;
      a->handlers = std::move(h);
      a->done = std::move(done);
      a->when = time.now();
      attempts.push_back(a);
      return [a] { ++a->cancels; };
    };
    s.read_ana = [this](std::shared_ptr<host_controller>, completion<ana_log_snapshot> done) {
      ana_reads.push_back(std::move(done));
    };
    s.read_namespace_changes = [this](std::shared_ptr<host_controller>, completion<std::vector<namespace_change>> done) {
      ns_reads.push_back(std::move(done));
    };
    return s;
  }

  // Every post chain started so far has run.
  void flush() {
    for (int i = 0; i < 4; ++i) pool.run_on(0, [] {});
  }
  // Moves the clock by d and waits until every timer due by then has run.
  void advance(clock_type::duration d) {
    auto p = std::make_shared<std::promise<void>>();
    pool.run_on(0, [&, p] { home.schedule(d, [p] { p->set_value(); }); });
    time.advance(d);
    p->get_future().get();
    flush();
  }

  std::shared_ptr<host_controller> controller(const transport_id& t, bool ana = false, uint8_t anatt = 5) {
    identify_controller id{};
    if (ana) id.cmic = cmic_bits::ana_reporting;
    id.anatt = anatt;
    id.nanagrpid = 1;
    return host_controller::unconnected_for_test(pool, t, id);
  }
  void complete(size_t i, result<std::shared_ptr<host_controller>> r) {
    pool.run_on(0, [this, i, r] { attempts.at(i)->done(r); });
    flush();
  }
  void read_ana_answers(ana_state st) {
    pool.run_on(0, [&] {
      ASSERT_FALSE(ana_reads.empty());
      auto done = std::move(ana_reads.front());
      ana_reads.erase(ana_reads.begin());
      ana_log_snapshot s;
      s.groups[1] = st;
      done(std::move(s));
    });
    flush();
  }

  void start(const reconnect_policy& pol, bool ana = false, std::vector<transport_id> alternates = {}) {
    sup = std::make_shared<path_supervisor>(home, request(pol), seams(), [this] { ++changes; });
    for (auto& t : alternates) sup->add_alternate(t);
    auto started = std::make_shared<std::promise<result<void>>>();
    sup->start([started](result<void> r) { started->set_value(std::move(r)); });
    flush();
    ASSERT_EQ(attempts.size(), 1u);
    complete(0, controller(attempts[0]->trid, ana));
    if (ana) read_ana_answers(ana_state::optimized);
    auto r = started->get_future().get();
    ASSERT_TRUE(r.ok()) << r.err().message;
  }
  // Stops, answering an attempt under way the way a cancelled connect does.
  void stop() {
    auto stopped = std::make_shared<std::promise<void>>();
    sup->stop([stopped](result<void>) { stopped->set_value(); });
    flush();
    pool.run_on(0, [this] {
      for (auto& a : attempts)
        if (a->done) a->done(error{errc::closed, "cancelled"});
    });
    stopped->get_future().get();
  }
  void TearDown() override {
    if (sup) stop();
    flush();
  }
  std::vector<double> attempt_seconds() const {
    std::vector<double> out;
    for (auto& a : attempts) out.push_back(std::chrono::duration<double>(a->when - t0).count());
    return out;
  }
  std::vector<std::string> attempt_addresses(size_t from) const {
    std::vector<std::string> out;
    for (size_t i = from; i < attempts.size(); ++i) out.push_back(attempts[i]->trid.traddr);
    return out;
  }
};

TEST_F(path_supervisor_test, reconnects_at_once_then_every_delay_and_gives_up_at_the_loss_timeout) {
  start({.ctrlr_loss_timeout_sec = 10, .reconnect_delay_sec = 2});
  attempts[0]->handlers.on_failure("link cut");
  flush();
  ASSERT_EQ(attempts.size(), 2u) << "the first attempt is immediate";
  EXPECT_EQ(sup->get_status().state, path_state::resetting);
  EXPECT_FALSE(sup->get_status().ctrl);
  EXPECT_EQ(sup->take_retired().size(), 1u) << "the failed controller is retired";
  size_t answered = 1;  // attempt 0 was the first connection
  for (int second = 0; second <= 10; ++second) {
    for (; answered < attempts.size(); ++answered) {
      complete(answered, error{errc::closed, "refused"});
      EXPECT_EQ(sup->get_status().state, path_state::reconnect_is_delayed);
    }
    advance(1s);
  }
  EXPECT_EQ(attempt_seconds(), (std::vector<double>{0, 0, 2, 4, 6, 8}));
  auto st = sup->get_status();
  EXPECT_EQ(st.state, path_state::failed) << "10 s after the loss";
  EXPECT_NE(st.last_error.find("refused"), std::string::npos) << st.last_error;
  advance(60s);
  EXPECT_EQ(attempts.size(), 6u) << "no attempt after giving up";
}

TEST_F(path_supervisor_test, no_reconnect_when_the_loss_timeout_is_zero) {
  start({.ctrlr_loss_timeout_sec = 0, .reconnect_delay_sec = 1});
  attempts[0]->handlers.on_failure("link cut");
  flush();
  EXPECT_EQ(attempts.size(), 1u);
  EXPECT_EQ(sup->get_status().state, path_state::failed);
}

TEST_F(path_supervisor_test, failover_rotates_through_the_transport_ids) {
  start({.ctrlr_loss_timeout_sec = -1, .reconnect_delay_sec = 1}, false, {at("10.0.0.2"), at("10.0.0.3")});
  attempts[0]->handlers.on_failure("link cut");
  flush();
  for (int k = 0; k < 3; ++k) {
    complete(attempts.size() - 1, error{errc::closed, "refused"});
    advance(1s);
  }
  EXPECT_EQ(attempt_addresses(1), (std::vector<std::string>{"10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.2"}));
  complete(attempts.size() - 1, controller(attempts.back()->trid));
  auto st = sup->get_status();
  EXPECT_EQ(st.state, path_state::enabled);
  EXPECT_EQ(st.trid.traddr, "10.0.0.2");
}

TEST_F(path_supervisor_test, remove_transport_of_the_one_in_use_skips_the_rotation_once) {
  start({.ctrlr_loss_timeout_sec = -1, .reconnect_delay_sec = 1}, false, {at("10.0.0.2"), at("10.0.0.3")});
  EXPECT_TRUE(sup->remove_transport(at("10.0.0.1")));
  flush();
  ASSERT_EQ(attempts.size(), 2u);
  complete(1, error{errc::closed, "refused"});
  advance(1s);
  EXPECT_EQ(attempt_addresses(1), (std::vector<std::string>{"10.0.0.2", "10.0.0.3"}));
  EXPECT_FALSE(sup->remove_transport(at("10.0.0.9")));
}

TEST_F(path_supervisor_test, anatt_rereads_then_resets_a_group_still_changing) {
  start({.ctrlr_loss_timeout_sec = -1, .reconnect_delay_sec = 1}, true);
  sup->request_ana_refresh();
  flush();
  EXPECT_TRUE(sup->ana_pending());
  read_ana_answers(ana_state::change);
  EXPECT_FALSE(sup->ana_pending());
  EXPECT_EQ(sup->get_status().ana.at(1), ana_state::change);
  advance(4s);
  EXPECT_TRUE(ana_reads.empty()) << "ANATT (5 s) has not passed";
  advance(1s);
  ASSERT_EQ(ana_reads.size(), 1u) << "read once more at ANATT";
  EXPECT_EQ(attempts.size(), 1u);
  read_ana_answers(ana_state::change);
  ASSERT_EQ(attempts.size(), 2u) << "still changing: the connection is reset";
  EXPECT_NE(sup->get_status().last_error.find("ANATT"), std::string::npos);
}

TEST_F(path_supervisor_test, anatt_timer_is_disarmed_when_the_change_ends) {
  start({.ctrlr_loss_timeout_sec = -1, .reconnect_delay_sec = 1}, true);
  sup->request_ana_refresh();
  flush();
  read_ana_answers(ana_state::change);
  advance(2s);
  sup->request_ana_refresh();
  flush();
  read_ana_answers(ana_state::optimized);
  advance(60s);
  EXPECT_TRUE(ana_reads.empty()) << "no ANATT re-read once no group is changing";
  EXPECT_EQ(attempts.size(), 1u);
  EXPECT_EQ(sup->get_status().state, path_state::enabled);
}

TEST_F(path_supervisor_test, events_of_a_replaced_connection_are_ignored) {
  start({.ctrlr_loss_timeout_sec = -1, .reconnect_delay_sec = 1});
  auto first = attempts[0]->handlers;
  first.on_failure("link cut");
  flush();
  ASSERT_EQ(attempts.size(), 2u);
  complete(1, controller(attempts[1]->trid));
  EXPECT_EQ(sup->get_status().state, path_state::enabled);
  first.on_failure("late news of the first connection");
  first.on_event(0);
  flush();
  EXPECT_EQ(attempts.size(), 2u);
  EXPECT_EQ(sup->get_status().state, path_state::enabled);
  attempts[1]->handlers.on_failure("cut again");
  flush();
  EXPECT_EQ(attempts.size(), 3u) << "the current connection's failure still counts";
}

// A namespace as the change reader reports an active one.
remote_namespace active(uint32_t nsid, uint64_t blocks) {
  remote_namespace ns;
  ns.nsid = nsid_t{nsid};
  ns.num_blocks = blocks;
  ns.block_size = 512;
  return ns;
}

// Asynchronous Event dword 0 of a Namespace Attribute Changed notice (type 2, info 0, log 04h).
constexpr uint32_t namespace_attribute_changed_event = 0x00040002;

TEST_F(path_supervisor_test, namespace_events_read_the_changes_once_at_a_time_and_record_sizes) {
  start({.ctrlr_loss_timeout_sec = -1, .reconnect_delay_sec = 1});
  int changes_before = changes;
  auto& h = attempts[0]->handlers;
  h.on_event(namespace_attribute_changed_event);
  h.on_event(namespace_attribute_changed_event);  // while the first read is under way
  flush();
  ASSERT_EQ(ns_reads.size(), 1u) << "one read at a time";
  pool.run_on(0, [&] {
    auto done = std::move(ns_reads.front());
    ns_reads.clear();
    done(std::vector<namespace_change>{{nsid_t{1}, active(1, 100)}, {nsid_t{2}, std::nullopt}});
  });
  flush();
  auto st = sup->get_status();
  ASSERT_EQ(st.sizes.count(1), 1u);
  EXPECT_EQ(st.sizes[1].num_blocks, 100u);
  EXPECT_EQ(st.sizes.count(2), 0u) << "an inactive namespace has no size";
  ASSERT_EQ(st.identified.count(1), 1u) << "the owner gets the namespace as identified";
  EXPECT_EQ(st.identified[1]->num_blocks, 100u);
  EXPECT_GT(changes, changes_before) << "the owner is told";
  ASSERT_EQ(ns_reads.size(), 1u) << "the event that came during the read is read once more";
  uint64_t stamp = st.sizes[1].stamp;
  pool.run_on(0, [&] {
    auto done = std::move(ns_reads.front());
    ns_reads.clear();
    done(std::vector<namespace_change>{{nsid_t{1}, active(1, 200)}});
  });
  flush();
  st = sup->get_status();
  EXPECT_EQ(st.sizes[1].num_blocks, 200u);
  EXPECT_GT(st.sizes[1].stamp, stamp) << "later news, larger stamp";
  // A failed read changes nothing and ends the round; an ANA event does not read namespaces.
  pool.run_on(0, [&] { h.on_event(namespace_attribute_changed_event); });
  flush();
  ASSERT_EQ(ns_reads.size(), 1u);
  pool.run_on(0, [&] {
    auto done = std::move(ns_reads.front());
    ns_reads.clear();
    done(error{errc::io_error, "Get Log Page failed"});
  });
  flush();
  EXPECT_EQ(sup->get_status().sizes[1].num_blocks, 200u);
  h.on_event(0x000c0302);  // ANA change (info 3, log 0Ch): without ANA reporting, nothing to read
  flush();
  EXPECT_TRUE(ns_reads.empty());
}

TEST_F(path_supervisor_test, stop_during_an_attempt_cancels_it_and_disconnects_a_late_controller) {
  start({.ctrlr_loss_timeout_sec = -1, .reconnect_delay_sec = 1});
  attempts[0]->handlers.on_failure("link cut");
  flush();
  ASSERT_EQ(attempts.size(), 2u);
  auto stopped = std::make_shared<std::promise<void>>();
  auto fut = stopped->get_future();
  sup->stop([stopped](result<void>) { stopped->set_value(); });
  flush();
  EXPECT_EQ(attempts[1]->cancels, 1);
  EXPECT_EQ(fut.wait_for(0s), std::future_status::timeout) << "stop waits for the attempt to end";
  auto late = controller(attempts[1]->trid);
  complete(1, late);
  fut.get();
  EXPECT_TRUE(late->disconnected());
  EXPECT_EQ(sup->get_status().state, path_state::deleting);
  EXPECT_FALSE(sup->get_status().ctrl);
  sup.reset();
}

}  // namespace
}  // namespace nvmfd
