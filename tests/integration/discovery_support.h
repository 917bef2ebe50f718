#pragma once
// Helpers of the discovery controller tests: a target configured through the daemon's RPC
// handlers with a TCP transport and a discovery listener, a host's read of the whole
// discovery log, and entries in a comparable form.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "proto/discovery_log.h"
#include "proto/features.h"
#include "proto/log_pages.h"
#include "proto/nqn.h"
#include "rpc_target.h"
#include "target_fixture.h"
#include "test_client.h"
#include "test_controller.h"
#include "test_support.h"

namespace nvmfd::discovery_support {

inline constexpr uint8_t discovery_lid = static_cast<uint8_t>(log_page_id::discovery);
inline constexpr uint16_t current_eflags =
    eflags_bits::duplicate_returned_info | eflags_bits::explicit_persistent_connection;

// One entry as the tests compare it.
struct entry {
  uint8_t subtype = 0;
  std::string subnqn, traddr, trsvcid;
  uint16_t eflags = 0;
  uint8_t treq = 0;
  auto operator<=>(const entry&) const = default;
};

inline void PrintTo(const entry& e, std::ostream* os) {
  *os << "{subtype " << int(e.subtype) << ", " << e.subnqn << " @ " << e.traddr << ":" << e.trsvcid << ", eflags "
      << e.eflags << ", treq " << int(e.treq) << "}";
}

struct log_read {
  uint64_t genctr = 0;
  std::vector<entry> entries;          // in log order
  std::vector<discovery_log_entry> raw;
};

// Header first, then the whole log, as the Linux host reads it (RAE clear: unmasks the event).
inline log_read read_log(test_client& c) {
  log_read out;
  auto h = c.get_log_page(discovery_lid, 0, sizeof(discovery_log_header));
  EXPECT_TRUE(succeeded(h));
  if (!h || !h->status().ok()) return out;
  const uint64_t n = h->data_as<discovery_log_header>().numrec.get();
  auto all = c.get_log_page(discovery_lid, 0, static_cast<uint32_t>(discovery_log_size(n)));
  EXPECT_TRUE(succeeded(all));
  if (!all || !all->status().ok()) return out;
  out.genctr = all->data_as<discovery_log_header>().genctr.get();
  for (uint64_t i = 0; i < n; ++i) {
    auto e = load_wire<discovery_log_entry>(all->data.data() + discovery_entry_offset(i));
    out.raw.push_back(e);
    out.entries.push_back({e.subtype, std::string(e.subnqn_text()), std::string(e.traddr_text()),
                           std::string(e.trsvcid_text()), e.eflags.get(), e.treq});
  }
  return out;
}

inline entry current(const std::string& traddr, const std::string& trsvcid) {
  return {static_cast<uint8_t>(subsystem_type::current_discovery), std::string(discovery_nqn), traddr, trsvcid,
          current_eflags, treq_bits::secure_channel_not_specified};
}
inline entry nvm(const std::string& nqn, const std::string& traddr, const std::string& trsvcid) {
  return {static_cast<uint8_t>(subsystem_type::nvme), nqn, traddr, trsvcid, 0, treq_bits::secure_channel_not_specified};
}

inline json address(const std::string& traddr, const std::string& trsvcid) {
  return {{"trtype", "TCP"}, {"adrfam", "IPv4"}, {"traddr", traddr}, {"trsvcid", trsvcid}};
}

inline ::testing::AssertionResult ok_json(const result<json>& r) {
  if (r) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << to_string(r.err().code) << ": " << r.err().message;
}

// A target with the TCP transport and the discovery subsystem on 127.0.0.1:ports[0];
// ports[1], ports[2] are free for the test.
class discovery_rpc_test : public ::testing::Test {
 protected:
  void SetUp() override {
    ports = target_fixture::free_ports(3);
    ASSERT_EQ(ports.size(), 3u);
    ASSERT_TRUE(ok_json(t.call("nvmf_create_transport", {{"trtype", "TCP"}})));
    ASSERT_TRUE(ok_json(add_listener(std::string(discovery_nqn), "127.0.0.1", ports[0])));
  }

  result<json> add_listener(const std::string& nqn, const std::string& traddr, const std::string& trsvcid) {
    return t.call("nvmf_subsystem_add_listener", {{"nqn", nqn}, {"listen_address", address(traddr, trsvcid)}});
  }
  // Connects a discovery controller on 127.0.0.1:ports[0] (or addr:port).
  ::testing::AssertionResult connect_discovery(test_client& c, uint32_t kato_ms = 0, std::string addr = "127.0.0.1",
                                               std::string port = "") {
    auto r = connect_admin_queue(c, addr, static_cast<uint16_t>(std::stoul(port.empty() ? ports[0] : port)),
                                 std::string(discovery_nqn), kato_ms);
    return ok(r);
  }
  // Enables the Discovery Log Page Change event.
  static ::testing::AssertionResult enable_events(test_client& c) {
    return succeeded(c.set_features(static_cast<uint8_t>(feature_id::async_event_configuration),
                                    aec_bits::discovery_log_change));
  }

  rpc_target t;
  std::vector<std::string> ports;
};

}  // namespace nvmfd::discovery_support
