// NVMe reservations through the target's handlers (NVMe Base 2.0 8.19, 7.3-7.6): hosts
// identified by Host Identifier across their controllers, the access rules of each type,
// preemption with its notices and AERs, preempt-and-abort waiting for the preempted host's
// I/O on the device, the notification mask, Report, the features and Identify bits, and
// the statuses bad commands get.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bdev/fault_bdev.h"
#include "bdev/ram_bdev.h"
#include "handler_harness.h"
#include "proto/features.h"
#include "proto/identify.h"
#include "proto/log_pages.h"
#include "proto/reservations.h"
#include "target/ptpl_file.h"

namespace nvmfd {
namespace {

using namespace want;
constexpr nvme_status conflict = nvme_status::generic(sc_generic::reservation_conflict);

constexpr const char* host_a = "nqn.2024-01.io.nvmfd:host-a";
constexpr const char* host_b = "nqn.2024-01.io.nvmfd:host-b";
constexpr const char* host_c = "nqn.2024-01.io.nvmfd:host-c";
constexpr const char* id_a = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr const char* id_b = "bbbbbbbb-0000-4000-8000-000000000002";
constexpr const char* id_c = "cccccccc-0000-4000-8000-000000000003";

std::vector<std::byte> keys(uint64_t first, uint64_t second) {
  std::vector<std::byte> d(16);
  le64 a, b;
  a = first;
  b = second;
  std::memcpy(d.data(), &a, 8);
  std::memcpy(d.data() + 8, &b, 8);
  return d;
}
std::vector<std::byte> key(uint64_t k) {
  auto d = keys(k, 0);
  d.resize(8);
  return d;
}

nvme_sqe resv(io_opcode op, uint32_t cdw10, uint32_t len, uint32_t nsid = 1) {
  nvme_sqe s = sqe::make(static_cast<uint8_t>(op), nsid, len);
  s.cdw10 = cdw10;
  return s;
}
// Register CDW10: RREGA, IEKEY, CPTPL.
uint32_t reg_cdw10(register_action a, bool iekey = false, ptpl_change cptpl = ptpl_change::no_change) {
  return static_cast<uint32_t>(a) | (iekey ? 1u << 3 : 0u) | (static_cast<uint32_t>(cptpl) << 30);
}
uint32_t acq_cdw10(acquire_action a, reservation_type t) {
  return static_cast<uint32_t>(a) | (static_cast<uint32_t>(t) << 8);
}
uint32_t rel_cdw10(release_action a, reservation_type t) {
  return static_cast<uint32_t>(a) | (static_cast<uint32_t>(t) << 8);
}
nvme_sqe report(uint32_t bytes, bool eds = true, uint32_t nsid = 1) {
  nvme_sqe s = resv(io_opcode::reservation_report, bytes / 4 - 1, bytes, nsid);
  s.cdw11 = eds ? 1u : 0u;
  return s;
}

// A host with its controller and I/O queue, and the reservation commands as it sends them.
struct host {
  handler_harness& h;
  handler_harness::io_pair p;
  host(handler_harness& harness, const char* nqn, const char* id, const char* subnqn = handler_harness::open_nqn)
      : h(harness), p(harness.connect_host(nqn, id, subnqn)) {}

  nvme_status reg(uint64_t crkey, uint64_t nrkey, register_action a = register_action::register_key, bool iekey = false,
                  ptpl_change cptpl = ptpl_change::no_change) {
    return h.execute(*p.io, resv(io_opcode::reservation_register, reg_cdw10(a, iekey, cptpl), 16), keys(crkey, nrkey)).status;
  }
  nvme_status acquire(uint64_t crkey, reservation_type t, acquire_action a = acquire_action::acquire, uint64_t prkey = 0) {
    return h.execute(*p.io, resv(io_opcode::reservation_acquire, acq_cdw10(a, t), 16), keys(crkey, prkey)).status;
  }
  nvme_status release(uint64_t crkey, reservation_type t, release_action a = release_action::release) {
    return h.execute(*p.io, resv(io_opcode::reservation_release, rel_cdw10(a, t), 8), key(crkey)).status;
  }
  // One block of nsid (512 bytes on nsid 1, 4 KiB on nsid 2).
  nvme_status write(uint32_t nsid = 1) {
    const uint32_t bs = nsid == 2 ? 4096 : 512;
    std::vector<std::byte> d(bs, std::byte{0x5a});
    return h.execute(*p.io, sqe::rw(io_opcode::write, nsid, 0, 1, bs), d).status;
  }
  nvme_status read(uint32_t nsid = 1) { return h.execute(*p.io, sqe::rw(io_opcode::read, nsid, 0, 1, 512)).status; }
  nvme_status flush() { return h.execute(*p.io, sqe::make(static_cast<uint8_t>(io_opcode::flush), 1)).status; }
  nvme_status write_zeroes() { return h.execute(*p.io, sqe::rw(io_opcode::write_zeroes, 1, 0, 1, 0)).status; }
  fake_completion report(uint32_t bytes = 4096, bool eds = true) { return h.execute(*p.io, nvmfd::report(bytes, eds)); }
  // Arms an AER on the admin queue; returns its CID.
  uint16_t arm_aer() { return h.submit(*p.admin, sqe::admin(admin_opcode::async_event_request)); }
  reservation_notification_log notice(bool rae = false) {
    auto c = h.execute(*p.admin, sqe::get_log_page(static_cast<uint8_t>(log_page_id::reservation_notification), 64, 0, 0, rae));
    EXPECT_EQ(c.status, ok);
    reservation_notification_log e{};
    if (c.data.size() >= sizeof e) std::memcpy(&e, c.data.data(), sizeof e);
    return e;
  }
};

uint16_t regctl(const fake_completion& c) { return data_at<uint16_t>(c, 5); }
uint32_t gen(const fake_completion& c) { return data_at<uint32_t>(c, 0); }
uint8_t rtype(const fake_completion& c) { return data_at<uint8_t>(c, 4); }

TEST(reservations_test, register_report_and_the_statuses_of_bad_registrations) {
  handler_harness h;
  host a(h, host_a, id_a), b(h, host_b, id_b);
  auto r = a.report();
  ASSERT_EQ(r.status, ok);
  EXPECT_EQ(regctl(r), 0);
  EXPECT_EQ(a.reg(0, 0), invalid_field) << "a zero key cannot be registered";
  EXPECT_EQ(a.reg(0, 0xA1), ok);
  EXPECT_EQ(a.reg(0, 0xA1), ok) << "registering again with the same key";
  EXPECT_EQ(a.reg(0, 0xA2), conflict) << "registering again with another key";
  EXPECT_EQ(b.reg(0, 0xB1), ok);
  EXPECT_EQ(a.reg(0xBAD, 0xA3, register_action::replace_key), conflict);
  EXPECT_EQ(a.reg(0xA1, 0xA3, register_action::replace_key), ok);
  EXPECT_EQ(a.reg(0xBAD, 0xA4, register_action::replace_key, true), ok) << "IEKEY ignores the current key";
  EXPECT_EQ(a.reg(0, 0xA5, static_cast<register_action>(3)), invalid_field);
  EXPECT_EQ(a.reg(0, 0xA5, register_action::register_key, false, ptpl_change::reserved), invalid_field);
  EXPECT_EQ(a.reg(0, 0xA5, register_action::register_key, false, ptpl_change::set), invalid_field)
      << "PTPL needs a ptpl file";

  r = a.report();
  ASSERT_EQ(r.status, ok);
  EXPECT_EQ(regctl(r), 2);
  EXPECT_EQ(gen(r), 4u) << "two registrations and two replacements";
  EXPECT_EQ(rtype(r), 0);
  // Extended entries from byte 64: CNTLID FFFFh (dynamic), RCSTS, RKEY, the 128-bit HOSTID.
  EXPECT_EQ(data_at<uint16_t>(r, 64), 0xffff);
  EXPECT_EQ(data_at<uint64_t>(r, 64 + 8), 0xA4u);
  EXPECT_EQ(std::memcmp(r.data.data() + 64 + 16, uuid::parse(id_a)->bytes.data(), 16), 0);
  EXPECT_EQ(data_at<uint64_t>(r, 128 + 8), 0xB1u);

  EXPECT_EQ(a.report(4096, false).status, nvme_status::generic(sc_generic::host_identifier_inconsistent_format));
  auto short_report = a.report(64);
  ASSERT_EQ(short_report.status, ok);
  EXPECT_EQ(short_report.data.size(), 64u);
  EXPECT_EQ(regctl(short_report), 2) << "REGCTL counts every registrant, whatever fits";

  EXPECT_EQ(b.reg(0xBAD, 0, register_action::unregister_key), conflict);
  EXPECT_EQ(b.reg(0xB1, 0, register_action::unregister_key), ok);
  EXPECT_EQ(b.reg(0xB1, 0, register_action::unregister_key), conflict) << "no longer registered";
  EXPECT_EQ(regctl(a.report()), 1);
}

TEST(reservations_test, malformed_reservation_commands_are_refused_before_any_change) {
  handler_harness h;
  host a(h, host_a, id_a);
  auto short_data = resv(io_opcode::reservation_register, reg_cdw10(register_action::register_key), 8);
  EXPECT_EQ(h.execute(*a.p.io, short_data, key(1)).status, sgl_length);
  auto short_release = resv(io_opcode::reservation_release, 0, 4);
  EXPECT_EQ(h.execute(*a.p.io, short_release, std::vector<std::byte>(4)).status, sgl_length);
  auto mismatched = report(4096);
  mismatched.sgl.length = 2048;
  EXPECT_EQ(h.execute(*a.p.io, mismatched).status, sgl_length);
  EXPECT_EQ(h.execute(*a.p.io, resv(io_opcode::reservation_register, 0, 16, 7), keys(0, 1)).status, invalid_ns);
  ASSERT_EQ(a.reg(0, 0xA1), ok);
  auto iekey_acquire = resv(io_opcode::reservation_acquire, acq_cdw10(acquire_action::acquire, reservation_type::write_exclusive) | 1u << 3, 16);
  EXPECT_EQ(h.execute(*a.p.io, iekey_acquire, keys(0xA1, 0)).status, invalid_field);
  EXPECT_EQ(a.acquire(0xA1, static_cast<reservation_type>(7)), invalid_field);
  EXPECT_EQ(a.acquire(0xA1, reservation_type::none), invalid_field);
  EXPECT_EQ(a.acquire(0xA1, reservation_type::write_exclusive, static_cast<acquire_action>(3)), invalid_field);
  EXPECT_EQ(a.acquire(0xBAD, reservation_type::write_exclusive), conflict);
  EXPECT_EQ(rtype(a.report()), 0) << "nothing was acquired";
}

struct access_row {
  reservation_type type;
  // registered non-holder, and unregistered host: read allowed, write allowed
  bool reg_read, reg_write, other_read, other_write;
};

TEST(reservations_test, each_type_lets_in_whom_the_spec_says) {
  using rt = reservation_type;
  const access_row rows[] = {
      {rt::write_exclusive, true, false, true, false},
      {rt::exclusive_access, false, false, false, false},
      {rt::write_exclusive_registrants_only, true, true, true, false},
      {rt::exclusive_access_registrants_only, true, true, false, false},
      {rt::write_exclusive_all_registrants, true, true, true, false},
      {rt::exclusive_access_all_registrants, true, true, false, false},
  };
  for (auto& row : rows) {
    SCOPED_TRACE(static_cast<int>(row.type));
    handler_harness h;
    host a(h, host_a, id_a), b(h, host_b, id_b), c(h, host_c, id_c);
    ASSERT_EQ(a.reg(0, 0xA), ok);
    ASSERT_EQ(b.reg(0, 0xB), ok);
    EXPECT_EQ(c.write(), ok) << "no reservation yet";
    ASSERT_EQ(a.acquire(0xA, row.type), ok);
    EXPECT_EQ(a.read(), ok);
    EXPECT_EQ(a.write(), ok);
    EXPECT_EQ(b.read(), row.reg_read ? ok : conflict);
    EXPECT_EQ(b.write(), row.reg_write ? ok : conflict);
    EXPECT_EQ(c.read(), row.other_read ? ok : conflict);
    EXPECT_EQ(c.write(), row.other_write ? ok : conflict);
    // Flush and Write Zeroes belong to the write group.
    EXPECT_EQ(c.flush(), row.other_write ? ok : conflict);
    EXPECT_EQ(c.write_zeroes(), row.other_write ? ok : conflict);
    // The other namespace is not reserved.
    EXPECT_EQ(c.write(2), ok);
    EXPECT_EQ(a.acquire(0xA, row.type), ok) << "the holder acquiring again";
    EXPECT_EQ(b.acquire(0xB, row.type), is_all_registrants(row.type) ? ok : conflict);
    EXPECT_EQ(a.release(0xA, static_cast<rt>(row.type == rt::write_exclusive ? 2 : 1)), invalid_field)
        << "release with another type";
    EXPECT_EQ(a.release(0xA, row.type), ok);
    EXPECT_EQ(c.write(), ok) << "released";
  }
}

TEST(reservations_test, a_registration_covers_every_controller_of_the_host) {
  handler_harness h;
  host a1(h, host_a, id_a), a2(h, host_a, id_a), b(h, host_b, id_b);
  ASSERT_NE(a1.p.cntlid, a2.p.cntlid);
  ASSERT_EQ(a1.reg(0, 0xA), ok);
  EXPECT_EQ(a2.reg(0, 0xA2), conflict) << "the same host ID is registered already";
  ASSERT_EQ(a1.acquire(0xA, reservation_type::exclusive_access), ok);
  EXPECT_EQ(a2.write(), ok) << "the second path of the holder";
  EXPECT_EQ(a2.read(), ok);
  EXPECT_EQ(b.read(), conflict);
  EXPECT_EQ(regctl(b.report()), 1);
}

TEST(reservations_test, preempt_moves_the_reservation_and_notifies_the_preempted_host) {
  handler_harness h;
  host a(h, host_a, id_a), b(h, host_b, id_b);
  ASSERT_EQ(a.reg(0, 0xA), ok);
  ASSERT_EQ(b.reg(0, 0xB), ok);
  ASSERT_EQ(a.acquire(0xA, reservation_type::write_exclusive), ok);
  uint16_t aer = a.arm_aer();
  EXPECT_TRUE(h.pending(*a.p.admin, aer));
  EXPECT_EQ(b.acquire(0xB, reservation_type::write_exclusive, acquire_action::preempt, 0), invalid_field)
      << "PRKEY 0 while a single holder holds it";
  EXPECT_EQ(b.acquire(0xB, reservation_type::write_exclusive, acquire_action::preempt, 0x999), conflict)
      << "no registrant has that key";
  ASSERT_EQ(b.acquire(0xB, reservation_type::exclusive_access, acquire_action::preempt, 0xA), ok);
  auto ev = h.wait(*a.p.admin, aer);
  auto f = aer_fields::decode(ev.cqe.dw0.get());
  EXPECT_EQ(f.type, static_cast<uint8_t>(aer_type::io_command_set));
  EXPECT_EQ(f.info, aer_info_reservation_log_available);
  EXPECT_EQ(f.log_page_id, static_cast<uint8_t>(log_page_id::reservation_notification));
  auto n = a.notice();
  EXPECT_EQ(n.count.get(), 1u);
  EXPECT_EQ(n.type, static_cast<uint8_t>(reservation_notice::registration_preempted));
  EXPECT_EQ(n.nsid.get(), 1u);
  EXPECT_EQ(n.available, 0);
  EXPECT_EQ(a.notice().count.get(), 0u) << "read once, then empty";
  EXPECT_EQ(a.write(), conflict);
  EXPECT_EQ(a.read(), conflict) << "Exclusive Access now";
  EXPECT_EQ(a.release(0xA, reservation_type::exclusive_access), conflict) << "no longer registered";
  auto r = b.report();
  EXPECT_EQ(regctl(r), 1);
  EXPECT_EQ(rtype(r), static_cast<uint8_t>(reservation_type::exclusive_access));
  EXPECT_EQ(data_at<uint8_t>(r, 64 + 2), 1) << "RCSTS: B holds it";
}

TEST(reservations_test, releasing_a_registrants_only_reservation_notifies_the_others_unless_masked) {
  handler_harness h;
  host a(h, host_a, id_a), b(h, host_b, id_b), c(h, host_c, id_c);
  ASSERT_EQ(a.reg(0, 0xA), ok);
  ASSERT_EQ(b.reg(0, 0xB), ok);
  ASSERT_EQ(c.reg(0, 0xC), ok);
  // C masks "reservation released" for nsid 1.
  auto mask = sqe::set_features(static_cast<uint8_t>(feature_id::reservation_notification_mask),
                                reservation_mask_bits::reservation_released);
  mask.nsid = 1;
  ASSERT_EQ(h.execute(*c.p.admin, mask).status, ok);
  auto get_mask = sqe::get_features(static_cast<uint8_t>(feature_id::reservation_notification_mask));
  get_mask.nsid = 1;
  auto got = h.execute(*c.p.admin, get_mask);
  EXPECT_EQ(got.cqe.dw0.get(), reservation_mask_bits::reservation_released);
  mask.cdw11 = 1u;  // bit 0 is reserved
  EXPECT_EQ(h.execute(*c.p.admin, mask).status, invalid_field);

  ASSERT_EQ(a.acquire(0xA, reservation_type::write_exclusive_registrants_only), ok);
  uint16_t aer_b = b.arm_aer(), aer_c = c.arm_aer(), aer_a = a.arm_aer();
  ASSERT_EQ(a.reg(0xA, 0, register_action::unregister_key), ok) << "the holder unregisters: released";
  h.wait(*b.p.admin, aer_b);
  EXPECT_EQ(b.notice().type, static_cast<uint8_t>(reservation_notice::reservation_released));
  EXPECT_TRUE(h.pending(*c.p.admin, aer_c)) << "masked";
  EXPECT_EQ(c.notice().count.get(), 0u);
  EXPECT_TRUE(h.pending(*a.p.admin, aer_a)) << "the host that released it is not told";
  EXPECT_EQ(rtype(b.report()), 0);

  // Clear: every other registrant's reservation is preempted.
  ASSERT_EQ(b.acquire(0xB, reservation_type::write_exclusive), ok);
  ASSERT_EQ(b.release(0xB, reservation_type::write_exclusive, release_action::clear), ok);
  h.wait(*c.p.admin, aer_c);
  EXPECT_EQ(c.notice().type, static_cast<uint8_t>(reservation_notice::reservation_preempted));
  EXPECT_EQ(regctl(b.report()), 0);
  EXPECT_EQ(c.write(), ok);
}

TEST(reservations_test, a_host_that_cannot_see_the_namespace_gets_no_notice) {
  handler_harness h;
  const std::string nqn = "nqn.2024-01.io.nvmfd:unit-resv-hidden";
  h.add_subsystem(nqn, {ns_params(ram_disk("resv-hidden", 512, 64), 1, true)});
  ASSERT_TRUE(h.target().ns_add_host(nqn, nsid_t{1}, host_a).ok());
  ASSERT_TRUE(h.target().ns_add_host(nqn, nsid_t{1}, host_b).ok());
  host a(h, host_a, id_a, nqn.c_str()), b(h, host_b, id_b, nqn.c_str());
  ASSERT_EQ(a.reg(0, 0xA), ok);
  ASSERT_EQ(b.reg(0, 0xB), ok);
  ASSERT_TRUE(h.target().ns_remove_host(nqn, nsid_t{1}, host_a).ok());
  // A's namespace change notice, read so that only reservation notices could follow.
  (void)h.execute(*a.p.admin, sqe::get_log_page(static_cast<uint8_t>(log_page_id::changed_namespace_list), 4096));
  uint16_t aer = a.arm_aer();
  ASSERT_EQ(b.acquire(0xB, reservation_type::write_exclusive, acquire_action::preempt, 0xA), ok);
  EXPECT_TRUE(h.pending(*a.p.admin, aer)) << "A cannot see the namespace";
  EXPECT_EQ(a.notice().count.get(), 0u);
  EXPECT_EQ(regctl(b.report()), 1) << "A's registration was still preempted";
}

TEST(reservations_test, preempt_and_abort_completes_after_the_preempted_hosts_io_on_the_device) {
  handler_harness h;
  auto inner = ram_disk("resv-inner", 512, 256);
  auto fault = fault_bdev::create("resv-fault", inner);
  ASSERT_TRUE(fault.ok());
  const std::string nqn = "nqn.2024-01.io.nvmfd:unit-resv-abort";
  h.add_subsystem(nqn, {*fault});
  host a{h, host_a, id_a};  // on open_nqn: unused
  auto pa = h.connect_host(host_a, id_a, nqn);
  auto pb = h.connect_host(host_b, id_b, nqn);
  auto exec = [&](fake_queue& q, nvme_sqe s, std::vector<std::byte> d = {}) { return h.execute(q, s, d).status; };
  ASSERT_EQ(exec(*pa.io, resv(io_opcode::reservation_register, 0, 16), keys(0, 0xA)), ok);
  ASSERT_EQ(exec(*pb.io, resv(io_opcode::reservation_register, 0, 16), keys(0, 0xB)), ok);
  ASSERT_EQ(exec(*pa.io, resv(io_opcode::reservation_acquire, acq_cdw10(acquire_action::acquire, reservation_type::write_exclusive), 16),
                 keys(0xA, 0)),
            ok);
  // A write of host A is on the device, held there.
  (*fault)->hold_all(bdev_op::write);
  std::vector<std::byte> d(512, std::byte{1});
  uint16_t stuck = h.submit(*pa.io, sqe::rw(io_opcode::write, 1, 0, 1, 512), d);
  ASSERT_TRUE((*fault)->wait_held(1, std::chrono::seconds(5)));
  uint16_t preempt = h.submit(
      *pb.io, resv(io_opcode::reservation_acquire, acq_cdw10(acquire_action::preempt_and_abort, reservation_type::write_exclusive), 16),
      keys(0xB, 0xA));
  EXPECT_TRUE(h.pending(*pb.io, preempt)) << "waits for A's write on the device";
  // A command A sends now is refused at once.
  std::vector<std::byte> d2(512, std::byte{2});
  EXPECT_EQ(h.execute(*pa.io, sqe::rw(io_opcode::write, 1, 1, 1, 512), d2).status, conflict);
  EXPECT_TRUE(h.pending(*pb.io, preempt));
  (*fault)->heal();
  EXPECT_EQ((*fault)->release_held(), 1u);
  EXPECT_EQ(h.wait(*pa.io, stuck).status, ok);
  EXPECT_EQ(h.wait(*pb.io, preempt).status, ok);
  EXPECT_EQ(exec(*pb.io, sqe::rw(io_opcode::write, 1, 0, 1, 512), d), ok);
}

TEST(reservations_test, features_and_identify_say_what_is_supported) {
  handler_harness h;
  host a(h, host_a, id_a);
  auto idns = h.execute(*a.p.admin, sqe::identify(static_cast<uint8_t>(identify_cns::namespace_), 1));
  ASSERT_EQ(idns.status, ok);
  EXPECT_EQ(data_at<uint8_t>(idns, offsetof(identify_namespace, rescap)),
            rescap_bits::all_types | rescap_bits::ignore_existing_key)
      << "no PTPL without a ptpl file";
  auto persist = sqe::set_features(static_cast<uint8_t>(feature_id::reservation_persistence), ptpl_bit);
  persist.nsid = 1;
  EXPECT_EQ(h.execute(*a.p.admin, persist).status, invalid_field);
  auto get = sqe::get_features(static_cast<uint8_t>(feature_id::reservation_persistence));
  get.nsid = 1;
  auto got = h.execute(*a.p.admin, get);
  EXPECT_EQ(got.status, ok);
  EXPECT_EQ(got.cqe.dw0.get(), 0u);
  get.nsid = 9;
  EXPECT_EQ(h.execute(*a.p.admin, get).status, invalid_ns);
}

// --- persistence through power loss (ptpl files) ---

namespace ptpl {

constexpr const char* nqn = "nqn.2024-01.io.nvmfd:unit-ptpl";
constexpr const char* bdev_id = "0f0e0d0c-0b0a-4908-8706-050403020100";

// A fresh directory, removed with everything in it when the test ends.
struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/nvmfd-ptpl-XXXXXX";
    const char* d = mkdtemp(tmpl);
    EXPECT_NE(d, nullptr);
    path = d ? d : "";
  }
  ~temp_dir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};
std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A subsystem with one namespace on a RAM disk whose UUID is bdev_id, kept in file.
result<nsid_t> add_ptpl_subsystem(handler_harness& h, const std::string& file) {
  subsystem_params sp;
  sp.nqn = nqn;
  sp.allow_any_host = true;
  EXPECT_TRUE(h.target().create_subsystem(sp).ok());
  auto disk = ram_bdev::create("ptpl-disk", 512, 256, uuid::parse(bdev_id));
  EXPECT_TRUE(disk.ok());
  namespace_params np;
  np.dev = *disk;
  np.nsid = nsid_t{1};
  np.ptpl_file = file;
  auto r = h.target().add_namespace(nqn, np);
  if (r) h.add_listener(nqn);
  return r;
}

struct ptpl_host : host {
  ptpl_host(handler_harness& harness, const char* hostnqn, const char* id) : host(harness, hostnqn, id, nqn) {}
};

}  // namespace ptpl

TEST(reservations_test, a_ptpl_file_keeps_the_reservation_through_a_restart_in_spdks_format) {
  ptpl::temp_dir tmp;
  const std::string file = tmp.path + "/ns1.ptpl";
  {
    handler_harness h;
    ASSERT_TRUE(ptpl::add_ptpl_subsystem(h, file).ok());
    ptpl::ptpl_host a(h, host_a, id_a), b(h, host_b, id_b);
    auto idns = h.execute(*a.p.admin, sqe::identify(static_cast<uint8_t>(identify_cns::namespace_), 1));
    EXPECT_TRUE(data_at<uint8_t>(idns, offsetof(identify_namespace, rescap)) & rescap_bits::persist_through_power_loss);
    ASSERT_EQ(a.reg(0, 0xA, register_action::register_key, false, ptpl_change::set), ok);
    ASSERT_EQ(b.reg(0, 0xB), ok);
    ASSERT_EQ(a.acquire(0xA, reservation_type::write_exclusive_registrants_only), ok);
    auto j = nlohmann::json::parse(ptpl::slurp(file));
    EXPECT_EQ(j["ptpl"], true);
    EXPECT_EQ(j["rtype"], 3);
    EXPECT_EQ(j["crkey"], 0xA);
    EXPECT_EQ(j["bdev_uuid"], ptpl::bdev_id);
    EXPECT_EQ(j["holder_uuid"], id_a);
    ASSERT_EQ(j["registrants"].size(), 2u);
    EXPECT_EQ(j["registrants"][1]["host_uuid"], id_b);
    EXPECT_EQ(j["registrants"][1]["rkey"], 0xB);
    EXPECT_EQ(data_at<uint8_t>(a.report(), 9), 1) << "PTPLS";
  }
  {
    handler_harness h;  // a new target: the reservation comes back from the file
    ASSERT_TRUE(ptpl::add_ptpl_subsystem(h, file).ok());
    ptpl::ptpl_host b(h, host_b, id_b), c(h, host_c, id_c);
    auto r = c.report();
    EXPECT_EQ(regctl(r), 2);
    EXPECT_EQ(rtype(r), 3);
    EXPECT_EQ(c.write(), conflict);
    EXPECT_EQ(b.write(), ok) << "a registrant, under Write Exclusive - Registrants Only";
    auto get = sqe::get_features(static_cast<uint8_t>(feature_id::reservation_persistence));
    get.nsid = 1;
    EXPECT_EQ(h.execute(*b.p.admin, get).cqe.dw0.get(), ptpl_bit);
    // Turning PTPL off empties the file (as SPDK does); the reservation stays until restart.
    auto off = sqe::set_features(static_cast<uint8_t>(feature_id::reservation_persistence), 0);
    off.nsid = 1;
    ASSERT_EQ(h.execute(*b.p.admin, off).status, ok);
    EXPECT_EQ(ptpl::slurp(file), "");
    EXPECT_EQ(c.write(), conflict);
  }
  {
    handler_harness h;
    ASSERT_TRUE(ptpl::add_ptpl_subsystem(h, file).ok());
    ptpl::ptpl_host c(h, host_c, id_c);
    EXPECT_EQ(regctl(c.report()), 0) << "not persisted any more";
    EXPECT_EQ(c.write(), ok);
  }
}

TEST(reservations_test, a_change_that_waits_for_aborted_io_never_writes_over_a_later_one_in_the_ptpl_file) {
  // B's preempt and abort waits for A's write on the device; meanwhile C registers, and its
  // command completes with the file written (holding the preemption too). When the
  // preemption then completes, the file must still hold C: an older text never replaces a
  // newer one, or C's completed registration would not survive a power cut.
  ptpl::temp_dir tmp;
  const std::string file = tmp.path + "/ns1.ptpl";
  handler_harness h;
  auto inner = ram_bdev::create("ptpl-inner", 512, 256, uuid::parse(ptpl::bdev_id));
  ASSERT_TRUE(inner.ok());
  auto fault = fault_bdev::create("ptpl-fault", *inner, uuid::parse(ptpl::bdev_id));
  ASSERT_TRUE(fault.ok());
  auto np = ns_params(*fault, 1);
  np.ptpl_file = file;
  h.add_subsystem(ptpl::nqn, {np});
  ptpl::ptpl_host a(h, host_a, id_a), b(h, host_b, id_b), c(h, host_c, id_c);
  ASSERT_EQ(a.reg(0, 0xA, register_action::register_key, false, ptpl_change::set), ok);
  ASSERT_EQ(b.reg(0, 0xB), ok);
  ASSERT_EQ(a.acquire(0xA, reservation_type::write_exclusive), ok);
  (*fault)->hold_all(bdev_op::write);
  std::vector<std::byte> d(512, std::byte{1});
  const uint16_t stuck = h.submit(*a.p.io, sqe::rw(io_opcode::write, 1, 0, 1, 512), d);
  ASSERT_TRUE((*fault)->wait_held(1, std::chrono::seconds(5)));
  const uint16_t preempt = h.submit(
      *b.p.io, resv(io_opcode::reservation_acquire, acq_cdw10(acquire_action::preempt_and_abort, reservation_type::write_exclusive), 16),
      keys(0xB, 0xA));
  ASSERT_TRUE(h.pending(*b.p.io, preempt));
  ASSERT_EQ(c.reg(0, 0xC), ok);
  auto after_c = nlohmann::json::parse(ptpl::slurp(file));
  EXPECT_EQ(after_c["registrants"].size(), 2u) << "B and C: " << after_c.dump();
  (*fault)->heal();
  EXPECT_EQ((*fault)->release_held(), 1u);
  EXPECT_EQ(h.wait(*a.p.io, stuck).status, ok);
  EXPECT_EQ(h.wait(*b.p.io, preempt).status, ok);
  auto last = nlohmann::json::parse(ptpl::slurp(file));
  ASSERT_EQ(last["registrants"].size(), 2u) << "C's registration lost: " << last.dump();
  EXPECT_EQ(last["registrants"][1]["rkey"], 0xC);
  EXPECT_EQ(last["holder_uuid"], id_b);
}

TEST(reservations_test, an_unusable_ptpl_file_refuses_the_namespace_and_says_why) {
  ptpl::temp_dir tmp;
  const std::string dir = tmp.path;
  struct row {
    const char* name;
    std::string text;
    const char* why;
  };
  const std::string regs = R"("registrants": [{"rkey": 10, "host_uuid": ")" + std::string(id_a) + R"("}])";
  const row rows[] = {
      {"truncated", R"({"ptpl": true, "rtype": 1, "crk)", "not JSON"},
      {"another bdev", R"({"ptpl": true, "rtype": 0, "bdev_uuid": ")" + std::string(id_b) + R"(", )" + regs + "}",
       "belongs to bdev"},
      {"holder not registered",
       R"({"ptpl": true, "rtype": 1, "crkey": 10, "bdev_uuid": ")" + std::string(ptpl::bdev_id) + R"(", "holder_uuid": ")" +
           id_b + R"(", )" + regs + "}",
       "is not registered"},
      {"wrong key", R"({"ptpl": true, "rtype": 1, "crkey": 11, "bdev_uuid": ")" + std::string(ptpl::bdev_id) +
                        R"(", "holder_uuid": ")" + id_a + R"(", )" + regs + "}",
       "crkey"},
      {"bad type", R"({"ptpl": true, "rtype": 9, "bdev_uuid": ")" + std::string(ptpl::bdev_id) + R"(", )" + regs + "}",
       "reservation type"},
      {"bad host", R"({"ptpl": true, "rtype": 0, "bdev_uuid": ")" + std::string(ptpl::bdev_id) +
                       R"(", "registrants": [{"rkey": 1, "host_uuid": "nope"}]})",
       "not a UUID"},
  };
  for (auto& r : rows) {
    SCOPED_TRACE(r.name);
    const std::string file = dir + "/bad.ptpl";
    std::ofstream(file) << r.text;
    handler_harness h;
    auto added = ptpl::add_ptpl_subsystem(h, file);
    ASSERT_FALSE(added.ok());
    EXPECT_NE(added.err().message.find(file), std::string::npos) << added.err().message;
    EXPECT_NE(added.err().message.find(r.why), std::string::npos) << added.err().message;
  }
  handler_harness h;
  auto missing_dir = ptpl::add_ptpl_subsystem(h, dir + "/no/such/dir/ns.ptpl");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_NE(missing_dir.err().message.find("does not exist"), std::string::npos);

  // One file, one namespace: a second namespace naming the same file (here through "..")
  // is refused, naming the first; two writers would overwrite each other's reservations.
  handler_harness shared;
  ASSERT_TRUE(ptpl::add_ptpl_subsystem(shared, dir + "/ns.ptpl").ok());
  auto disk = ram_bdev::create("ptpl-disk-2", 512, 256, std::nullopt);
  ASSERT_TRUE(disk.ok());
  namespace_params np;
  np.dev = *disk;
  np.ptpl_file = dir + "/../" + std::filesystem::path(dir).filename().string() + "/ns.ptpl";
  auto second = shared.target().add_namespace(ptpl::nqn, np);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.err().code, errc::already_exists);
  EXPECT_NE(second.err().message.find("is already the reservation file of " + std::string(ptpl::nqn) + " nsid 1"),
            std::string::npos)
      << second.err().message;
}

TEST(reservations_test, a_file_in_spdks_format_loads) {
  // As SPDK's nvmf_ns_reservation_update writes it (Exclusive Access, two registrants).
  const std::string text = std::string(R"({
  "ptpl": true,
  "rtype": 2,
  "crkey": 4660,
  "bdev_uuid": ")") + ptpl::bdev_id + R"(",
  "holder_uuid": ")" + id_b + R"(",
  "registrants": [
    {"rkey": 1, "host_uuid": ")" + id_a + R"("},
    {"rkey": 4660, "host_uuid": ")" + id_b + R"("}
  ]
})";
  auto rec = decode_ptpl(text, "spdk.json", *uuid::parse(ptpl::bdev_id));
  ASSERT_TRUE(rec.ok()) << rec.err().message;
  ASSERT_TRUE(*rec);
  EXPECT_EQ((*rec)->rtype, reservation_type::exclusive_access);
  EXPECT_EQ((*rec)->holder, uuid::parse(id_b));
  ASSERT_EQ((*rec)->registrants.size(), 2u);
  EXPECT_EQ((*rec)->registrants[1].rkey, 4660u);
  auto empty = decode_ptpl("", "spdk.json", *uuid::parse(ptpl::bdev_id));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(*empty) << "SPDK empties the file when PTPL is off";
}

TEST(reservations_test, a_ptpl_file_cut_at_any_length_is_refused_with_the_file_named) {
  // What a writer that is not durable could leave after a power cut: the file is refused
  // (the namespace with it), never loaded as fewer registrants. Only an empty file holds
  // nothing (SPDK's "PTPL off"); write_file_durably never leaves one for a non-empty text.
  reservation_state st;
  const uuid a = *uuid::parse(id_a), b = *uuid::parse(id_b), bdev = *uuid::parse(ptpl::bdev_id);
  st.restore({{a, 0xA}, {b, 0xB}}, reservation_type::write_exclusive, a, true);
  const std::string text = encode_ptpl(st, bdev);
  ASSERT_TRUE(decode_ptpl(text, "f.ptpl", bdev).ok());
  const size_t end = text.find_last_not_of(" \n") + 1;  // the closing brace
  for (size_t n = 1; n < end; ++n) {
    SCOPED_TRACE(n);
    auto r = decode_ptpl(text.substr(0, n), "f.ptpl", bdev);
    ASSERT_FALSE(r.ok()) << text.substr(0, n);
    EXPECT_NE(r.err().message.find("reservation file f.ptpl is not usable"), std::string::npos) << r.err().message;
  }
  for (size_t n = end; n <= text.size(); ++n) {
    auto r = decode_ptpl(text.substr(0, n), "f.ptpl", bdev);
    ASSERT_TRUE(r.ok() && *r) << "only trailing white space cut";
    EXPECT_EQ((*r)->registrants.size(), 2u);
  }
}

}  // namespace
}  // namespace nvmfd
