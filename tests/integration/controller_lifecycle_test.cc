// A controller's life over the wire: keep-alive timeout, namespace hot add/remove with
// Asynchronous Event Requests, Disconnect of an I/O queue, and target shutdown under a
// connected host.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>

#include <sys/ioctl.h>
#include <sys/socket.h>

#include "proto/features.h"
#include "proto/identify.h"
#include "proto/log_pages.h"
#include "reactor/manual_time.h"
#include "log_capture.h"
#include "target_test.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

constexpr uint8_t changed_ns_lid = static_cast<uint8_t>(log_page_id::changed_namespace_list);

std::vector<uint32_t> nsid_list(const std::vector<std::byte>& data) {
  std::vector<uint32_t> ids;
  for (size_t at = 0; at + 4 <= data.size(); at += 4) {
    uint32_t id = load_wire<le32>(data.data() + at).get();
    if (id == 0) break;
    ids.push_back(id);
  }
  return ids;
}

class lifecycle_test : public target_test {};

// Keep-alive on the target's manual clock: the test moves the time, so a KATO of 1 s takes no
// second and cannot be missed on a loaded machine.
class kato_test : public target_test {
 protected:
  time_source* time() override { return &clock; }
  manual_time clock;
};

TEST_F(kato_test, silent_discovery_controller_is_closed_after_kato) {
  test_client c;
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), std::string(discovery_nqn), /*kato_ms=*/1000)));
  auto kato = c.get_features(static_cast<uint8_t>(feature_id::keep_alive_timer));
  ASSERT_TRUE(succeeded(kato));
  EXPECT_EQ(kato->dw0(), 1000u) << "a discovery controller keeps the host's KATO";
  clock.advance(900ms);
  // Still there (a Get Log Page is not keep-alive traffic).
  ASSERT_TRUE(succeeded(c.get_log_page(static_cast<uint8_t>(log_page_id::discovery), 0, 1024)))
      << "closed before KATO";
  clock.advance(600ms);
  EXPECT_TRUE(ok(c.wait_closed()));
}

TEST_F(kato_test, keep_alive_commands_keep_the_controller) {
  test_client c;
  ASSERT_TRUE(ok(connect_admin_queue(c, addr(), port(), std::string(discovery_nqn), /*kato_ms=*/1000)));
  for (int i = 0; i < 8; ++i) {
    clock.advance(250ms);
    ASSERT_TRUE(succeeded(c.keep_alive()));
  }
  // Twice KATO since the connect, and still served.
  ASSERT_TRUE(succeeded(c.get_log_page(static_cast<uint8_t>(log_page_id::discovery), 0, 1024)));
}

TEST_F(lifecycle_test, io_controller_kato_is_raised_to_min_kato) {
  auto p = params();
  p.kato_ms = 1000;
  auto h = test_controller::connect(p);
  ASSERT_TRUE(ok(h));
  auto kato = h->admin.get_features(static_cast<uint8_t>(feature_id::keep_alive_timer));
  ASSERT_TRUE(succeeded(kato));
  EXPECT_EQ(kato->dw0(), fx->transport().min_kato);
}

// With min_kato lowered to 1 s, an I/O controller's silent host loses the controller: the
// admin queue and its I/O queues are closed.
class short_kato_test : public kato_test {
 protected:
  tcp_transport_options transport() const override {
    auto o = target_fixture::default_transport();
    o.min_kato = 1000;
    return o;
  }
};

TEST_F(short_kato_test, silent_io_controller_loses_admin_and_io_queues) {
  auto p = params();
  p.kato_ms = 1000;
  auto h = test_controller::connect(p);
  ASSERT_TRUE(ok(h));
  // I/O does not count as keep-alive traffic on the admin queue (no TBKAS).
  EXPECT_TRUE(succeeded(h->io.read(target_fixture::ns_512, 0, 8, 512)));
  clock.advance(1500ms);
  EXPECT_TRUE(ok(h->admin.wait_closed()));
  EXPECT_TRUE(ok(h->io.wait_closed()));
  // The controller is gone: its cntlid no longer accepts I/O queues.
  test_client io;
  ASSERT_TRUE(ok(io.connect(addr(), port())));
  EXPECT_TRUE(has_status(io.fabrics_connect(target_fixture::open_nqn, 1, 127, h->cntlid),
                         nvme_status::specific(sc_command_specific::connect_invalid_parameters)));
}

TEST_F(lifecycle_test, namespace_hot_add_raises_an_event_and_the_changed_list_names_it) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  ASSERT_TRUE(succeeded(h->admin.set_features(static_cast<uint8_t>(feature_id::async_event_configuration),
                                              aec_bits::namespace_attribute)));
  auto aer = h->admin.submit_async_event_request();
  ASSERT_TRUE(ok(aer));

  auto dev = fx->make_ram_bdev("hot", 512, 2048);
  ASSERT_TRUE(ok(dev));
  auto nsid = fx->target().add_namespace(std::string(target_fixture::open_nqn), {.dev = *dev});
  ASSERT_TRUE(ok(nsid));
  EXPECT_EQ(*nsid, nsid_t{3}) << "the lowest free nsid";

  auto ev = h->admin.wait(*aer);
  ASSERT_TRUE(succeeded(ev));
  const auto f = aer_fields::decode(ev->dw0());
  EXPECT_EQ(f.type, static_cast<uint8_t>(aer_type::notice));
  EXPECT_EQ(f.info, static_cast<uint8_t>(aer_notice::namespace_attribute_changed));
  EXPECT_EQ(f.log_page_id, changed_ns_lid);

  auto log = h->admin.get_log_page(changed_ns_lid, 0, 4096);
  ASSERT_TRUE(succeeded(log));
  EXPECT_EQ(nsid_list(log->data), std::vector<uint32_t>{nsid->value});
  auto again = h->admin.get_log_page(changed_ns_lid, 0, 4096);
  ASSERT_TRUE(succeeded(again));
  EXPECT_TRUE(nsid_list(again->data).empty()) << "reading without RAE clears the list";

  auto active = h->admin.identify(static_cast<uint8_t>(identify_cns::active_namespace_list), 0);
  ASSERT_TRUE(succeeded(active));
  EXPECT_EQ(nsid_list(active->data), (std::vector<uint32_t>{1, 2, nsid->value}));
  // The I/O queue connected before the add sees the new namespace.
  auto data = random_bytes(4096, 31);
  EXPECT_TRUE(succeeded(h->io.write(nsid->value, 8, data, 512, write_mode::in_capsule)));
  auto r = h->io.read(nsid->value, 8, 8, 512);
  ASSERT_TRUE(succeeded(r));
  EXPECT_TRUE(r->data == data);
}

// NVMe Base 2.0 5.2: after a Namespace Attribute Changed event, further such events are
// masked until the host reads the Changed Namespace List.
TEST_F(lifecycle_test, namespace_events_are_masked_until_the_changed_list_is_read) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  ASSERT_TRUE(succeeded(h->admin.set_features(static_cast<uint8_t>(feature_id::async_event_configuration),
                                              aec_bits::namespace_attribute)));
  const auto open = std::string(target_fixture::open_nqn);
  auto add = [&](const char* name) -> uint32_t {
    auto dev = fx->make_ram_bdev(name, 512, 1024);
    EXPECT_TRUE(ok(dev));
    auto nsid = fx->target().add_namespace(open, {.dev = *dev});
    EXPECT_TRUE(ok(nsid));
    return nsid ? nsid->value : 0;
  };
  auto aer1 = h->admin.submit_async_event_request();
  ASSERT_TRUE(ok(aer1));
  const uint32_t a = add("hot_a");
  ASSERT_TRUE(succeeded(h->admin.wait(*aer1)));

  auto aer2 = h->admin.submit_async_event_request();
  ASSERT_TRUE(ok(aer2));
  const uint32_t b = add("hot_b");
  settle(fx->target().reactors());  // b's notice has reached the controller (else the log could be read first)
  auto log = h->admin.get_log_page(changed_ns_lid, 0, 4096);
  ASSERT_TRUE(succeeded(log));
  // An event for b would have been sent before the log page (one reactor, one socket).
  EXPECT_FALSE(h->admin.completed(*aer2)) << "masked: no event before the log is read";
  EXPECT_EQ(nsid_list(log->data), (std::vector<uint32_t>{a, b}));

  const uint32_t c = add("hot_c");
  auto ev = h->admin.wait(*aer2);
  ASSERT_TRUE(succeeded(ev)) << "unmasked by reading the log";
  EXPECT_EQ(ev->dw0(), aer_notice_result(aer_notice::namespace_attribute_changed, changed_ns_lid));
  auto log2 = h->admin.get_log_page(changed_ns_lid, 0, 4096);
  ASSERT_TRUE(succeeded(log2));
  EXPECT_EQ(nsid_list(log2->data), std::vector<uint32_t>{c});
}

// Removing a namespace under a full pipeline: every command completes, with data or with
// Invalid Namespace, and the namespace can come back.
TEST_F(lifecycle_test, namespace_removed_under_inflight_io) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto data = random_bytes(64 * 1024, 41);
  ASSERT_TRUE(succeeded(h->io.write(target_fixture::ns_4k, 0, data, 4096, write_mode::r2t)));
  constexpr int depth = 96;
  for (int i = 0; i < depth; ++i) ASSERT_TRUE(ok(h->io.submit_read(target_fixture::ns_4k, 0, 16, 4096)));
  const auto open = std::string(target_fixture::open_nqn);
  ASSERT_TRUE(ok(fx->target().remove_namespace(open, nsid_t{target_fixture::ns_4k})));
  int good = 0, gone = 0;
  for (int i = 0; i < depth; ++i) {
    auto c = h->io.wait_any();
    ASSERT_TRUE(ok(c));
    const auto st = c->second.status();
    if (st.ok()) {
      ++good;
      EXPECT_TRUE(c->second.data == data);
    } else {
      ++gone;
      EXPECT_EQ(st.sc, sc_generic::invalid_namespace_or_format) << describe(st);
    }
  }
  EXPECT_EQ(good + gone, depth);
  ASSERT_TRUE(ok(fx->target().add_namespace(open, {.dev = fx->ns_dev(target_fixture::ns_4k),
                                                    .nsid = nsid_t{target_fixture::ns_4k}})));
  auto r = h->io.read(target_fixture::ns_4k, 0, 16, 4096);
  ASSERT_TRUE(succeeded(r));
  EXPECT_TRUE(r->data == data) << "the same bdev, the same data";
}

TEST_F(lifecycle_test, namespace_removal_raises_an_event_and_fails_later_io) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  ASSERT_TRUE(succeeded(h->admin.set_features(static_cast<uint8_t>(feature_id::async_event_configuration),
                                              aec_bits::namespace_attribute)));
  ASSERT_TRUE(succeeded(h->io.read(target_fixture::ns_4k, 0, 1, 4096)));
  auto aer = h->admin.submit_async_event_request();
  ASSERT_TRUE(ok(aer));
  ASSERT_TRUE(ok(fx->target().remove_namespace(std::string(target_fixture::open_nqn), nsid_t{target_fixture::ns_4k})));
  auto ev = h->admin.wait(*aer);
  ASSERT_TRUE(succeeded(ev));
  EXPECT_EQ(ev->dw0(), aer_notice_result(aer_notice::namespace_attribute_changed, changed_ns_lid));
  auto log = h->admin.get_log_page(changed_ns_lid, 0, 4096);
  ASSERT_TRUE(succeeded(log));
  EXPECT_EQ(nsid_list(log->data), std::vector<uint32_t>{target_fixture::ns_4k});
  EXPECT_TRUE(has_status(h->io.read(target_fixture::ns_4k, 0, 1, 4096),
                         nvme_status::generic(sc_generic::invalid_namespace_or_format)));
}

TEST_F(lifecycle_test, disconnect_on_an_io_queue_answers_then_closes_it) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  EXPECT_TRUE(succeeded(h->io.disconnect()));
  EXPECT_TRUE(ok(h->io.wait_closed()));
  // The controller lives on, and qid 1 may be connected again (allowing for the target
  // to finish closing; see the next test for why that is needed).
  EXPECT_TRUE(succeeded(h->admin.keep_alive()));
  test_client io;
  ASSERT_TRUE(wait_until([&] { return io_queue_1_connects(io, h->cntlid); }))
      << "qid 1 still taken 10 s after its queue closed";
  EXPECT_TRUE(succeeded(io.read(target_fixture::ns_512, 0, 8, 512)));
}

// A queue unregisters from its controller before its socket closes, so a host that has seen
// the connection end after Disconnect finds the qid free (once a bug: the socket closed
// first, and a quick reconnect got Connect Invalid Parameters, QID). The window was small;
// many rounds make it show.
TEST_F(lifecycle_test, qid_is_free_once_the_host_sees_the_disconnected_queue_close) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  // CPU hogs, so that the reactors get preempted inside close() now and then.
  std::atomic<bool> stop{false};
  std::vector<std::thread> hogs;
  for (int i = 0; i < 3; ++i)
    hogs.emplace_back([&stop] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  struct joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~joiner() {
      stop = true;
      for (auto& t : threads) t.join();
    }
  } join_hogs{stop, hogs};
  int refused = 0;
  constexpr int rounds = 600;
  test_client* q = &h->io;
  std::array<test_client, 2> queues;
  for (int i = 0; i < rounds; ++i) {
    ASSERT_TRUE(succeeded(q->disconnect()));
    ASSERT_TRUE(ok(q->wait_closed()));
    q->close();
    test_client& next = queues[i % 2];
    ASSERT_TRUE(ok(next.connect(addr(), port())));
    auto r = next.fabrics_connect(target_fixture::open_nqn, 1, 127, h->cntlid);
    ASSERT_TRUE(ok(r));
    if (!r->status().ok()) {
      ++refused;
      // Let the target finish, then take the queue for the next round.
      ASSERT_TRUE(wait_until([&] { return io_queue_1_connects(next, h->cntlid); }));
    }
    q = &next;
  }
  EXPECT_EQ(refused, 0) << "of " << rounds << " reconnects right after the close was seen";
}

TEST_F(lifecycle_test, target_shutdown_with_connected_hosts_does_not_hang) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  // Leave work behind: an AER, and a write waiting for its data.
  ASSERT_TRUE(ok(h->admin.submit_async_event_request()));
  auto sqe = test_client::make_rw_sqe(io_opcode::write, target_fixture::ns_512, 0, 64);
  test_client::set_sgl_transport(sqe, 32 * 1024);
  auto cid = h->io.submit(sqe);
  ASSERT_TRUE(ok(cid));
  ASSERT_TRUE(ok(h->io.wait_r2t(*cid)));
  test_client d;
  ASSERT_TRUE(ok(connect_admin_queue(d, addr(), port(), std::string(discovery_nqn))));

  log_capture log;
  fx->shutdown();
  EXPECT_EQ(log.find({"shutdown:"}), "") << "shutdown gave up waiting instead of draining";
  EXPECT_TRUE(ok(h->admin.wait_closed()));
  EXPECT_TRUE(ok(h->io.wait_closed()));
  EXPECT_TRUE(ok(d.wait_closed()));
  // Nobody listens any more.
  test_client late;
  EXPECT_FALSE(ok(late.open(addr(), port())));
}

// Replies the host does not read: the target's sends stall on a full socket (with io_uring,
// a SENDMSG stays in flight). Shutdown must still close everything and return promptly, and
// nothing may outlive it (TearDown counts threads and fds; ASan builds check the memory).
TEST_F(lifecycle_test, target_shutdown_with_replies_stuck_on_a_full_socket) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  int small = 16 * 1024;
  setsockopt(h->io.socket().fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  constexpr int reads = 32;  // 8 MiB of replies, far more than the socket buffers hold
  for (int i = 0; i < reads; ++i) ASSERT_TRUE(ok(h->io.submit_read(target_fixture::ns_512, 0, 512, 512)));
  // The replies have started to arrive; the rest cannot fit and stays stuck in the target.
  ASSERT_TRUE(wait_until([&] {
    int queued = 0;
    return ioctl(h->io.socket().fd(), FIONREAD, &queued) == 0 && queued > 0;
  }));
  log_capture log;
  fx->shutdown();
  EXPECT_EQ(log.find({"shutdown:"}), "") << "shutdown gave up waiting instead of draining";
  EXPECT_TRUE(ok(h->io.wait_closed()));
  EXPECT_TRUE(ok(h->admin.wait_closed()));
}

}  // namespace
}  // namespace nvmfd
