#include "proto/pdu_check.h"

#include <cstring>

#include "base/crc32c.h"

namespace nvmfd {

namespace {

constexpr term_error invalid_field(uint32_t offset) {
  return {term_fes::invalid_header_field, offset};
}

bool may_receive(pdu_role role, uint8_t raw) {
  switch (static_cast<pdu_type>(raw)) {
    case pdu_type::ic_req:
    case pdu_type::h2c_term_req:
    case pdu_type::capsule_cmd:
    case pdu_type::h2c_data:
      return role == pdu_role::target;
    case pdu_type::ic_resp:
    case pdu_type::c2h_term_req:
    case pdu_type::capsule_resp:
    case pdu_type::c2h_data:
    case pdu_type::r2t:
      return role == pdu_role::host;
  }
  return false;
}

enum class data_rule : uint8_t { none, optional, required };

struct type_rules {
  uint8_t flags;     // flag bits defined for the type
  data_rule data;
};

constexpr type_rules rules_for(pdu_type t) {
  using namespace pdu_flags;
  switch (t) {
    case pdu_type::capsule_cmd: return {hdgstf | ddgstf, data_rule::optional};
    case pdu_type::capsule_resp: return {hdgstf, data_rule::none};
    case pdu_type::h2c_data: return {hdgstf | ddgstf | last_pdu, data_rule::required};
    case pdu_type::c2h_data: return {hdgstf | ddgstf | last_pdu | success, data_rule::required};
    case pdu_type::r2t: return {hdgstf, data_rule::none};
    default: return {0, data_rule::none};
  }
}

constexpr bool is_term_req(pdu_type t) {
  return t == pdu_type::h2c_term_req || t == pdu_type::c2h_term_req;
}
constexpr bool is_ic(pdu_type t) { return t == pdu_type::ic_req || t == pdu_type::ic_resp; }

}  // namespace

std::optional<term_error> check_common_header(const pdu_common_header& ch,
                                              const pdu_check_params& p) {
  if (!may_receive(p.role, ch.type)) return invalid_field(ch_offset::type);
  const auto type = static_cast<pdu_type>(ch.type);
  const bool ic = is_ic(type), term = is_term_req(type);

  // NVMe/TCP 3.3: ICReq/ICResp first and only once; TermReq at any time.
  if (!term && ic == p.connected) return term_error{term_fes::pdu_sequence_error, 0};

  const uint8_t hlen = pdu_header_length(type);
  if (ch.hlen != hlen) return invalid_field(ch_offset::hlen);

  const uint32_t plen = ch.plen.get();
  if (ic) {
    if (plen != hlen) return invalid_field(ch_offset::plen);
    return std::nullopt;
  }
  if (term) {
    if (plen < hlen || plen > hlen + max_term_req_data) return invalid_field(ch_offset::plen);
    return std::nullopt;
  }

  const type_rules r = rules_for(type);
  if (ch.flags & ~r.flags) return invalid_field(ch_offset::flags);
  if (((ch.flags & pdu_flags::hdgstf) != 0) != p.hdgst) return invalid_field(ch_offset::flags);

  const uint32_t hd = p.hdgst ? digest_len : 0, dd = p.ddgst ? digest_len : 0;
  const uint32_t header_end = uint32_t{hlen} + hd;
  if (plen < header_end) return invalid_field(ch_offset::plen);
  const bool has_data = plen > header_end;
  if (has_data ? r.data == data_rule::none : r.data == data_rule::required)
    return invalid_field(ch_offset::plen);

  if (((ch.flags & pdu_flags::ddgstf) != 0) != (p.ddgst && has_data))
    return invalid_field(ch_offset::flags);
  // 3.6.2.8: SUCCESS is only valid in the last C2HData PDU of a command.
  if ((ch.flags & pdu_flags::success) && !(ch.flags & pdu_flags::last_pdu))
    return invalid_field(ch_offset::flags);

  if (!has_data) return std::nullopt;  // pdo is reserved without data

  // 3.5.2: data starts at pdo, after the header, its digest and alignment padding.
  // Linux nvmet ignores pdo (assumes hlen + hdgst); SPDK checks alignment only if cpda > 0.
  const uint32_t pdo = ch.pdo;
  const uint32_t align = (uint32_t{p.cpda} + 1) * 4;
  if (pdo < header_end || pdo % align != 0 || pdo >= plen) return invalid_field(ch_offset::pdo);
  if (plen - pdo <= dd) return invalid_field(ch_offset::plen);

  const uint32_t data = plen - pdo - dd;
  if (data > p.max_data) return term_error{term_fes::r2t_limit_exceeded, 0};
  return std::nullopt;
}

uint32_t header_digest(std::span<const std::byte> header) {
  return crc32c(header.data(), header.size());
}

void put_header_digest(std::span<std::byte> header_with_room, uint8_t hlen) {
  le32 d;
  d.set(header_digest(header_with_room.first(hlen)));
  std::memcpy(header_with_room.data() + hlen, d.raw.data(), digest_len);
}

std::optional<term_error> check_header_digest(std::span<const std::byte> header_with_digest,
                                              uint8_t hlen) {
  if (header_with_digest.size() < size_t{hlen} + digest_len)
    return term_error{term_fes::header_digest_error, 0};
  const auto received = load_wire<le32>(header_with_digest.data() + hlen);
  if (received.get() != header_digest(header_with_digest.first(hlen)))
    return term_error{term_fes::header_digest_error, 0};
  return std::nullopt;
}

std::optional<term_error> check_ic_req(const ic_req_pdu& req) {
  if (req.pfv.get() != pdu_format_version_1_0) return invalid_field(offsetof(ic_req_pdu, pfv));
  if (req.hpda > max_pda) return invalid_field(offsetof(ic_req_pdu, hpda));
  return std::nullopt;
}

std::optional<term_error> check_ic_resp(const ic_resp_pdu& resp, uint8_t requested_dgst) {
  if (resp.pfv.get() != pdu_format_version_1_0)
    return invalid_field(offsetof(ic_resp_pdu, pfv));
  if (resp.cpda > max_pda) return invalid_field(offsetof(ic_resp_pdu, cpda));
  if (resp.dgst & ~requested_dgst) return invalid_field(offsetof(ic_resp_pdu, dgst));
  const uint32_t m = resp.maxh2cdata.get();
  if (m < min_maxh2cdata || m % 4 != 0) return invalid_field(offsetof(ic_resp_pdu, maxh2cdata));
  return std::nullopt;
}

bool pdu_has_header_digest(const pdu_common_header& ch, bool hdgst) {
  const auto type = static_cast<pdu_type>(ch.type);
  return hdgst && !is_ic(type) && !is_term_req(type);
}

bool pdu_has_data_digest(const pdu_common_header& ch, bool hdgst, bool ddgst) {
  const auto type = static_cast<pdu_type>(ch.type);
  if (!ddgst || is_ic(type) || is_term_req(type)) return false;
  return pdu_data_length(ch, hdgst, ddgst) > 0;
}

uint32_t pdu_data_length(const pdu_common_header& ch, bool hdgst, bool ddgst) {
  const auto type = static_cast<pdu_type>(ch.type);
  const uint32_t plen = ch.plen.get();
  if (is_ic(type)) return 0;
  if (is_term_req(type)) return plen > ch.hlen ? plen - ch.hlen : 0;
  const uint32_t header_end = uint32_t{ch.hlen} + (hdgst ? digest_len : 0);
  const uint32_t dd = ddgst ? digest_len : 0;
  if (plen <= header_end) return 0;
  const uint32_t start = ch.pdo > header_end ? ch.pdo : header_end;
  if (plen <= start || plen - start <= dd) return 0;
  return plen - start - dd;
}

uint32_t pdu_padding(const pdu_common_header& ch, bool hdgst) {
  const auto type = static_cast<pdu_type>(ch.type);
  if (is_ic(type) || is_term_req(type)) return 0;
  const uint32_t header_end = uint32_t{ch.hlen} + (hdgst ? digest_len : 0);
  if (ch.plen.get() <= header_end || ch.pdo <= header_end) return 0;
  return ch.pdo - header_end;
}

}  // namespace nvmfd
