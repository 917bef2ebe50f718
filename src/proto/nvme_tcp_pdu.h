#pragma once
// NVMe/TCP PDU headers (NVMe/TCP Transport Specification 1.0, section 3.6).
// Every header begins with the 8-byte common header; hlen is the header length without the
// header digest; pdo is where data starts; plen is the whole PDU including digests.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "base/le.h"
#include "proto/nvme_command.h"

namespace nvmfd {

enum class pdu_type : uint8_t {
  ic_req = 0x00,
  ic_resp = 0x01,
  h2c_term_req = 0x02,
  c2h_term_req = 0x03,
  capsule_cmd = 0x04,
  capsule_resp = 0x05,
  h2c_data = 0x06,
  c2h_data = 0x07,
  r2t = 0x09,
};

// Common header flags (3.6.2.1).
namespace pdu_flags {
inline constexpr uint8_t hdgstf = 0x01;     // a header digest follows the header
inline constexpr uint8_t ddgstf = 0x02;     // a data digest follows the data
inline constexpr uint8_t last_pdu = 0x04;   // H2CData/C2HData: last PDU of the transfer
inline constexpr uint8_t success = 0x08;    // C2HData: command completed, no CapsuleResp follows
}  // namespace pdu_flags

// Fatal error status of a TermReq (3.6.2.9 Figure 30).
enum class term_fes : uint16_t {
  invalid_header_field = 0x01,
  pdu_sequence_error = 0x02,
  header_digest_error = 0x03,
  data_transfer_out_of_range = 0x04,
  r2t_limit_exceeded = 0x05,   // "data transfer limit exceeded"
  unsupported_parameter = 0x06,
};

inline constexpr uint32_t digest_len = 4;
inline constexpr uint16_t pdu_format_version_1_0 = 0;
inline constexpr size_t max_term_req_data = 128;   // we echo at most a full-size header

struct pdu_common_header {
  uint8_t type;
  uint8_t flags;
  uint8_t hlen;
  uint8_t pdo;
  le32 plen;
};
static_assert(sizeof(pdu_common_header) == 8);
static_assert(offsetof(pdu_common_header, hlen) == 2);
static_assert(offsetof(pdu_common_header, pdo) == 3);
static_assert(offsetof(pdu_common_header, plen) == 4);

// Byte offsets of common-header fields, for TermReq FEI.
namespace ch_offset {
inline constexpr uint32_t type = 0, flags = 1, hlen = 2, pdo = 3, plen = 4;
}

struct ic_req_pdu {
  pdu_common_header ch;
  le16 pfv;
  uint8_t hpda;      // host PDU data alignment, in dwords minus one
  uint8_t dgst;      // bit 0: header digest enable, bit 1: data digest enable
  le32 maxr2t;       // maximum outstanding R2Ts per command, zero-based
  uint8_t reserved[112];
};
static_assert(sizeof(ic_req_pdu) == 128);
static_assert(offsetof(ic_req_pdu, pfv) == 8);
static_assert(offsetof(ic_req_pdu, hpda) == 10);
static_assert(offsetof(ic_req_pdu, dgst) == 11);
static_assert(offsetof(ic_req_pdu, maxr2t) == 12);

struct ic_resp_pdu {
  pdu_common_header ch;
  le16 pfv;
  uint8_t cpda;      // controller PDU data alignment
  uint8_t dgst;
  le32 maxh2cdata;   // maximum data bytes in one H2CData PDU
  uint8_t reserved[112];
};
static_assert(sizeof(ic_resp_pdu) == 128);
static_assert(offsetof(ic_resp_pdu, maxh2cdata) == 12);

struct term_req_pdu {
  pdu_common_header ch;
  le16 fes;
  le32 fei;          // for invalid_header_field: byte offset of the bad field
  uint8_t reserved[10];
};
static_assert(sizeof(term_req_pdu) == 24);
static_assert(offsetof(term_req_pdu, fes) == 8);
static_assert(offsetof(term_req_pdu, fei) == 10);

struct capsule_cmd_pdu {
  pdu_common_header ch;
  nvme_sqe sqe;
};
static_assert(sizeof(capsule_cmd_pdu) == 72);
static_assert(offsetof(capsule_cmd_pdu, sqe) == 8);

struct capsule_resp_pdu {
  pdu_common_header ch;
  nvme_cqe cqe;
};
static_assert(sizeof(capsule_resp_pdu) == 24);

// H2CData and C2HData share one layout (ttag is reserved in C2HData).
struct data_pdu {
  pdu_common_header ch;
  le16 cccid;        // command capsule CID
  le16 ttag;         // transfer tag from the R2T (H2CData only)
  le32 datao;        // offset of this PDU's data in the command's data
  le32 datal;        // length of this PDU's data
  uint8_t reserved[4];
};
static_assert(sizeof(data_pdu) == 24);
static_assert(offsetof(data_pdu, cccid) == 8);
static_assert(offsetof(data_pdu, ttag) == 10);
static_assert(offsetof(data_pdu, datao) == 12);
static_assert(offsetof(data_pdu, datal) == 16);

struct r2t_pdu {
  pdu_common_header ch;
  le16 cccid;
  le16 ttag;
  le32 r2to;
  le32 r2tl;
  uint8_t reserved[4];
};
static_assert(sizeof(r2t_pdu) == 24);
static_assert(offsetof(r2t_pdu, r2to) == 12);
static_assert(offsetof(r2t_pdu, r2tl) == 16);

static_assert(std::is_trivially_copyable_v<ic_req_pdu> && std::is_trivially_copyable_v<data_pdu> &&
              std::is_trivially_copyable_v<capsule_cmd_pdu> && std::is_trivially_copyable_v<r2t_pdu>);

// The fixed header length (hlen) of each PDU type, or 0 for an unknown type.
constexpr uint8_t pdu_header_length(pdu_type t) {
  switch (t) {
    case pdu_type::ic_req:
    case pdu_type::ic_resp: return 128;
    case pdu_type::h2c_term_req:
    case pdu_type::c2h_term_req: return 24;
    case pdu_type::capsule_cmd: return 72;
    case pdu_type::capsule_resp: return 24;
    case pdu_type::h2c_data:
    case pdu_type::c2h_data:
    case pdu_type::r2t: return 24;
  }
  return 0;
}

}  // namespace nvmfd
