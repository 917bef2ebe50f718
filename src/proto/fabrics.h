#pragma once
// Fabrics commands (NVMe-oF 1.1 section 3; NVMe Base 2.0 6): Connect with its data,
// Property Get/Set, Disconnect. Controller properties are in proto/controller_properties.h
// and NQN rules in proto/nqn.h, both included here.
// Pure data and functions; callable from any core.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <optional>
#include <span>
#include <type_traits>

#include "base/le.h"
#include "base/strong_id.h"
#include "proto/controller_properties.h"
#include "proto/nqn.h"
#include "proto/nvme_command.h"
#include "proto/wire.h"

namespace nvmfd {

// Every fabrics command has opcode 7Fh and FCTYPE in byte 4 (nvme_sqe::fctype()).
// Disconnect (FCTYPE 08h) carries only RECFMT (bytes 41:40, must be 0); it is valid on an
// I/O queue and deletes that queue (NVMe-oF 1.1 3.4, OFCS bit 0 advertises it).

// --- Connect (NVMe-oF 1.1 Figure 20) ------------------------------------------------------

struct connect_command {
  uint8_t opcode;
  uint8_t flags;
  le16 cid;
  uint8_t fctype;
  uint8_t reserved5[19];
  sgl_descriptor sgl;   // describes the 1024-byte connect_data
  le16 recfmt;
  le16 qid;
  le16 sqsize;          // zero-based
  uint8_t cattr;
  uint8_t reserved47;
  le32 kato;            // keep alive timeout, milliseconds; 0 = disabled
  uint8_t reserved52[12];
};
static_assert(sizeof(connect_command) == sizeof(nvme_sqe));
static_assert(std::is_trivially_copyable_v<connect_command>);
static_assert(offsetof(connect_command, cid) == 2);
static_assert(offsetof(connect_command, fctype) == 4);
static_assert(offsetof(connect_command, sgl) == 24);
static_assert(offsetof(connect_command, recfmt) == 40);
static_assert(offsetof(connect_command, qid) == 42);
static_assert(offsetof(connect_command, sqsize) == 44);
static_assert(offsetof(connect_command, cattr) == 46);
static_assert(offsetof(connect_command, kato) == 48);

// SQE byte offsets, for the IPO of a Connect Invalid Parameters completion.
namespace connect_sqe_offset {
inline constexpr uint16_t recfmt = offsetof(connect_command, recfmt);
inline constexpr uint16_t qid = offsetof(connect_command, qid);
inline constexpr uint16_t sqsize = offsetof(connect_command, sqsize);
inline constexpr uint16_t cattr = offsetof(connect_command, cattr);
inline constexpr uint16_t kato = offsetof(connect_command, kato);
}  // namespace connect_sqe_offset

namespace cattr_bits {
inline constexpr uint8_t disable_sq_flow_control = 1u << 2;
}

struct connect_command_fields {
  uint16_t recfmt = 0;   // must be 0, else status incompatible_format (Linux nvmet too)
  qid_t qid;
  uint16_t sqsize = 0;   // zero-based, as on the wire; 0 is invalid (a 1-entry queue)
  uint8_t cattr = 0;
  uint32_t kato_ms = 0;

  constexpr bool sq_flow_control_disabled() const {
    return (cattr & cattr_bits::disable_sq_flow_control) != 0;
  }
};

inline connect_command_fields decode_connect(const nvme_sqe& sqe) {
  const auto c = load_wire<connect_command>(&sqe);
  return {c.recfmt.get(), qid_t{c.qid.get()}, c.sqsize.get(), c.cattr, c.kato.get()};
}

// Connect data, 1024 bytes of in-capsule data (NVMe-oF 1.1 Figure 21).
struct connect_data {
  uint8_t hostid[16];
  le16 cntlid;          // 0xffff: dynamic model, any controller (proto/discovery_log.h)
  uint8_t reserved18[238];
  std::array<char, nqn_field_size> subnqn;
  std::array<char, nqn_field_size> hostnqn;
  uint8_t reserved768[256];
};
static_assert(sizeof(connect_data) == 1024);
static_assert(std::is_trivially_copyable_v<connect_data>);
static_assert(offsetof(connect_data, cntlid) == 16);
static_assert(offsetof(connect_data, subnqn) == 256);
static_assert(offsetof(connect_data, hostnqn) == 512);

// Connect data byte offsets, for the IPO of a Connect Invalid Parameters completion.
namespace connect_data_offset {
inline constexpr uint16_t hostid = offsetof(connect_data, hostid);
inline constexpr uint16_t cntlid = offsetof(connect_data, cntlid);
inline constexpr uint16_t subnqn = offsetof(connect_data, subnqn);
inline constexpr uint16_t hostnqn = offsetof(connect_data, hostnqn);
}  // namespace connect_data_offset

// The connect data from a received buffer; nullopt if it holds fewer than 1024 bytes.
inline std::optional<connect_data> decode_connect_data(std::span<const std::byte> in) {
  return decode_wire<connect_data>(in);
}

// Connect response DW0 on success: CNTLID in bits 15:0, AUTHREQ in bits 31:16 (NVMe Base
// 2.1 Figure "Connect Response"; Linux: NVME_CONNECT_AUTHREQ_ATR = bit 17).
namespace authreq_bits {
inline constexpr uint16_t atr = 1u << 1;   // authentication transaction required
inline constexpr uint16_t ascr = 1u << 2;  // authentication secure channel required
}  // namespace authreq_bits
constexpr uint32_t connect_response_success(cntlid_t cntlid, uint16_t authreq = 0) {
  return uint32_t{cntlid.value} | (uint32_t{authreq} << 16);
}
// Connect response DW0 with status connect_invalid_parameters: IPO in bits 15:0 and IATTR
// in bits 23:16, whose bit 0 says the offset is in the connect data (else in the SQE).
constexpr uint32_t connect_response_invalid_param(bool in_data, uint16_t offset) {
  return uint32_t{offset} | (in_data ? 1u << 16 : 0u);
}

// --- Property Get / Property Set (NVMe-oF 1.1 Figures 32-37) ------------------------------

struct property_command {
  uint8_t opcode;
  uint8_t flags;
  le16 cid;
  uint8_t fctype;
  uint8_t reserved5[35];
  uint8_t attrib;       // bits 2:0 size: 0 = 4 bytes, 1 = 8 bytes
  uint8_t reserved41[3];
  le32 ofst;
  le64 value;           // Property Set only
  uint8_t reserved56[8];
};
static_assert(sizeof(property_command) == sizeof(nvme_sqe));
static_assert(std::is_trivially_copyable_v<property_command>);
static_assert(offsetof(property_command, fctype) == 4);
static_assert(offsetof(property_command, attrib) == 40);
static_assert(offsetof(property_command, ofst) == 44);
static_assert(offsetof(property_command, value) == 48);

namespace property_sqe_offset {
inline constexpr uint16_t attrib = offsetof(property_command, attrib);
inline constexpr uint16_t ofst = offsetof(property_command, ofst);
inline constexpr uint16_t value = offsetof(property_command, value);
}  // namespace property_sqe_offset

struct property_fields {
  uint8_t size_code = 0;  // ATTRIB bits 2:0
  uint32_t offset = 0;
  uint64_t value = 0;     // Property Set only; a 4-byte set uses the low 32 bits

  // 4 or 8, or 0 for a reserved size code (Invalid Field in Command).
  constexpr uint8_t size_bytes() const { return size_code == 0 ? 4 : size_code == 1 ? 8 : 0; }
};

inline property_fields decode_property(const nvme_sqe& sqe) {
  const auto c = load_wire<property_command>(&sqe);
  return {static_cast<uint8_t>(c.attrib & 0x7), c.ofst.get(), c.value.get()};
}

// A Property Get completes with the value in CQE DW0 (low) and DW1 (high).

// --- Authentication Send / Receive (NVMe Base 2.1 6.2, 6.3) --------------------------------

// FCTYPE 05h (host-to-controller, TL bytes) and 06h (controller-to-host, AL bytes); the
// messages they carry are in src/auth (auth/dhchap_messages.h).
struct auth_command {
  uint8_t opcode;
  uint8_t flags;
  le16 cid;
  uint8_t fctype;
  uint8_t reserved5[19];
  sgl_descriptor sgl;
  uint8_t reserved40;
  uint8_t spsp0;        // security protocol specific, DH-HMAC-CHAP: 01h
  uint8_t spsp1;        // 01h
  uint8_t secp;         // security protocol: E9h for in-band authentication
  le32 length;          // TL (Send) or AL (Receive)
  uint8_t reserved48[16];
};
static_assert(sizeof(auth_command) == sizeof(nvme_sqe));
static_assert(std::is_trivially_copyable_v<auth_command>);
static_assert(offsetof(auth_command, sgl) == 24);
static_assert(offsetof(auth_command, spsp0) == 41);
static_assert(offsetof(auth_command, spsp1) == 42);
static_assert(offsetof(auth_command, secp) == 43);
static_assert(offsetof(auth_command, length) == 44);

namespace auth_sqe_offset {
inline constexpr uint16_t spsp0 = offsetof(auth_command, spsp0);
inline constexpr uint16_t spsp1 = offsetof(auth_command, spsp1);
inline constexpr uint16_t secp = offsetof(auth_command, secp);
inline constexpr uint16_t length = offsetof(auth_command, length);
}  // namespace auth_sqe_offset

struct auth_command_fields {
  uint8_t secp = 0;
  uint8_t spsp0 = 0;
  uint8_t spsp1 = 0;
  uint32_t length = 0;
};

inline auth_command_fields decode_auth_command(const nvme_sqe& sqe) {
  const auto c = load_wire<auth_command>(&sqe);
  return {c.secp, c.spsp0, c.spsp1, c.length.get()};
}

}  // namespace nvmfd
