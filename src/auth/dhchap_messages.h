#pragma once
// The in-band authentication messages that AUTH_Send and AUTH_Receive carry (NVMe Base 2.1
// 8.3.4.5, SECP E9h, SPSP0/1 = 01h): AUTH_Negotiate with its DH-HMAC-CHAP protocol
// descriptor, DH-HMAC-CHAP_Challenge, _Reply, _Success1, _Success2, and AUTH_Failure1/2.
//
// Each message has a wire struct for its fixed part (static_asserts on the spec's offsets)
// and a logical struct; encode_* writes the whole message, decode_* checks every length
// field against the buffer before it reads behind the fixed part, and accepts trailing bytes
// (an AUTH_Receive buffer is zero padded to its AL). decode_* checks only the layout; what the
// values mean (a known hash, hl matching it, the transaction ID) is the engines' business.
// Pure functions; callable from any thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "base/le.h"
#include "base/result.h"

namespace nvmfd::auth {

// Security protocol and its specific fields of AUTH_Send/AUTH_Receive (Base 2.1 6.2, 6.3).
inline constexpr uint8_t secp_dhchap = 0xe9;
inline constexpr uint8_t spsp_dhchap = 0x01;

// AUTH-TYPE: the common messages (negotiate, failures) or DH-HMAC-CHAP's own.
enum class auth_type : uint8_t { common = 0x00, dhchap = 0x01 };
// AUTH-ID: which message.
enum class message_id : uint8_t {
  negotiate = 0x00,
  challenge = 0x01,
  reply = 0x02,
  success1 = 0x03,
  success2 = 0x04,
  failure2 = 0xf0,
  failure1 = 0xf1,
};
// AUTHID of a protocol descriptor in AUTH_Negotiate.
inline constexpr uint8_t authid_dhchap = 0x01;
// SC_C of AUTH_Negotiate: secure channel concatenation; only "none" is implemented.
inline constexpr uint8_t sc_c_none = 0x00;
// AUTH_Failure reason code, and its explanations (Base 2.1 Figure "AUTH_Failure").
inline constexpr uint8_t rescode_failed = 0x01;
enum class failure_reason : uint8_t {
  failed = 0x01,              // authentication failed (wrong response)
  not_usable = 0x02,          // authentication protocol not usable
  concat_mismatch = 0x03,     // secure channel concatenation mismatch
  hash_unusable = 0x04,       // no hash function in common
  dhgroup_unusable = 0x05,    // no DH group in common, or a bad DH value
  incorrect_payload = 0x06,   // a malformed message, a wrong transaction ID
  incorrect_message = 0x07,   // a message out of turn
};
const char* to_string(failure_reason r);

// The hash and DH group lists of a descriptor hold up to 30 identifiers each.
inline constexpr size_t max_ids = 30;

// --- wire structs -------------------------------------------------------------------------

struct message_header_wire {
  uint8_t auth_type;
  uint8_t auth_id;
  uint8_t reserved2[2];
  le16 t_id;
};
static_assert(sizeof(message_header_wire) == 6);
static_assert(offsetof(message_header_wire, t_id) == 4);

struct dhchap_descriptor_wire {
  uint8_t authid;
  uint8_t reserved1;
  uint8_t halen;
  uint8_t dhlen;
  uint8_t idlist[60];  // hash IDs at 0..halen-1, DH group IDs at 30..30+dhlen-1
};
static_assert(sizeof(dhchap_descriptor_wire) == 64);
static_assert(offsetof(dhchap_descriptor_wire, halen) == 2);
static_assert(offsetof(dhchap_descriptor_wire, idlist) == 4);

struct negotiate_wire {
  message_header_wire hdr;  // AUTH-TYPE, AUTH-ID, T_ID
  uint8_t sc_c;
  uint8_t napd;  // number of protocol descriptors that follow
};
static_assert(sizeof(negotiate_wire) == 8);
static_assert(offsetof(negotiate_wire, sc_c) == 6);
static_assert(offsetof(negotiate_wire, napd) == 7);

struct challenge_wire {
  message_header_wire hdr;  // AUTH-TYPE, AUTH-ID, T_ID
  uint8_t hl;      // hash length: bytes of the challenge value
  uint8_t reserved7;
  uint8_t hashid;
  uint8_t dhgid;
  le16 dhvlen;     // bytes of the DH value after the challenge
  le32 seqnum;
  // hl bytes of challenge C1, then dhvlen bytes of the controller's DH value
};
static_assert(sizeof(challenge_wire) == 16);
static_assert(offsetof(challenge_wire, hl) == 6);
static_assert(offsetof(challenge_wire, hashid) == 8);
static_assert(offsetof(challenge_wire, dhgid) == 9);
static_assert(offsetof(challenge_wire, dhvlen) == 10);
static_assert(offsetof(challenge_wire, seqnum) == 12);

struct reply_wire {
  message_header_wire hdr;  // AUTH-TYPE, AUTH-ID, T_ID
  uint8_t hl;
  uint8_t reserved7;
  uint8_t cvalid;  // bit 0: a challenge C2 for the controller follows (bidirectional)
  uint8_t reserved9;
  le16 dhvlen;
  le32 seqnum;     // S2; 0 when there is no controller authentication
  // hl bytes of response R1, hl bytes of challenge C2, dhvlen bytes of the host's DH value
};
static_assert(sizeof(reply_wire) == 16);
static_assert(offsetof(reply_wire, cvalid) == 8);
static_assert(offsetof(reply_wire, dhvlen) == 10);
static_assert(offsetof(reply_wire, seqnum) == 12);

struct success1_wire {
  message_header_wire hdr;  // AUTH-TYPE, AUTH-ID, T_ID
  uint8_t hl;
  uint8_t reserved7;
  uint8_t rvalid;  // bit 0: response R2 is valid (bidirectional)
  uint8_t reserved9[7];
  // hl bytes of response R2 (zero when rvalid is clear)
};
static_assert(sizeof(success1_wire) == 16);
static_assert(offsetof(success1_wire, rvalid) == 8);

struct success2_wire {
  message_header_wire hdr;  // AUTH-TYPE, AUTH-ID, T_ID
  uint8_t reserved6[10];
};
static_assert(sizeof(success2_wire) == 16);

struct failure_wire {
  message_header_wire hdr;  // AUTH-TYPE, AUTH-ID, T_ID
  uint8_t rescode;
  uint8_t rescode_exp;
};
static_assert(sizeof(failure_wire) == 8);
static_assert(offsetof(failure_wire, rescode) == 6);
static_assert(offsetof(failure_wire, rescode_exp) == 7);

static_assert(std::is_trivially_copyable_v<negotiate_wire> && std::is_trivially_copyable_v<challenge_wire> &&
              std::is_trivially_copyable_v<reply_wire> && std::is_trivially_copyable_v<success1_wire> &&
              std::is_trivially_copyable_v<success2_wire> && std::is_trivially_copyable_v<failure_wire> &&
              std::is_trivially_copyable_v<dhchap_descriptor_wire>);

// --- logical messages ---------------------------------------------------------------------

using bytes = std::vector<uint8_t>;

// What any message starts with; nullopt if fewer than 6 bytes.
struct message_kind {
  uint8_t type = 0;
  uint8_t id = 0;
  uint16_t tid = 0;
  bool is(auth_type t, message_id i) const { return type == uint8_t(t) && id == uint8_t(i); }
};
std::optional<message_kind> peek_kind(std::span<const std::byte> in);

struct negotiate_message {
  uint16_t tid = 0;
  uint8_t sc_c = sc_c_none;
  std::vector<uint8_t> hash_ids;  // as sent, in the host's order (at most 30)
  std::vector<uint8_t> dh_ids;    // likewise
};
struct challenge_message {
  uint16_t tid = 0;
  uint8_t hashid = 0;
  uint8_t dhgid = 0;
  uint32_t seqnum = 0;
  bytes c1;   // hl bytes
  bytes dhv;  // the controller's DH public value (empty for the null group)
};
struct reply_message {
  uint16_t tid = 0;
  bool cvalid = false;
  uint32_t seqnum = 0;  // S2
  bytes r1;             // hl bytes
  bytes c2;             // hl bytes (meaningful when cvalid)
  bytes dhv;            // the host's DH public value
};
struct success1_message {
  uint16_t tid = 0;
  uint8_t hl = 0;
  bool rvalid = false;
  bytes r2;  // hl bytes when rvalid, else empty
};
struct success2_message {
  uint16_t tid = 0;
};
struct failure_message {
  message_id which = message_id::failure1;  // failure1 (controller) or failure2 (host)
  uint16_t tid = 0;
  uint8_t rescode = rescode_failed;
  uint8_t explanation = 0;  // a failure_reason
};

std::vector<std::byte> encode(const negotiate_message& m);
std::vector<std::byte> encode(const challenge_message& m);
std::vector<std::byte> encode(const reply_message& m);
std::vector<std::byte> encode(const success1_message& m);
std::vector<std::byte> encode(const success2_message& m);
std::vector<std::byte> encode(const failure_message& m);

// Each fails with errc::protocol_error (naming the field) on a wrong type or ID, or on a
// length field pointing past the end of `in`.
result<negotiate_message> decode_negotiate(std::span<const std::byte> in);
result<challenge_message> decode_challenge(std::span<const std::byte> in);
result<reply_message> decode_reply(std::span<const std::byte> in);
result<success1_message> decode_success1(std::span<const std::byte> in);
result<success2_message> decode_success2(std::span<const std::byte> in);
// Failure1 or Failure2 (auth_type common).
result<failure_message> decode_failure(std::span<const std::byte> in);

}  // namespace nvmfd::auth
