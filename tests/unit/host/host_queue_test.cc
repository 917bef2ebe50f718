// host_queue's transport-neutral part (slots, CIDs, waiters, failure, timeouts) through a
// fake transport that records what it is asked to send and answers when told.
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "host/host_queue.h"

namespace nvmfd {
namespace {

class fake_queue final : public host_queue, public deferred_task {
 public:
  fake_queue(reactor& r, uint16_t size, uint32_t io_timeout_ms) : host_queue(r, qid_t{1}, size, io_timeout_ms) {}

  void start() override {}
  // The controller's answer to the command with this CID; false if it is not waiting.
  bool answer(uint16_t cid, nvme_status st = {}) {
    host_request* r = find_by_cid(cid);
    if (!r) {
      ++stale_completions_;
      return false;
    }
    complete(*r, {st, 7, 0});
    return true;
  }

  std::vector<uint16_t> sent;
  int closes = 0;

 private:
  void send(host_request& req) override {
    if (failed()) {
      reactor_.defer(*this);
      return;
    }
    sent.push_back(req.cmd.cid.get());
  }
  void close_transport() override { ++closes; }
  void run_deferred() override { complete_unfinished(); }
};

struct recorder final : host_callback, slot_waiter_callback {
  std::vector<nvme_completion> done;
  std::vector<slot_waiter*> woken;
  bool inside_submit = false;
  bool completed_inside_submit = false;
  void on_host_complete(host_request&, const nvme_completion& c) override {
    if (inside_submit) completed_inside_submit = true;
    done.push_back(c);
  }
  void on_slot_free(host_queue&, slot_waiter& w) override { woken.push_back(&w); }
};

struct host_queue_fixture : ::testing::Test {
  reactor_pool pool{1};
  std::shared_ptr<fake_queue> q;
  recorder rec;

  void make(uint16_t size, uint32_t timeout_ms = 0) {
    pool.run_on(0, [&] { q = std::make_shared<fake_queue>(pool.at(0), size, timeout_ms); });
  }
  // On the reactor: alloc and submit a command (false when no slot is free).
  bool submit(uint32_t timeout_ms = 0) {
    host_request* r = q->alloc();
    if (!r) return false;
    r->cb = &rec;
    r->timeout_ms = timeout_ms;
    rec.inside_submit = true;
    q->submit(*r);
    rec.inside_submit = false;
    return true;
  }
  void on_reactor(const std::function<void()>& fn) { pool.run_on(0, fn); }
  void TearDown() override {
    on_reactor([&] {
      if (q) q->fail("test over", true);
      q.reset();
    });
  }
};

TEST_F(host_queue_fixture, a_cid_names_the_slot_and_its_generation) {
  make(4);
  on_reactor([&] {
    ASSERT_TRUE(submit());
    uint16_t first = q->sent.at(0);
    EXPECT_EQ(q->outstanding(), 1u);
    EXPECT_TRUE(q->answer(first));
    EXPECT_EQ(q->outstanding(), 0u);
    // The slot comes back with a new generation: its old CID is stale.
    ASSERT_TRUE(submit());
    uint16_t second = q->sent.at(1);
    EXPECT_NE(first, second);
    EXPECT_EQ(first & 3, second & 3);
    EXPECT_FALSE(q->answer(first));
    EXPECT_EQ(q->stale_completions(), 1u);
    EXPECT_TRUE(q->answer(second));
    EXPECT_EQ(rec.done.size(), 2u);
    EXPECT_EQ(rec.done[0].dw0, 7u);
  });
}

TEST_F(host_queue_fixture, waiters_get_freed_slots_in_order) {
  make(2);
  slot_waiter a{nullptr, &rec}, b{nullptr, &rec};
  on_reactor([&] {
    ASSERT_TRUE(submit());
    ASSERT_TRUE(submit());
    EXPECT_EQ(q->alloc(), nullptr);
    q->wait_for_slot(a);
    q->wait_for_slot(b);
    EXPECT_TRUE(q->has_waiters());
    // A waiter that does not take the slot leaves it to the next one.
    q->answer(q->sent.at(0));
    ASSERT_EQ(rec.woken.size(), 2u);
    EXPECT_EQ(rec.woken[0], &a);
    EXPECT_EQ(rec.woken[1], &b);
    EXPECT_FALSE(q->has_waiters());
  });
}

TEST_F(host_queue_fixture, failure_completes_everything_once_and_tells_waiters) {
  make(1);
  slot_waiter w{nullptr, &rec};
  std::vector<std::string> reasons;
  on_reactor([&] {
    q->set_failure_handler([&](const std::string& why) { reasons.push_back(why); });
    ASSERT_TRUE(submit());
    q->wait_for_slot(w);
    q->fail("link down");
    q->fail("again");
    EXPECT_TRUE(q->failed());
    EXPECT_EQ(q->failure_reason(), "link down");
    EXPECT_EQ(q->closes, 1);
    ASSERT_EQ(rec.done.size(), 1u);
    EXPECT_EQ(rec.done[0].status, nvme_status::path(sc_host::host_path_error));
    ASSERT_EQ(rec.woken.size(), 1u);
    EXPECT_EQ(q->alloc(), nullptr);
    EXPECT_EQ(reasons, std::vector<std::string>{"link down"});
    EXPECT_EQ(q->outstanding(), 0u);
  });
}

TEST_F(host_queue_fixture, a_command_submitted_after_the_failure_completes_from_the_loop) {
  make(2);
  on_reactor([&] {
    host_request* r = q->alloc();
    ASSERT_NE(r, nullptr);
    // The failure completes the allocated slot too (no callback yet): a failure between
    // alloc() and submit() is the caller's own doing.
    q->fail("gone", true);
    r->cb = &rec;
    rec.inside_submit = true;
    q->submit(*r);
    rec.inside_submit = false;
    EXPECT_TRUE(rec.done.empty());
  });
  on_reactor([&] {
    ASSERT_EQ(rec.done.size(), 1u);
    EXPECT_FALSE(rec.completed_inside_submit);
    EXPECT_EQ(rec.done[0].status, nvme_status::path(sc_host::host_path_error));
  });
}

TEST_F(host_queue_fixture, a_command_past_its_timeout_fails_the_queue_with_host_aborted) {
  make(2, 100);
  std::promise<void> failed;
  on_reactor([&] {
    q->set_failure_handler([&](const std::string&) { failed.set_value(); });
    ASSERT_TRUE(submit());
    ASSERT_TRUE(submit(host_request::no_timeout));
  });
  ASSERT_EQ(failed.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  on_reactor([&] {
    EXPECT_NE(q->failure_reason().find("timed out after 100 ms"), std::string::npos) << q->failure_reason();
    ASSERT_EQ(rec.done.size(), 2u);
    // The one that timed out is aborted; the one without a limit lost its path.
    int aborted = 0, path = 0;
    for (auto& c : rec.done) {
      if (c.status == nvme_status::path(sc_host::host_aborted)) ++aborted;
      if (c.status == nvme_status::path(sc_host::host_path_error)) ++path;
    }
    EXPECT_EQ(aborted, 1);
    EXPECT_EQ(path, 1);
  });
}

}  // namespace
}  // namespace nvmfd
