// Bad input on the wire. A transport violation must end that connection only: the target
// answers with a C2HTermReq whose FES and FEI name the rule and the offending field
// (src/proto/pdu_check.cc, src/target/tcp_qpair.cc on_h2c_data_header), then closes it,
// while a connection opened before keeps doing I/O. A data digest error fails only the
// command (Transient Transport Error) and the connection stays usable.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "proto/pdu_check.h"
#include "reactor/manual_time.h"
#include "target_test.h"

namespace nvmfd {
namespace {

constexpr uint32_t kib = 1024;

// How far the victim connection gets before it misbehaves.
enum class stage : uint8_t {
  tcp,        // TCP connected, no ICReq
  ic,         // ICReq/ICResp done, no Connect
  r2t,        // an enabled controller's I/O queue with a write waiting for its data
};

// The write waiting for data at stage::r2t.
struct pending_write {
  uint16_t cid = 0;
  r2t_pdu r2t{};
};

struct wire_row {
  const char* name;
  stage at;
  std::function<result<void>(test_client&, const pending_write&)> provoke;
  term_fes fes;
  uint32_t fei;
  bool hdgst = false;
  uint32_t write_len = 8 * kib;  // stage::r2t
};

constexpr term_fes invalid_header = term_fes::invalid_header_field;

// A PDU header of type S with only the common header filled in (hlen, plen as given).
template <class S>
S header(pdu_type type, uint32_t plen, uint8_t hlen = sizeof(S), uint8_t pdo = 0, uint8_t flags = 0) {
  S s{};
  s.ch.type = static_cast<uint8_t>(type);
  s.ch.flags = flags;
  s.ch.hlen = hlen;
  s.ch.pdo = pdo;
  s.ch.plen = plen;
  return s;
}

capsule_cmd_pdu keep_alive_capsule(uint32_t plen, uint8_t hlen = sizeof(capsule_cmd_pdu), uint8_t pdo = 0,
                                   uint8_t flags = 0) {
  auto c = header<capsule_cmd_pdu>(pdu_type::capsule_cmd, plen, hlen, pdo, flags);
  c.sqe = test_client::make_sqe(static_cast<uint8_t>(admin_opcode::keep_alive));
  return c;
}

ic_req_pdu ic_req(uint16_t pfv = pdu_format_version_1_0, uint8_t hpda = 0, uint32_t plen = sizeof(ic_req_pdu)) {
  auto r = header<ic_req_pdu>(pdu_type::ic_req, plen);
  r.pfv = pfv;
  r.hpda = hpda;
  return r;
}

// The rows: one per rule. FEI is the byte offset of the offending field, or 0 where the
// FES has none.
std::vector<wire_row> wire_rows() {
  using pw = const pending_write&;
  const std::vector<std::byte> four(4), page(4 * kib);
  return {
      // A PDU type the target must never receive (pdu_check may_receive).
      {"C2HData from the host", stage::ic,
       [four](test_client& c, pw) {
         auto d = header<data_pdu>(pdu_type::c2h_data, 0);
         d.datal = 4;
         d.ch.flags = pdu_flags::last_pdu;
         return c.send_pdu_struct(d, four);
       },
       invalid_header, ch_offset::type},
      {"R2T from the host", stage::ic,
       [](test_client& c, pw) {
         auto r = header<r2t_pdu>(pdu_type::r2t, 0);
         r.r2tl = 4096;
         return c.send_pdu_struct(r);
       },
       invalid_header, ch_offset::type},
      {"ICResp from the host", stage::tcp,
       [](test_client& c, pw) {
         auto r = header<ic_resp_pdu>(pdu_type::ic_resp, sizeof(ic_resp_pdu));
         r.maxh2cdata = 131072;
         return c.send_raw_struct(r);
       },
       invalid_header, ch_offset::type},
      {"CapsuleResp from the host", stage::ic,
       [](test_client& c, pw) { return c.send_pdu_struct(header<capsule_resp_pdu>(pdu_type::capsule_resp, 0)); },
       invalid_header, ch_offset::type},
      {"unknown PDU type 0x0a", stage::ic,
       [](test_client& c, pw) { return c.send_raw_struct(header<data_pdu>(pdu_type(0x0a), sizeof(data_pdu))); },
       invalid_header, ch_offset::type},
      // Header length and sequence.
      {"CapsuleCmd with HLEN 80", stage::ic,
       [](test_client& c, pw) { return c.send_raw_struct(keep_alive_capsule(80, 80)); }, invalid_header,
       ch_offset::hlen},
      {"H2CData with HLEN 16", stage::ic,
       [](test_client& c, pw) { return c.send_raw_struct(header<data_pdu>(pdu_type::h2c_data, 28, 16, 24)); },
       invalid_header, ch_offset::hlen},
      {"CapsuleCmd before ICReq", stage::tcp,
       [](test_client& c, pw) { return c.send_raw_struct(keep_alive_capsule(sizeof(capsule_cmd_pdu))); },
       term_fes::pdu_sequence_error, 0},
      {"a second ICReq", stage::ic, [](test_client& c, pw) { return c.send_raw_struct(ic_req()); },
       term_fes::pdu_sequence_error, 0},
      // ICReq contents.
      {"ICReq with PFV 1", stage::tcp, [](test_client& c, pw) { return c.send_raw_struct(ic_req(1)); },
       invalid_header, offsetof(ic_req_pdu, pfv)},
      {"ICReq with HPDA 32", stage::tcp, [](test_client& c, pw) { return c.send_raw_struct(ic_req(0, 32)); },
       invalid_header, offsetof(ic_req_pdu, hpda)},
      {"ICReq with PLEN 132", stage::tcp,
       [](test_client& c, pw) {
         std::vector<std::byte> b(132);
         encode_wire(ic_req(0, 0, 132), b);
         return c.send_raw(b);
       },
       invalid_header, ch_offset::plen},
      // Digests.
      {"wrong header digest", stage::ic,
       [](test_client& c, pw) {
         capsule_cmd_pdu cmd = keep_alive_capsule(0);
         return c.send_pdu_struct(cmd, {}, pdu_tweaks{.bad_header_digest = true});
       },
       term_fes::header_digest_error, 0, /*hdgst=*/true},
      {"HDGSTF missing although header digests were negotiated", stage::ic,
       [](test_client& c, pw) { return c.send_raw_struct(keep_alive_capsule(sizeof(capsule_cmd_pdu))); },
       invalid_header, ch_offset::flags, /*hdgst=*/true},
      // PDO / PLEN consistency.
      {"PDO at or past PLEN", stage::ic,
       [](test_client& c, pw) {
         std::vector<std::byte> b(88);
         encode_wire(keep_alive_capsule(88, sizeof(capsule_cmd_pdu), 100), b);
         return c.send_raw(b);
       },
       invalid_header, ch_offset::pdo},
      {"PDO inside the header", stage::ic,
       [](test_client& c, pw) {
         std::vector<std::byte> b(88);
         encode_wire(keep_alive_capsule(88, sizeof(capsule_cmd_pdu), 64), b);
         return c.send_raw(b);
       },
       invalid_header, ch_offset::pdo},
      {"PLEN shorter than HLEN", stage::ic,
       [](test_client& c, pw) { return c.send_raw_struct(keep_alive_capsule(40)); }, invalid_header,
       ch_offset::plen},
      {"H2CData without data", stage::ic,
       [](test_client& c, pw) { return c.send_raw_struct(header<data_pdu>(pdu_type::h2c_data, sizeof(data_pdu))); },
       invalid_header, ch_offset::plen},
      // H2CData against the R2T it answers (tcp_qpair on_h2c_data_header).
      {"H2CData with a wrong TTAG", stage::r2t,
       [page](test_client& c, pw w) {
         return c.send_h2c_data(w.cid, static_cast<uint16_t>(w.r2t.ttag.get() + 1), 0, page, false);
       },
       invalid_header, offsetof(data_pdu, ttag)},
      {"H2CData with TTAG 0xffff", stage::r2t,
       [page](test_client& c, pw w) { return c.send_h2c_data(w.cid, 0xffff, 0, page, false); }, invalid_header,
       offsetof(data_pdu, ttag)},
      {"H2CData with a wrong CCCID", stage::r2t,
       [page](test_client& c, pw w) {
         return c.send_h2c_data(static_cast<uint16_t>(w.cid + 1), w.r2t.ttag.get(), 0, page, false);
       },
       invalid_header, offsetof(data_pdu, cccid)},
      {"H2CData DATAO skips ahead of the data received", stage::r2t,
       [page](test_client& c, pw w) { return c.send_h2c_data(w.cid, w.r2t.ttag.get(), 4 * kib, page, true); },
       term_fes::data_transfer_out_of_range, offsetof(data_pdu, datao)},
      {"H2CData DATAO repeats data already received", stage::r2t,
       [page](test_client& c, pw w) {
         if (auto r = c.send_h2c_data(w.cid, w.r2t.ttag.get(), 0, page, false); !r) return r;
         return c.send_h2c_data(w.cid, w.r2t.ttag.get(), 0, page, true);
       },
       term_fes::data_transfer_out_of_range, offsetof(data_pdu, datao)},
      {"H2CData DATAL beyond the R2T", stage::r2t,
       [](test_client& c, pw w) {
         std::vector<std::byte> more(w.r2t.r2tl.get() + 4 * kib);
         return c.send_h2c_data(w.cid, w.r2t.ttag.get(), 0, more, true);
       },
       term_fes::data_transfer_out_of_range, offsetof(data_pdu, datal)},
      {"H2CData DATAL beyond MAXH2CDATA", stage::r2t,
       [](test_client& c, pw w) {
         std::vector<std::byte> big(w.r2t.r2tl.get());
         return c.send_h2c_data(w.cid, w.r2t.ttag.get(), 0, big, true);
       },
       term_fes::r2t_limit_exceeded, 0, false, 256 * kib},
      {"H2CData LAST_PDU before the end of the R2T", stage::r2t,
       [page](test_client& c, pw w) { return c.send_h2c_data(w.cid, w.r2t.ttag.get(), 0, page, true); },
       invalid_header, ch_offset::flags},
  };
}

class wire_error_test : public target_test {
 protected:
  // A controller that must keep working while other connections misbehave.
  void SetUp() override {
    target_test::SetUp();
    if (HasFatalFailure()) return;
    auto h = connect_controller();
    ASSERT_TRUE(ok(h));
    bystander_.emplace(std::move(h.value()));
  }
  void TearDown() override {
    bystander_.reset();
    target_test::TearDown();
  }

  // Write and read back on the bystander's I/O queue.
  void expect_bystander_works(uint32_t seed) {
    ASSERT_TRUE(bystander_.has_value());
    auto data = random_bytes(16 * kib, seed);
    const uint64_t slba = 4096 + uint64_t{seed % 64} * 32;
    EXPECT_TRUE(succeeded(bystander_->io.write(target_fixture::ns_512, slba, data, 512, write_mode::r2t)));
    auto r = bystander_->io.read(target_fixture::ns_512, slba, 32, 512);
    ASSERT_TRUE(succeeded(r));
    EXPECT_TRUE(r->data == data);
    EXPECT_TRUE(succeeded(bystander_->admin.keep_alive()));
  }

  std::optional<test_controller> bystander_;
};

TEST_F(wire_error_test, each_violation_gets_a_term_req_naming_the_field_then_close) {
  uint32_t seed = 1;
  for (const auto& row : wire_rows()) {
    SCOPED_TRACE(row.name);
    client_options o;
    o.hdgst = row.hdgst;
    std::optional<test_controller> ctrl;
    test_client plain(o);
    test_client* victim = &plain;
    pending_write w;
    switch (row.at) {
      case stage::tcp:
        ASSERT_TRUE(ok(plain.open(addr(), port())));
        break;
      case stage::ic:
        ASSERT_TRUE(ok(plain.connect(addr(), port())));
        ASSERT_EQ(plain.header_digest(), row.hdgst);
        break;
      case stage::r2t: {
        auto h = connect_controller(o);
        ASSERT_TRUE(ok(h));
        ctrl.emplace(std::move(h.value()));
        victim = &ctrl->io;
        auto sqe = test_client::make_rw_sqe(io_opcode::write, target_fixture::ns_512, 0, row.write_len / 512);
        test_client::set_sgl_transport(sqe, row.write_len);
        auto cid = victim->submit(sqe);  // manual R2T
        ASSERT_TRUE(ok(cid));
        auto r2t = victim->wait_r2t(*cid);
        ASSERT_TRUE(ok(r2t));
        ASSERT_EQ(r2t->r2tl.get(), row.write_len);
        w = {*cid, *r2t};
        break;
      }
    }
    ASSERT_TRUE(ok(row.provoke(*victim, w)));
    auto t = victim->expect_term_req_and_close();
    ASSERT_TRUE(ok(t));
    EXPECT_EQ(t->fes.get(), static_cast<uint16_t>(row.fes));
    EXPECT_EQ(t->fei.get(), row.fei);
    expect_bystander_works(seed++);
  }
}

// The TermReq echoes the offending header (NVMe/TCP 3.6.2.9: up to the whole header).
TEST_F(wire_error_test, term_req_carries_the_offending_header) {
  test_client c;
  ASSERT_TRUE(ok(c.open(addr(), port())));
  const auto bad = ic_req(7);
  ASSERT_TRUE(ok(c.send_raw_struct(bad)));
  auto p = c.recv_pdu();
  ASSERT_TRUE(ok(p));
  ASSERT_EQ(p->type(), pdu_type::c2h_term_req);
  EXPECT_EQ(p->ch().hlen, sizeof(term_req_pdu));
  EXPECT_EQ(p->ch().plen.get(), sizeof(term_req_pdu) + p->data.size());
  ASSERT_EQ(p->data.size(), sizeof(ic_req_pdu));
  auto echoed = wire_bytes(bad);
  EXPECT_TRUE(std::equal(p->data.begin(), p->data.end(), echoed.begin()));
  EXPECT_TRUE(ok(c.wait_closed()));
}

TEST_F(wire_error_test, more_commands_than_the_queue_holds_is_a_term_req) {
  auto h = test_controller::connect([&] {
    auto p = params();
    p.io_sqsize = 7;  // 8 entries
    return p;
  }());
  ASSERT_TRUE(ok(h));
  // Eight writes waiting for their data hold all eight slots.
  for (int i = 0; i < 8; ++i) {
    auto sqe = test_client::make_rw_sqe(io_opcode::write, target_fixture::ns_512, uint64_t(i) * 8, 8);
    test_client::set_sgl_transport(sqe, 4 * kib);
    auto cid = h->io.submit(sqe);
    ASSERT_TRUE(ok(cid));
    ASSERT_TRUE(ok(h->io.wait_r2t(*cid))) << "command " << i << " fits in the queue";
  }
  ASSERT_TRUE(ok(h->io.submit(test_client::make_sqe(static_cast<uint8_t>(io_opcode::flush), 1))));
  auto t = h->io.expect_term_req_and_close();
  ASSERT_TRUE(ok(t));
  EXPECT_EQ(t->fes.get(), static_cast<uint16_t>(term_fes::pdu_sequence_error));
  EXPECT_EQ(t->fei.get(), 0u);
  expect_bystander_works(77);
}

TEST_F(wire_error_test, data_digest_error_fails_only_the_command) {
  client_options o;
  o.ddgst = true;
  auto h = connect_controller(o);
  ASSERT_TRUE(ok(h));
  ASSERT_TRUE(h->io.data_digest());
  const auto transient = nvme_status::generic(sc_generic::transient_transport_error);

  // In-capsule data.
  auto data = random_bytes(4 * kib, 21);
  auto sqe = test_client::make_rw_sqe(io_opcode::write, target_fixture::ns_512, 0, 8);
  test_client::set_sgl_in_capsule(sqe, 4 * kib);
  auto cid = h->io.submit(sqe, data, {}, 0, pdu_tweaks{.bad_data_digest = true});
  ASSERT_TRUE(ok(cid));
  EXPECT_TRUE(has_status(h->io.wait(*cid), transient));
  auto r = h->io.read(target_fixture::ns_512, 0, 8, 512);
  ASSERT_TRUE(succeeded(r));
  EXPECT_TRUE(all_zero(r->data)) << "data that failed its digest must not be written";

  // H2CData: the second of two PDUs is damaged.
  auto big = random_bytes(8 * kib, 22);
  auto w = test_client::make_rw_sqe(io_opcode::write, target_fixture::ns_512, 64, 16);
  test_client::set_sgl_transport(w, 8 * kib);
  auto wcid = h->io.submit(w);
  ASSERT_TRUE(ok(wcid));
  auto r2t = h->io.wait_r2t(*wcid);
  ASSERT_TRUE(ok(r2t));
  std::span<const std::byte> all(big);
  ASSERT_TRUE(ok(h->io.send_h2c_data(*wcid, r2t->ttag.get(), 0, all.first(4 * kib), false)));
  ASSERT_TRUE(ok(h->io.send_h2c_data(*wcid, r2t->ttag.get(), 4 * kib, all.subspan(4 * kib), true,
                                     pdu_tweaks{.bad_data_digest = true})));
  EXPECT_TRUE(has_status(h->io.wait(*wcid), transient));

  // The connection is still good.
  EXPECT_TRUE(succeeded(h->io.write(target_fixture::ns_512, 0, data, 512, write_mode::in_capsule)));
  EXPECT_TRUE(succeeded(h->io.write(target_fixture::ns_512, 64, big, 512, write_mode::r2t)));
  auto back = h->io.read(target_fixture::ns_512, 64, 16, 512);
  ASSERT_TRUE(succeeded(back));
  EXPECT_TRUE(back->data == big);
}

TEST_F(wire_error_test, sqhd_advances_by_one_per_command_and_wraps) {
  auto p = params();
  p.io_sqsize = 7;  // 8 entries
  auto h = test_controller::connect(p);
  ASSERT_TRUE(ok(h));
  auto first = h->io.read(target_fixture::ns_512, 0, 1, 512);
  ASSERT_TRUE(succeeded(first));
  const uint32_t base = first->cpl.cqe.sqhd.get();
  EXPECT_LT(base, 8u);
  for (uint32_t i = 1; i <= 20; ++i) {
    auto r = i % 2 ? h->io.read(target_fixture::ns_512, 0, 1, 512) : h->io.flush(target_fixture::ns_512);
    ASSERT_TRUE(succeeded(r));
    EXPECT_EQ(r->cpl.cqe.sqhd.get(), (base + i) % 8) << "command " << i;
    EXPECT_EQ(r->cpl.cqe.sqid.get(), 1);
  }
}

// SQHD tells the host which submission queue entries it may reuse (NVMe Base 2.0 4.6). A
// capsule whose data digest fails was consumed like any other, so the head advances past it
// too (once a bug: only a started command advanced it, and every later completion then
// reported one entry fewer consumed).
TEST_F(wire_error_test, sqhd_advances_past_a_command_failed_by_its_data_digest) {
  client_options o;
  o.ddgst = true;
  auto h = connect_controller(o);
  ASSERT_TRUE(ok(h));
  const uint32_t qsize = 128;  // io_sqsize 127
  auto first = h->io.read(target_fixture::ns_512, 0, 1, 512);
  ASSERT_TRUE(succeeded(first));
  const uint32_t base = first->cpl.cqe.sqhd.get();

  auto data = random_bytes(4 * kib, 31);
  auto sqe = test_client::make_rw_sqe(io_opcode::write, target_fixture::ns_512, 0, 8);
  test_client::set_sgl_in_capsule(sqe, 4 * kib);
  auto cid = h->io.submit(sqe, data, {}, 0, pdu_tweaks{.bad_data_digest = true});
  ASSERT_TRUE(ok(cid));
  auto bad = h->io.wait(*cid);
  ASSERT_TRUE(has_status(bad, nvme_status::generic(sc_generic::transient_transport_error)));
  auto next = h->io.read(target_fixture::ns_512, 0, 1, 512);
  ASSERT_TRUE(succeeded(next));
  EXPECT_EQ(bad->cpl.cqe.sqhd.get(), (base + 1) % qsize) << "the failed capsule was consumed";
  EXPECT_EQ(next->cpl.cqe.sqhd.get(), (base + 2) % qsize);
}

TEST_F(wire_error_test, garbage_after_connect_ends_that_connection_only) {
  const std::string http = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  struct row {
    const char* name;
    std::vector<std::byte> bytes;
    bool after_ic;
  };
  std::vector<row> rows{
      {"HTTP request", std::vector<std::byte>(reinterpret_cast<const std::byte*>(http.data()),
                                              reinterpret_cast<const std::byte*>(http.data() + http.size())),
       false},
      {"random bytes", random_bytes(4096, 99), false},
      {"random bytes after ICReq", random_bytes(4096, 98), true},
      {"zeroes", std::vector<std::byte>(512), false},
  };
  for (const auto& r : rows) {
    SCOPED_TRACE(r.name);
    test_client c;
    ASSERT_TRUE(ok(r.after_ic ? c.connect(addr(), port()) : c.open(addr(), port())));
    ASSERT_TRUE(ok(c.send_raw(r.bytes)));
    // A TermReq (whatever it names) or a plain close; never silence.
    auto p = c.recv_pdu();
    if (p) EXPECT_EQ(p->type(), pdu_type::c2h_term_req);
    else EXPECT_EQ(p.err().code, errc::closed) << p.err().message;
    EXPECT_TRUE(ok(c.wait_closed()));
    // A new connection is served.
    test_client fresh;
    EXPECT_TRUE(ok(connect_admin_queue(fresh, addr(), port(), std::string(target_fixture::open_nqn))));
    expect_bystander_works(200 + static_cast<uint32_t>(r.bytes.size() % 50));
  }
}

TEST_F(wire_error_test, h2c_term_req_from_the_host_closes_the_connection) {
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  auto t = header<term_req_pdu>(pdu_type::h2c_term_req, sizeof(term_req_pdu));
  t.fes = static_cast<uint16_t>(term_fes::invalid_header_field);
  t.fei = 0;
  ASSERT_TRUE(ok(h->io.send_raw_struct(t)));
  EXPECT_TRUE(ok(h->io.wait_closed()));
  expect_bystander_works(300);
}

// After its TermReq the target shuts its sending side and drains what the host still sends,
// for 1 s of reactor time: then it closes the connection (and frees the queue ID) even if
// the host never closes its side. On the manual clock, so the second is exact.
class term_req_drain_test : public target_test {
 protected:
  time_source* time() override { return &clock; }
  manual_time clock;
};

TEST_F(term_req_drain_test, a_host_that_keeps_the_connection_open_is_closed_after_one_second) {
  using namespace std::chrono_literals;
  auto h = connect_controller();
  ASSERT_TRUE(ok(h));
  ASSERT_TRUE(ok(h->io.send_raw(random_bytes(64, 4))));
  ASSERT_TRUE(ok(h->io.expect_term_req_and_close()));  // the target's FIN; our side stays open
  settle(fx->target().reactors());  // the drain timer is set (just after the FIN went out)
  auto qid1_free = [&] {
    test_client again;
    return io_queue_1_connects(again, h->cntlid);
  };
  clock.advance(900ms);
  settle(fx->target().reactors());  // whatever became due has run
  EXPECT_FALSE(qid1_free()) << "closed before the drain time";
  clock.advance(200ms);
  EXPECT_TRUE(wait_until(qid1_free)) << "still open 1.1 s after the TermReq";
}

}  // namespace
}  // namespace nvmfd
