#pragma once
// Validation of received NVMe/TCP PDU headers (NVMe/TCP Transport 1.0 sections 3.3, 3.6),
// for the receive state machines of src/nvme_tcp. Pure functions of their arguments;
// callable from any core. A returned term_error is a fatal transport error: send a TermReq
// with its FES and FEI, then close the connection.
//
// Receive order: read the 8-byte common header -> check_common_header -> read the rest of
// the header (hlen) and, if negotiated, the header digest -> check_header_digest -> for
// ICReq/ICResp check_ic_req/check_ic_resp -> skip pdu_padding() bytes -> read
// pdu_data_length() bytes of data and, if ddgstf is set, the 4-byte data digest.
#include <cstdint>
#include <string_view>
#include <optional>
#include <span>

#include "proto/nvme_tcp_pdu.h"

namespace nvmfd {

struct term_error {
  term_fes fes;
  uint32_t fei;   // invalid_header_field: byte offset of the bad field in the PDU; else 0

  constexpr bool operator==(const term_error&) const = default;
};

// Which side we are: the target receives host PDUs, the host receives controller PDUs.
enum class pdu_role : uint8_t { target, host };

struct pdu_check_params {
  pdu_role role = pdu_role::target;
  bool connected = false;   // ICReq/ICResp exchange done
  bool hdgst = false;       // negotiated header digest
  bool ddgst = false;       // negotiated data digest
  // The data alignment we require of the PDUs we receive, in dwords, zero-based (0..31):
  // the CPDA we sent in ICResp (target) or the HPDA we sent in ICReq (host).
  uint8_t cpda = 0;
  // Largest data we accept in one PDU (in-capsule data, H2CData or C2HData). A larger
  // PDU is a fatal error; finer limits (in-capsule size, MAXH2CDATA) are the caller's.
  uint32_t max_data = 0;
};

// Checks the 8-byte common header before the rest of the PDU is read. Rules, in order:
//  - type: one this role may receive (target: ic_req, h2c_term_req, capsule_cmd, h2c_data;
//    host: ic_resp, c2h_term_req, capsule_resp, c2h_data, r2t), else invalid_header_field
//    at 0.
//  - sequence: before the connection is established only ICReq (target) / ICResp (host),
//    after it never again, else pdu_sequence_error. A TermReq is accepted in any state:
//    the peer is reporting its own fatal error and closing.
//  - hlen == pdu_header_length(type), else invalid_header_field at 2.
//  - ICReq/ICResp: plen == 128 exactly, else at 4. TermReq: 24 <= plen <= 152 (at most
//    128 bytes of the offending header; Linux host bounds), else at 4. Their flags and pdo
//    are reserved and not checked; they never carry digests.
//  - flags (at 1): no bits outside those defined for the type (hdgstf; ddgstf for
//    capsule_cmd/h2c_data/c2h_data; last_pdu for data PDUs; success for c2h_data);
//    hdgstf == negotiated hdgst; ddgstf == (negotiated ddgst && the PDU carries data);
//    success only together with last_pdu.
//  - plen (at 4): >= hlen + header digest; h2c_data/c2h_data must carry data,
//    capsule_resp/r2t must not.
//  - pdo (at 3), only when the PDU carries data (else reserved): >= hlen + header digest,
//    a multiple of (cpda + 1) * 4, and < plen; plen must leave at least one data byte
//    after pdo and the data digest (else plen, at 4).
//  - data length (plen - pdo - data digest) <= max_data, else r2t_limit_exceeded
//    ("Data Transfer Limit Exceeded"), fei 0 (FEI is reserved for that FES).
std::optional<term_error> check_common_header(const pdu_common_header& ch,
                                              const pdu_check_params& p);

// Verifies the header digest: CRC32C of the first hlen bytes against the le32 that follows
// them. header_digest_error (fei 0) if it differs or the span is shorter than hlen + 4.
std::optional<term_error> check_header_digest(std::span<const std::byte> header_with_digest,
                                              uint8_t hlen);

// CRC32C over a PDU header, and writing it after the header (the caller sized the buffer
// for hlen + 4 bytes).
uint32_t header_digest(std::span<const std::byte> header);
void put_header_digest(std::span<std::byte> header_with_room, uint8_t hlen);

// ICReq contents (3.6.2.2), after check_common_header. invalid_header_field at 8 if PFV is
// not 0 (as SPDK; Linux nvmet just closes) and at 10 if HPDA > 31. MAXR2T is not limited:
// the controller never issues more R2Ts than it chooses to. Reserved DGST bits (7:2) are
// ignored, as Linux and SPDK do; the ICResp echoes only the digests we enable.
std::optional<term_error> check_ic_req(const ic_req_pdu& req);

// ICResp contents (3.6.2.3), host side: invalid_header_field at 8 if PFV != 0, at 10 if
// CPDA > 31, at 11 if DGST enables a digest the ICReq did not request (`requested_dgst`
// is the ICReq's DGST byte), at 12 if MAXH2CDATA < 4096 or not a multiple of 4.
std::optional<term_error> check_ic_resp(const ic_resp_pdu& resp, uint8_t requested_dgst);

// DGST bits of ICReq/ICResp.
namespace dgst_bits {
inline constexpr uint8_t hdgst = 1u << 0, ddgst = 1u << 1;
}
inline constexpr uint32_t min_maxh2cdata = 4096;
inline constexpr uint8_t max_pda = 31;

// For a header that passed check_common_header: whether a header digest follows the
// header and a data digest the data (never for ICReq/ICResp/TermReq, whatever the flags).
bool pdu_has_header_digest(const pdu_common_header& ch, bool hdgst);
bool pdu_has_data_digest(const pdu_common_header& ch, bool hdgst, bool ddgst);

// For a header that passed check_common_header: bytes of PDU data (for a TermReq, the
// echoed header bytes; 0 for a PDU without data), and bytes of padding between the header
// (and its digest) and the data.
uint32_t pdu_data_length(const pdu_common_header& ch, bool hdgst, bool ddgst);
uint32_t pdu_padding(const pdu_common_header& ch, bool hdgst);

// The PDO to send for a data-carrying PDU: the first offset after the header and its
// digest that is a multiple of (pda + 1) * 4, where pda is the peer's required alignment.
constexpr uint8_t pdu_data_offset(uint8_t hlen, bool hdgst, uint8_t pda) {
  const uint32_t start = hlen + (hdgst ? digest_len : 0);
  const uint32_t align = (uint32_t{pda} + 1) * 4;
  return static_cast<uint8_t>((start + align - 1) / align * align);
}

}  // namespace nvmfd
