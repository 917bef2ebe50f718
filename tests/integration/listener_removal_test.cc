// nvmf_subsystem_remove_listener (issue 4, multipath): the subsystem's controllers whose
// admin queue connected through the removed listener are disconnected, all their queues;
// its other controllers, other subsystems' controllers on the same address and the
// discovery service carry on; a new Connect through the removed listener fails.
#include <gtest/gtest.h>

#include <chrono>

#include "bdev/fault_bdev.h"
#include "proto/fabrics.h"
#include "proto/features.h"
#include "proto/log_pages.h"
#include "target_test.h"

namespace nvmfd {
namespace {

using namespace std::chrono_literals;

constexpr uint8_t discovery_lid = static_cast<uint8_t>(log_page_id::discovery);
const std::string open_nqn(target_fixture::open_nqn);
const std::string acl_nqn(target_fixture::acl_nqn);

struct log_entry {
  std::string subnqn, traddr, trsvcid;
  auto operator<=>(const log_entry&) const = default;
};

class listener_removal_test : public target_test {
 protected:
  // Adds listener traddr:<a free port> to nqn, trying other ports if one is taken meanwhile.
  result<listen_address> add_listener_on_free_port(const std::string& nqn, const std::string& traddr) {
    error last{errc::io_error, "no attempt"};
    for (int attempt = 0; attempt < 20; ++attempt) {
      auto p = target_fixture::free_port();
      if (!p) return p.take_err();
      if (*p == port()) continue;
      listen_address a;
      a.traddr = traddr;
      a.trsvcid = std::to_string(*p);
      auto r = fx->target().add_listener(nqn, a);
      if (r) return a;
      last = r.take_err();
    }
    return last;
  }

  // Connect parameters for listener l (a wildcard one is reached through 127.0.0.1).
  test_controller_params params_at(const listen_address& l, const std::string& nqn) const {
    test_controller_params p = params(nqn);
    p.addr = is_wildcard_address(l.traddr) ? addr() : l.traddr;
    p.port = static_cast<uint16_t>(std::stoul(l.trsvcid));
    return p;
  }

  // An admin Connect to nqn through l must fail because nqn no longer listens there.
  void expect_connect_refused_by_subsystem(const listen_address& l, const std::string& nqn) {
    const auto p = params_at(l, nqn);
    test_client c;
    ASSERT_TRUE(ok(c.connect(p.addr, p.port))) << "the port still serves other subsystems";
    auto r = c.fabrics_connect(nqn, 0, 31, 0xffff);
    EXPECT_TRUE(has_status(r, nvme_status::specific(sc_command_specific::connect_invalid_parameters)));
    if (r) {
      EXPECT_EQ(r->dw0(), connect_response_invalid_param(true, connect_data_offset::subnqn));
    }
  }

  std::vector<uint16_t> cntlids(const std::string& nqn) {
    std::vector<uint16_t> out;
    auto cs = fx->target().controllers(nqn);
    EXPECT_TRUE(ok(cs));
    if (cs)
      for (auto& c : *cs) out.push_back(c.cntlid.value);
    return out;
  }

  // The NVM subsystem entries of the discovery log, sorted.
  static std::vector<log_entry> discovery_entries(test_client& c) {
    std::vector<log_entry> out;
    auto r = c.get_log_page(discovery_lid, 0, static_cast<uint32_t>(discovery_log_size(8)));
    EXPECT_TRUE(succeeded(r));
    if (!r || !r->status().ok()) return out;
    const uint64_t n = r->data_as<discovery_log_header>().numrec.get();
    for (uint64_t i = 0; i < n && i < 8; ++i) {
      auto e = load_wire<discovery_log_entry>(r->data.data() + discovery_entry_offset(i));
      if (e.subtype == static_cast<uint8_t>(subsystem_type::current_discovery)) continue;  // not under test here
      out.push_back({std::string(e.subnqn_text()), std::string(e.traddr_text()), std::string(e.trsvcid_text())});
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

TEST_F(listener_removal_test, disconnects_only_the_controllers_that_came_through_it) {
  auto second = add_listener_on_free_port(open_nqn, "127.0.0.2");
  ASSERT_TRUE(ok(second));
  auto gone = connect_controller();  // through the fixture's listener 127.0.0.1:port()
  ASSERT_TRUE(ok(gone));
  auto stays = test_controller::connect(params_at(*second, open_nqn));
  ASSERT_TRUE(ok(stays));
  auto other = test_controller::connect(params(acl_nqn));  // same address, other subsystem
  ASSERT_TRUE(ok(other));
  test_client disc;
  ASSERT_TRUE(ok(connect_admin_queue(disc, addr(), port(), std::string(discovery_nqn))));
  ASSERT_TRUE(succeeded(disc.set_features(static_cast<uint8_t>(feature_id::async_event_configuration),
                                          aec_bits::discovery_log_change)));
  auto disc_aer = disc.submit_async_event_request();
  ASSERT_TRUE(ok(disc_aer));
  // An AER outstanding on the controller that goes: dropped with its queue.
  ASSERT_TRUE(ok(gone->admin.submit_async_event_request()));
  ASSERT_EQ(cntlids(open_nqn), (std::vector<uint16_t>{gone->cntlid, stays->cntlid}));

  ASSERT_TRUE(ok(fx->target().remove_listener(open_nqn, fx->listener())));

  EXPECT_TRUE(ok(gone->admin.wait_closed()));
  EXPECT_TRUE(ok(gone->io.wait_closed()));
  EXPECT_EQ(cntlids(open_nqn), (std::vector<uint16_t>{stays->cntlid})) << "closed by the time remove_listener returns";

  // The controller on the other listener keeps doing I/O.
  const auto data = random_bytes(4096, 41);
  ASSERT_TRUE(succeeded(stays->io.write(target_fixture::ns_512, 64, data, 512, write_mode::r2t)));
  auto back = stays->io.read(target_fixture::ns_512, 64, 8, 512);
  ASSERT_TRUE(succeeded(back));
  EXPECT_EQ(back->data, data);
  EXPECT_TRUE(succeeded(stays->admin.keep_alive()));
  // So does the other subsystem's controller on the removed address.
  EXPECT_TRUE(succeeded(other->io.read(1, 0, 8, 512)));
  EXPECT_TRUE(succeeded(other->admin.keep_alive()));

  // The discovery controller is told, and the log has open_nqn only on the other listener.
  auto ev = disc.wait(*disc_aer);
  ASSERT_TRUE(succeeded(ev));
  EXPECT_EQ(ev->dw0(), aer_notice_result(aer_notice::discovery_log_change, discovery_lid));
  const std::vector<log_entry> want{{acl_nqn, addr(), std::to_string(port())},
                                    {open_nqn, "127.0.0.2", second->trsvcid}};
  EXPECT_EQ(discovery_entries(disc), want);

  auto ls = fx->target().listeners(open_nqn);
  ASSERT_TRUE(ok(ls));
  ASSERT_EQ(ls->size(), 1u);
  EXPECT_EQ((*ls)[0].traddr, "127.0.0.2");
  EXPECT_EQ((*ls)[0].trsvcid, second->trsvcid);
  auto ana = fx->target().set_ana_state(open_nqn, fx->listener(), ana_state::inaccessible, 1u);
  ASSERT_FALSE(ana);
  EXPECT_EQ(ana.err().code, errc::not_found);

  expect_connect_refused_by_subsystem(fx->listener(), open_nqn);
  EXPECT_TRUE(ok(test_controller::connect(params_at(*second, open_nqn))));
}

TEST_F(listener_removal_test, the_last_listener_on_an_address_takes_its_socket_along) {
  auto second = add_listener_on_free_port(open_nqn, "127.0.0.2");
  ASSERT_TRUE(ok(second));
  auto gone = test_controller::connect(params_at(*second, open_nqn));
  ASSERT_TRUE(ok(gone));
  auto stays = connect_controller();
  ASSERT_TRUE(ok(stays));

  ASSERT_TRUE(ok(fx->target().remove_listener(open_nqn, *second)));

  EXPECT_TRUE(ok(gone->admin.wait_closed()));
  EXPECT_TRUE(ok(gone->io.wait_closed()));
  test_client c;
  EXPECT_FALSE(ok(c.open("127.0.0.2", static_cast<uint16_t>(std::stoul(second->trsvcid)))))
      << "nothing listens on 127.0.0.2 any more";
  EXPECT_TRUE(succeeded(stays->io.read(target_fixture::ns_4k, 0, 1, 4096)));
  EXPECT_EQ(cntlids(open_nqn), (std::vector<uint16_t>{stays->cntlid}));
  auto again = fx->target().remove_listener(open_nqn, *second);
  ASSERT_FALSE(again) << "already removed";
  EXPECT_EQ(again.err().code, errc::not_found);
}

TEST_F(listener_removal_test, a_wildcard_listener_takes_the_controllers_that_matched_it) {
  auto wild = add_listener_on_free_port(open_nqn, "0.0.0.0");
  ASSERT_TRUE(ok(wild));
  ASSERT_TRUE(ok(fx->target().add_listener(acl_nqn, *wild)));
  auto via_wild = test_controller::connect(params_at(*wild, open_nqn));
  ASSERT_TRUE(ok(via_wild));
  auto via_exact = connect_controller();
  ASSERT_TRUE(ok(via_exact));
  auto acl_via_wild = test_controller::connect(params_at(*wild, acl_nqn));
  ASSERT_TRUE(ok(acl_via_wild));

  ASSERT_TRUE(ok(fx->target().remove_listener(open_nqn, *wild)));

  EXPECT_TRUE(ok(via_wild->admin.wait_closed()));
  EXPECT_TRUE(ok(via_wild->io.wait_closed()));
  EXPECT_TRUE(succeeded(via_exact->io.read(target_fixture::ns_512, 0, 8, 512)));
  EXPECT_TRUE(succeeded(acl_via_wild->io.read(1, 0, 8, 512))) << "acl_nqn still listens on the wildcard";
  EXPECT_EQ(cntlids(open_nqn), (std::vector<uint16_t>{via_exact->cntlid}));
  expect_connect_refused_by_subsystem(*wild, open_nqn);
}

// Commands in every stage when the listener goes: held in the bdev, waiting for H2CData,
// a parked AER. The queues close at once; the bdev I/O finishes later and is dropped.
TEST_F(listener_removal_test, commands_in_flight_are_dropped_safely) {
  constexpr uint32_t fault_nsid = 3;
  auto inner = fx->make_ram_bdev("held_inner", 512, 4096);
  ASSERT_TRUE(ok(inner));
  auto held = fault_bdev::create("held", *inner);
  ASSERT_TRUE(ok(held));
  auto dev = *held;
  ASSERT_TRUE(ok(fx->target().add_namespace(open_nqn, {.dev = dev, .nsid = nsid_t{fault_nsid}})));
  auto second = add_listener_on_free_port(open_nqn, "127.0.0.2");
  ASSERT_TRUE(ok(second));
  auto h = test_controller::connect(params_at(*second, open_nqn));
  ASSERT_TRUE(ok(h));

  dev->hold_all(bdev_op::read);
  for (uint64_t i = 0; i < 4; ++i) ASSERT_TRUE(ok(h->io.submit_read(fault_nsid, i * 8, 8, 512)));
  ASSERT_TRUE(dev->wait_held(4, 10s));
  nvme_sqe w = test_client::make_rw_sqe(io_opcode::write, target_fixture::ns_512, 0, 64);
  test_client::set_sgl_transport(w, 64 * 512);
  auto wcid = h->io.submit(w);  // no data: the R2T is ours to answer, and we never do
  ASSERT_TRUE(ok(wcid));
  ASSERT_TRUE(ok(h->io.wait_r2t(*wcid)));
  ASSERT_TRUE(ok(h->admin.submit_async_event_request()));

  ASSERT_TRUE(ok(fx->target().remove_listener(open_nqn, *second)));

  EXPECT_TRUE(ok(h->admin.wait_closed()));
  EXPECT_TRUE(ok(h->io.wait_closed()));
  EXPECT_TRUE(cntlids(open_nqn).empty());
  EXPECT_EQ(dev->held(), 4u) << "the reads are still in the bdev";
  dev->heal();
  EXPECT_EQ(dev->release_held(), 4u);
  // The namespace serves the next controller as before.
  auto next = connect_controller();
  ASSERT_TRUE(ok(next));
  EXPECT_TRUE(succeeded(next->io.read(fault_nsid, 0, 8, 512)));
}

TEST_F(listener_removal_test, the_discovery_listener_takes_only_discovery_controllers) {
  test_client disc;
  ASSERT_TRUE(ok(connect_admin_queue(disc, addr(), port(), std::string(discovery_nqn))));
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));

  ASSERT_TRUE(ok(fx->target().remove_listener(std::string(discovery_nqn), fx->listener())));

  EXPECT_TRUE(ok(disc.wait_closed()));
  EXPECT_TRUE(succeeded(h->io.read(target_fixture::ns_512, 0, 8, 512)));
  EXPECT_TRUE(succeeded(h->admin.keep_alive()));
  expect_connect_refused_by_subsystem(fx->listener(), std::string(discovery_nqn));
}

}  // namespace
}  // namespace nvmfd
