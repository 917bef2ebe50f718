// The target's side of the transport seam (target_transport, nvmf_target's connection
// registry): transports by name, listeners made through them, discovery entries described
// by them, and queues the target owns and closes, with a recording transport and fake
// queues (no sockets).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "handler_harness.h"
#include "proto/discovery_log.h"
#include "proto/log_pages.h"
#include "target/target_transport.h"

namespace nvmfd {
namespace {

using namespace want;

// A transport that records what the target asks of it.
class recording_transport final : public target_transport {
 public:
  struct record {
    std::vector<std::string> listened;  // "TRTYPE traddr:trsvcid"
    int listeners_alive = 0;
  };
  static constexpr uint8_t tsas_mark = 0x5a;
  static constexpr uint32_t aq_depth = 64;

  explicit recording_transport(record& rec) : rec_(rec) {}
  std::string_view name() const override { return "RDMA"; }
  queue_limits limits() const override {
    queue_limits l;
    l.max_aq_depth = aq_depth;
    return l;
  }
  void describe(discovery_log_entry& e, const listen_address&) const override {
    e.trtype = static_cast<uint8_t>(transport_type::rdma);
    e.tsas[0] = tsas_mark;
  }
  result<std::unique_ptr<transport_listener>> listen(const listen_address& a) override {
    rec_.listened.push_back(a.trtype + " " + a.traddr + ":" + a.trsvcid);
    return std::unique_ptr<transport_listener>(std::make_unique<listening>(rec_));
  }

 private:
  struct listening final : transport_listener {
    explicit listening(record& r) : rec(r) { ++rec.listeners_alive; }
    ~listening() override { --rec.listeners_alive; }
    record& rec;
  };
  record& rec_;
};

listen_address address(const std::string& trtype, const std::string& trsvcid) {
  listen_address a;
  a.trtype = trtype;
  a.traddr = fake_queue::default_traddr;
  a.trsvcid = trsvcid;
  return a;
}

TEST(transport_registry_test, transports_by_name_and_their_listeners) {
  handler_harness h;
  recording_transport::record rec;
  ASSERT_TRUE(h.target().add_transport(std::make_unique<recording_transport>(rec)).ok());
  auto again = h.target().add_transport(std::make_unique<recording_transport>(rec));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.err().message, "Transport type 'RDMA' already exists");
  EXPECT_EQ(h.target().find_transport("rdma"), h.target().transports().at(0));
  EXPECT_EQ(h.target().find_transport("TCP"), nullptr);

  // The listener's trtype picks the transport (any case) and is stored as its name.
  ASSERT_TRUE(h.target().add_listener(handler_harness::open_nqn, address("rdma", "4421")).ok());
  EXPECT_EQ(rec.listened, std::vector<std::string>{"RDMA 192.0.2.1:4421"});
  EXPECT_EQ(rec.listeners_alive, 1);
  auto ls = h.target().listeners(handler_harness::open_nqn);
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->back().trtype, "RDMA");

  // Without a transport of that type, or of a type that does not exist.
  auto tcp = h.target().add_listener(handler_harness::open_nqn, address("tcp", "4422"));
  ASSERT_FALSE(tcp.ok());
  EXPECT_EQ(tcp.err().message, "create the TCP transport first (nvmf_create_transport)");
  auto bogus = h.target().add_listener(handler_harness::open_nqn, address("carrier-pigeon", "4422"));
  ASSERT_FALSE(bogus.ok());
  EXPECT_EQ(bogus.err().message, "trtype 'carrier-pigeon' is not supported");

  // Its discovery entry: TRTYPE, TSAS and ASQSZ from the transport.
  auto q = h.admin_queue(std::string(discovery_nqn));
  auto c = h.execute(*q, sqe::get_log_page(static_cast<uint8_t>(log_page_id::discovery), 8192));
  ASSERT_EQ(c.status, ok);
  bool found = false;
  for (uint64_t i = 0; i < data_at<le64>(c, 8).get(); ++i) {
    discovery_log_entry e{};
    std::memcpy(&e, c.data.data() + sizeof(discovery_log_header) + i * sizeof(e), sizeof(e));
    if (e.trsvcid_text() != "4421") {
      EXPECT_EQ(e.trtype, static_cast<uint8_t>(transport_type::tcp)) << "entry " << i << ": no transport, by name";
      continue;
    }
    found = true;
    EXPECT_EQ(e.trtype, static_cast<uint8_t>(transport_type::rdma));
    EXPECT_EQ(e.tsas[0], recording_transport::tsas_mark);
    EXPECT_EQ(e.asqsz.get(), recording_transport::aq_depth);
  }
  EXPECT_TRUE(found);

  // Removing the listener stops listening.
  ASSERT_TRUE(h.target().remove_listener(handler_harness::open_nqn, address("RDMA", "4421")).ok());
  EXPECT_EQ(rec.listeners_alive, 0);
}

TEST(transport_registry_test, adopted_queues_close_with_their_controller) {
  handler_harness h;
  auto q = h.make_queue();
  h.run([&] { h.target().adopt_queue(q); });
  h.connect_admin(*q, handler_harness::acl_nqn, handler_harness::allowed_host);
  ASSERT_TRUE(h.target().remove_host(handler_harness::acl_nqn, handler_harness::allowed_host).ok());
  EXPECT_TRUE(q->closed());
  ASSERT_FALSE(q->close_reasons().empty());  // close() is idempotent: it may be asked again
  EXPECT_EQ(q->close_reasons().front(), "host removed from the allow list");
  // The transport releases it once closed; the target then lets it go (shutdown waits for no one).
  h.run([&] { h.target().release_queue(q.get()); });
  h.run([] {});
  EXPECT_EQ(q.use_count(), 2) << "the test's and the harness's references only";
}

}  // namespace
}  // namespace nvmfd
