#include "proto/pdu_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/crc32c.h"
#include "proto/wire.h"

namespace nvmfd {
namespace {

using pt = pdu_type;
namespace f = pdu_flags;

pdu_common_header ch(pt type, uint8_t flags, uint8_t hlen, uint8_t pdo, uint32_t plen) {
  pdu_common_header h{};
  h.type = static_cast<uint8_t>(type);
  h.flags = flags;
  h.hlen = hlen;
  h.pdo = pdo;
  h.plen = plen;
  return h;
}

pdu_check_params target(bool hd = false, bool dd = false, uint8_t cpda = 0) {
  return {pdu_role::target, true, hd, dd, cpda, 65536};
}
pdu_check_params host(bool hd = false, bool dd = false) {
  return {pdu_role::host, true, hd, dd, 0, 65536};
}

constexpr term_error ihf(uint32_t fei) { return {term_fes::invalid_header_field, fei}; }
constexpr term_error seq{term_fes::pdu_sequence_error, 0};
constexpr term_error limit{term_fes::r2t_limit_exceeded, 0};

struct row {
  const char* name;
  pdu_common_header h;
  pdu_check_params p;
  std::optional<term_error> want;
};

std::string describe(const std::optional<term_error>& e) {
  if (!e) return "ok";
  return "fes " + std::to_string(int(e->fes)) + " fei " + std::to_string(e->fei);
}

TEST(check_common_header, table) {
  auto pre = target();
  pre.connected = false;
  auto pre_host = host();
  pre_host.connected = false;
  const std::vector<row> rows{
      // type
      {"icreq before connect", ch(pt::ic_req, 0, 128, 0, 128), pre, {}},
      {"icresp to target", ch(pt::ic_resp, 0, 128, 0, 128), pre, ihf(0)},
      {"unknown type 0x08", ch(pt(0x08), 0, 24, 0, 24), target(), ihf(0)},
      {"unknown type 0xff", ch(pt(0xff), 0, 24, 0, 24), target(), ihf(0)},
      {"r2t to target", ch(pt::r2t, 0, 24, 0, 24), target(), ihf(0)},
      {"capsule_cmd to host", ch(pt::capsule_cmd, 0, 72, 0, 72), host(), ihf(0)},
      {"c2h_term to target", ch(pt::c2h_term_req, 0, 24, 0, 24), target(), ihf(0)},
      {"h2c_term to host", ch(pt::h2c_term_req, 0, 24, 0, 24), host(), ihf(0)},
      // sequence
      {"capsule before icreq", ch(pt::capsule_cmd, 0, 72, 0, 72), pre, seq},
      {"h2c_data before icreq", ch(pt::h2c_data, 0, 24, 24, 28), pre, seq},
      {"second icreq", ch(pt::ic_req, 0, 128, 0, 128), target(), seq},
      {"second icresp", ch(pt::ic_resp, 0, 128, 0, 128), host(), seq},
      {"icresp before connect", ch(pt::ic_resp, 0, 128, 0, 128), pre_host, {}},
      {"capsule_resp before icresp", ch(pt::capsule_resp, 0, 24, 0, 24), pre_host, seq},
      {"term req before connect", ch(pt::h2c_term_req, 0, 24, 0, 48), pre, {}},
      {"term req to host before connect", ch(pt::c2h_term_req, 0, 24, 0, 24), pre_host, {}},
      // hlen
      {"icreq hlen", ch(pt::ic_req, 0, 127, 0, 128), pre, ihf(2)},
      {"capsule hlen", ch(pt::capsule_cmd, 0, 24, 0, 72), target(), ihf(2)},
      {"h2c_data hlen", ch(pt::h2c_data, 0, 72, 72, 76), target(), ihf(2)},
      {"capsule_resp hlen", ch(pt::capsule_resp, 0, 16, 0, 24), host(), ihf(2)},
      // ICReq/TermReq plen, flags and pdo ignored
      {"icreq plen short", ch(pt::ic_req, 0, 128, 0, 127), pre, ihf(4)},
      {"icreq plen long", ch(pt::ic_req, 0, 128, 0, 132), pre, ihf(4)},
      {"icreq flags ignored", ch(pt::ic_req, 0xff, 128, 7, 128), pre, {}},
      {"term plen min", ch(pt::h2c_term_req, 0, 24, 0, 24), target(), {}},
      {"term plen max", ch(pt::h2c_term_req, 0, 24, 0, 152), target(true, true), {}},
      {"term plen too long", ch(pt::h2c_term_req, 0, 24, 0, 153), target(), ihf(4)},
      {"term plen short", ch(pt::h2c_term_req, 0, 24, 0, 23), target(), ihf(4)},
      {"c2h term plen", ch(pt::c2h_term_req, f::hdgstf, 24, 0, 100), host(), {}},
      // capsule_cmd without data
      {"capsule plain", ch(pt::capsule_cmd, 0, 72, 0, 72), target(), {}},
      {"capsule pdo reserved", ch(pt::capsule_cmd, 0, 72, 9, 72), target(), {}},
      {"capsule hdgst", ch(pt::capsule_cmd, f::hdgstf, 72, 0, 76), target(true), {}},
      {"capsule hdgstf missing", ch(pt::capsule_cmd, 0, 72, 0, 76), target(true), ihf(1)},
      {"capsule hdgstf unneg.", ch(pt::capsule_cmd, f::hdgstf, 72, 0, 76), target(), ihf(1)},
      {"capsule ddgstf no data", ch(pt::capsule_cmd, f::ddgstf, 72, 0, 72), target(false, true),
       ihf(1)},
      {"capsule no data, ddgst on", ch(pt::capsule_cmd, 0, 72, 0, 72), target(false, true), {}},
      {"capsule last_pdu flag", ch(pt::capsule_cmd, f::last_pdu, 72, 0, 72), target(), ihf(1)},
      {"capsule bit 7", ch(pt::capsule_cmd, 0x80, 72, 0, 72), target(), ihf(1)},
      {"capsule plen short", ch(pt::capsule_cmd, 0, 72, 0, 71), target(), ihf(4)},
      {"capsule plen < hdgst", ch(pt::capsule_cmd, f::hdgstf, 72, 0, 74), target(true), ihf(4)},
      // capsule_cmd with in-capsule data
      {"capsule data", ch(pt::capsule_cmd, 0, 72, 72, 72 + 1024), target(), {}},
      {"capsule data digests",
       ch(pt::capsule_cmd, f::hdgstf | f::ddgstf, 72, 76, 76 + 1024 + 4), target(true, true), {}},
      {"capsule ddgstf missing", ch(pt::capsule_cmd, f::hdgstf, 72, 76, 76 + 1024 + 4),
       target(true, true), ihf(1)},
      {"capsule ddgstf unneg.", ch(pt::capsule_cmd, f::ddgstf, 72, 72, 72 + 1024 + 4), target(),
       ihf(1)},
      {"capsule pdo 0 with data", ch(pt::capsule_cmd, 0, 72, 0, 72 + 8), target(), ihf(3)},
      {"capsule pdo inside header", ch(pt::capsule_cmd, 0, 72, 68, 72 + 8), target(), ihf(3)},
      {"capsule pdo inside hdgst", ch(pt::capsule_cmd, f::hdgstf, 72, 72, 76 + 8), target(true),
       ihf(3)},
      {"capsule pdo unaligned", ch(pt::capsule_cmd, 0, 72, 74, 72 + 8), target(), ihf(3)},
      {"capsule pdo padded ok", ch(pt::capsule_cmd, 0, 72, 80, 80 + 8), target(), {}},
      {"capsule cpda 31 aligned", ch(pt::capsule_cmd, 0, 72, 128, 128 + 8), target(false, false, 31),
       {}},
      {"capsule cpda 31 minimal pdo", ch(pt::capsule_cmd, 0, 72, 72, 72 + 8),
       target(false, false, 31), ihf(3)},
      {"capsule cpda 1", ch(pt::capsule_cmd, 0, 72, 80, 80 + 8), target(false, false, 1), {}},
      {"capsule cpda 1 bad", ch(pt::capsule_cmd, 0, 72, 76, 76 + 8), target(false, false, 1),
       ihf(3)},
      {"capsule pdo past plen", ch(pt::capsule_cmd, 0, 72, 200, 80), target(), ihf(3)},
      {"capsule only ddgst after pdo", ch(pt::capsule_cmd, f::ddgstf, 72, 72, 76),
       target(false, true), ihf(4)},
      {"capsule at data limit", ch(pt::capsule_cmd, 0, 72, 72, 72 + 65536), target(), {}},
      {"capsule over data limit", ch(pt::capsule_cmd, 0, 72, 72, 72 + 65537), target(), limit},
      {"capsule huge plen", ch(pt::capsule_cmd, 0, 72, 72, 0xffffffffu), target(), limit},
      // h2c_data
      {"h2c data", ch(pt::h2c_data, f::last_pdu, 24, 24, 24 + 4096), target(), {}},
      {"h2c data digests", ch(pt::h2c_data, 7, 24, 28, 28 + 4096 + 4), target(true, true), {}},
      {"h2c no data", ch(pt::h2c_data, 0, 24, 0, 24), target(), ihf(4)},
      {"h2c success flag", ch(pt::h2c_data, f::success | f::last_pdu, 24, 24, 28), target(),
       ihf(1)},
      {"h2c over limit", ch(pt::h2c_data, 0, 24, 24, 24 + 65537), target(), limit},
      {"h2c pdo 0", ch(pt::h2c_data, 0, 24, 0, 28), target(), ihf(3)},
      // host side
      {"capsule_resp", ch(pt::capsule_resp, 0, 24, 0, 24), host(), {}},
      {"capsule_resp hdgst", ch(pt::capsule_resp, f::hdgstf, 24, 0, 28), host(true), {}},
      {"capsule_resp with data", ch(pt::capsule_resp, 0, 24, 24, 32), host(), ihf(4)},
      {"capsule_resp ddgstf", ch(pt::capsule_resp, f::ddgstf, 24, 0, 24), host(false, true),
       ihf(1)},
      {"r2t", ch(pt::r2t, 0, 24, 0, 24), host(), {}},
      {"r2t with data", ch(pt::r2t, 0, 24, 24, 28), host(), ihf(4)},
      {"r2t last_pdu", ch(pt::r2t, f::last_pdu, 24, 0, 24), host(), ihf(1)},
      {"c2h data success", ch(pt::c2h_data, f::last_pdu | f::success, 24, 24, 24 + 512), host(), {}},
      {"c2h success not last", ch(pt::c2h_data, f::success, 24, 24, 24 + 512), host(), ihf(1)},
      {"c2h digests", ch(pt::c2h_data, 3, 24, 28, 28 + 512 + 4), host(true, true), {}},
      {"c2h over limit", ch(pt::c2h_data, 0, 24, 24, 24 + 70000), host(), limit},
  };
  for (const auto& r : rows) {
    const auto got = check_common_header(r.h, r.p);
    EXPECT_EQ(got, r.want) << r.name << ": got " << describe(got) << ", want " << describe(r.want);
  }
}

TEST(pdu_lengths, data_padding_digests) {
  auto h = ch(pt::capsule_cmd, f::hdgstf | f::ddgstf, 72, 128, 128 + 1000 + 4);
  EXPECT_EQ(pdu_data_length(h, true, true), 1000u);
  EXPECT_EQ(pdu_padding(h, true), 128u - 76);
  EXPECT_TRUE(pdu_has_header_digest(h, true));
  EXPECT_TRUE(pdu_has_data_digest(h, true, true));

  h = ch(pt::capsule_cmd, 0, 72, 0, 72);
  EXPECT_EQ(pdu_data_length(h, false, true), 0u);
  EXPECT_EQ(pdu_padding(h, false), 0u);
  EXPECT_FALSE(pdu_has_data_digest(h, false, true));

  h = ch(pt::h2c_data, 0, 24, 24, 24 + 8);
  EXPECT_EQ(pdu_data_length(h, false, false), 8u);
  EXPECT_EQ(pdu_padding(h, false), 0u);

  h = ch(pt::h2c_term_req, f::hdgstf | f::ddgstf, 24, 0, 24 + 72);
  EXPECT_EQ(pdu_data_length(h, true, true), 72u);  // the echoed header, no digests
  EXPECT_EQ(pdu_padding(h, true), 0u);
  EXPECT_FALSE(pdu_has_header_digest(h, true));
  EXPECT_FALSE(pdu_has_data_digest(h, true, true));

  h = ch(pt::ic_req, 0, 128, 0, 128);
  EXPECT_EQ(pdu_data_length(h, true, true), 0u);
  EXPECT_FALSE(pdu_has_header_digest(h, true));

  EXPECT_EQ(pdu_data_offset(72, false, 0), 72);
  EXPECT_EQ(pdu_data_offset(72, true, 0), 76);
  EXPECT_EQ(pdu_data_offset(24, true, 1), 32);
  EXPECT_EQ(pdu_data_offset(72, true, 31), 128);
}

TEST(check_header_digest, good_bad_short) {
  capsule_cmd_pdu c{};
  c.ch = ch(pt::capsule_cmd, f::hdgstf, 72, 0, 76);
  c.sqe.cid = 0x1234;
  std::vector<std::byte> buf(76);
  encode_wire(c, buf);
  put_header_digest(buf, 72);
  EXPECT_EQ(load_wire<le32>(buf.data() + 72).get(), crc32c(buf.data(), 72));
  EXPECT_FALSE(check_header_digest(buf, 72));
  for (size_t len = 0; len < buf.size(); ++len)
    EXPECT_EQ(check_header_digest(std::span<const std::byte>(buf).first(len), 72),
              (term_error{term_fes::header_digest_error, 0}));
  buf[10] ^= std::byte{1};
  EXPECT_EQ(check_header_digest(buf, 72), (term_error{term_fes::header_digest_error, 0}));
  buf[10] ^= std::byte{1};
  buf[74] ^= std::byte{0x80};
  EXPECT_TRUE(check_header_digest(buf, 72));
}

ic_req_pdu good_ic_req() {
  ic_req_pdu r{};
  r.ch = ch(pt::ic_req, 0, 128, 0, 128);
  r.pfv = 0;
  r.hpda = 0;
  r.dgst = dgst_bits::hdgst | dgst_bits::ddgst;
  r.maxr2t = 0xffffffff;
  return r;
}

TEST(check_ic_req, rules) {
  auto r = good_ic_req();
  EXPECT_FALSE(check_ic_req(r));
  r.hpda = 31;
  EXPECT_FALSE(check_ic_req(r));
  r.hpda = 32;
  EXPECT_EQ(check_ic_req(r), ihf(10));
  r = good_ic_req();
  r.pfv = 1;
  EXPECT_EQ(check_ic_req(r), ihf(8));
  r = good_ic_req();
  r.dgst = 0xff;  // reserved bits ignored
  EXPECT_FALSE(check_ic_req(r));
}

TEST(check_ic_resp, rules) {
  ic_resp_pdu r{};
  r.ch = ch(pt::ic_resp, 0, 128, 0, 128);
  r.dgst = dgst_bits::hdgst;
  r.maxh2cdata = 131072;
  EXPECT_FALSE(check_ic_resp(r, dgst_bits::hdgst | dgst_bits::ddgst));
  EXPECT_EQ(check_ic_resp(r, 0), ihf(11));
  r.maxh2cdata = 4095;
  EXPECT_EQ(check_ic_resp(r, 3), ihf(12));
  r.maxh2cdata = 4098;
  EXPECT_EQ(check_ic_resp(r, 3), ihf(12));
  r.maxh2cdata = 4096;
  r.cpda = 32;
  EXPECT_EQ(check_ic_resp(r, 3), ihf(10));
  r.cpda = 0;
  r.pfv = 2;
  EXPECT_EQ(check_ic_resp(r, 3), ihf(8));
}

TEST(check_common_header, decode_truncation) {
  const auto h = ch(pt::capsule_cmd, 0, 72, 0, 72);
  std::vector<std::byte> buf(sizeof h);
  encode_wire(h, buf);
  for (size_t len = 0; len < buf.size(); ++len)
    EXPECT_FALSE(decode_wire<pdu_common_header>(std::span<const std::byte>(buf).first(len)));
  auto d = decode_wire<pdu_common_header>(buf);
  ASSERT_TRUE(d);
  EXPECT_FALSE(check_common_header(*d, target()));
}

}  // namespace
}  // namespace nvmfd
