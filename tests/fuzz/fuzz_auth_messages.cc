// fuzz_auth_messages: src/auth's DH-HMAC-CHAP messages and both state machines on hostile
// input. No I/O. Byte 0 bits 1:0 pick the mode:
//   0  every decode_* on the rest; what decodes encodes to a fixed point (encode(decode(
//      encode(m))) == encode(m)) and peek_kind agrees with the decoder that accepted it;
//   1  a controller_auth fed AUTH_Send/AUTH_Receive operations from the input;
//   2  a host_auth answered with messages from the input;
//   3  a host_auth and a controller_auth in a genuine exchange, one message corrupted by the
//      input (or none: then both must succeed).
// Operation streams (modes 1, 2): <op> <len16 LE> <len bytes>; op bit 0 (mode 1): AUTH_Receive
// with allocation length len (no payload) instead of AUTH_Send of the payload.
// Byte 1 configures the machines: bit 0 bidirectional (controller key), bits 2:1 the
// strongest hash offered/accepted, bit 3 FFDHE-2048 allowed (otherwise only the null group;
// the larger groups take tens of milliseconds per exchange).
// Oracles besides ASan/UBSan: an AUTH_Receive answer fits its allocation length; a failed
// controller_auth stays failed; a host_auth that failed wants nothing more; an intact
// exchange always succeeds on both sides (a corrupted one may or may not: reserved bytes and
// padding are ignored).
#include <string>

#include "auth/controller_auth.h"
#include "auth/host_auth.h"
#include "fuzz_support.h"

namespace nvmfd::fuzz {
namespace {

using namespace nvmfd::auth;

const char* const hostnqn = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";
const char* const subnqn = "nqn.2024-01.io.nvmfd:fuzz";

dhchap_key key_of(uint8_t fill) {
  std::vector<uint8_t> k(32, fill);
  return dhchap_key{0, secret_bytes(k)};
}

struct setup {
  bool bidirectional = false;
  std::vector<hash_id> hashes;
  std::vector<dh_group> groups;
  explicit setup(uint8_t b) {
    bidirectional = b & 1;
    unsigned strongest = 1 + (b >> 1) % 3;
    for (unsigned h = 1; h <= strongest; ++h) hashes.push_back(static_cast<hash_id>(h));
    groups.push_back(dh_group::null);
    if (b & 8) groups.push_back(dh_group::ffdhe2048);
  }
  controller_auth_config controller() const {
    controller_auth_config c;
    c.hostnqn = hostnqn;
    c.subnqn = subnqn;
    c.host_key = key_of(0x11);
    if (bidirectional) c.ctrl_key = key_of(0x22);
    c.hashes = {};
    for (auto h : hashes) c.hashes.add(h);
    c.dh_groups = {};
    for (auto g : groups) c.dh_groups.add(g);
    return c;
  }
  host_auth_config host(uint16_t tid) const {
    host_auth_config c;
    c.hostnqn = hostnqn;
    c.subnqn = subnqn;
    c.host_key = key_of(0x11);
    if (bidirectional) c.ctrl_key = key_of(0x22);
    c.hashes = hashes;
    c.dh_groups = groups;
    c.tid = tid;
    return c;
  }
};

// <op> <len16> <payload>, as long as the input lasts.
struct op_stream {
  std::span<const uint8_t> in;
  size_t pos = 0;
  bool next(uint8_t& op, uint16_t& len, std::span<const std::byte>& payload, bool payload_follows_len = true) {
    if (in.size() - pos < 3) return false;
    op = in[pos];
    len = static_cast<uint16_t>(in[pos + 1] | (in[pos + 2] << 8));
    pos += 3;
    size_t n = payload_follows_len ? std::min<size_t>(len, in.size() - pos) : 0;
    payload = std::as_bytes(in.subspan(pos, n));
    pos += n;
    return true;
  }
};

template <class M>
void fixed_point(const result<M>& m, message_id id, std::span<const std::byte> in) {
  if (!m) return;
  auto once = encode(*m);
  auto k = peek_kind(in);
  check(k.has_value(), "peek_kind refused what a decoder accepted");
  if (id == message_id::failure1 || id == message_id::failure2)
    check(k->id == uint8_t(message_id::failure1) || k->id == uint8_t(message_id::failure2), "peek_kind: failure id");
  else
    check(k->id == uint8_t(id), "peek_kind disagrees with the decoder");
  // The decoders check only the layout, so re-decoding what we encode must succeed.
  auto again = [&](auto decoded) {
    check(decoded.ok(), "a decoder refused what encode wrote");
    return encode(*decoded);
  };
  std::vector<std::byte> twice;
  if constexpr (std::is_same_v<M, negotiate_message>) twice = again(decode_negotiate(once));
  if constexpr (std::is_same_v<M, challenge_message>) twice = again(decode_challenge(once));
  if constexpr (std::is_same_v<M, reply_message>) twice = again(decode_reply(once));
  if constexpr (std::is_same_v<M, success1_message>) twice = again(decode_success1(once));
  if constexpr (std::is_same_v<M, success2_message>) twice = again(decode_success2(once));
  if constexpr (std::is_same_v<M, failure_message>) twice = again(decode_failure(once));
  check(twice == once, "encode(decode(encode(m))) != encode(m)");
}

void decoders(std::span<const std::byte> in) {
  (void)peek_kind(in);
  fixed_point(decode_negotiate(in), message_id::negotiate, in);
  fixed_point(decode_challenge(in), message_id::challenge, in);
  fixed_point(decode_reply(in), message_id::reply, in);
  fixed_point(decode_success1(in), message_id::success1, in);
  fixed_point(decode_success2(in), message_id::success2, in);
  fixed_point(decode_failure(in), message_id::failure1, in);
}

void controller_ops(const setup& s, std::span<const uint8_t> in) {
  controller_auth c(s.controller());
  op_stream ops{in};
  uint8_t op;
  uint16_t len;
  std::span<const std::byte> payload;
  for (int n = 0; n < 16; ++n) {
    // An AUTH_Receive carries no payload: only its allocation length.
    if (in.size() - ops.pos >= 1 && (in[ops.pos] & 1)) {
      if (!ops.next(op, len, payload, false)) break;
      bool was_failed = c.failed();
      auto out = c.on_receive(len);
      if (out) check(out->size() <= len, "AUTH_Receive answer longer than its allocation length");
      if (was_failed) check(c.failed(), "a failed controller_auth came back");
    } else {
      if (!ops.next(op, len, payload)) break;
      bool was_failed = c.failed();
      c.on_send(payload);
      if (was_failed) check(c.failed(), "a failed controller_auth came back");
    }
  }
}

void host_ops(const setup& s, std::span<const uint8_t> in) {
  host_auth h(s.host(1));
  op_stream ops{in};
  uint8_t op;
  uint16_t len;
  std::span<const std::byte> payload;
  for (int n = 0; n < 16 && !h.done(); ++n) {
    while (h.wants_send()) (void)h.next_send();
    if (h.done()) break;
    if (!h.wants_receive()) fail("host_auth wants neither to send nor to receive and is not done");
    if (!ops.next(op, len, payload)) break;
    h.on_received(payload);
  }
  if (h.done() && !h.succeeded()) check(!h.wants_receive(), "a failed host_auth still wants to receive");
}

// A genuine exchange; the message numbered `victim` (0: Negotiate, 1: Challenge, 2: Reply,
// 3: Success1, 4: Success2) gets byte `offset` XORed with `mask` (mask 0: intact).
void exchange(const setup& s, fuzz_input& in) {
  uint8_t victim = in.u8() % 5, offset = in.u8(), mask = in.u8();
  uint16_t tid = static_cast<uint16_t>(in.u8() | (in.u8() << 8));
  host_auth h(s.host(tid));
  controller_auth c(s.controller());
  bool corrupted = false;
  auto tamper = [&](std::vector<std::byte>& m, unsigned index) {
    if (index != victim || mask == 0 || m.empty()) return;
    m[offset % m.size()] ^= std::byte{mask};
    corrupted = true;
  };
  unsigned index = 0;
  for (int round = 0; round < 8 && !h.done(); ++round) {
    while (h.wants_send()) {
      auto m = h.next_send();
      tamper(m, index++);
      c.on_send(m);
    }
    if (!h.wants_receive()) break;
    auto answer = c.on_receive(4096);
    if (!answer) break;
    tamper(*answer, index++);
    h.on_received(*answer);
  }
  while (h.wants_send()) {  // Success2 or a Failure2
    auto m = h.next_send();
    tamper(m, index++);
    c.on_send(m);
  }
  if (!corrupted) {
    check(h.succeeded(), "an intact exchange failed on the host");
    check(c.authenticated(), "an intact exchange failed on the controller");
  }
}

}  // namespace
}  // namespace nvmfd::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nvmfd::fuzz;
  fuzz_input in(data, size);
  uint8_t mode = in.u8() & 3;
  if (mode == 0) {
    decoders(std::as_bytes(in.rest()));
    return 0;
  }
  setup s(in.u8());
  if (mode == 1) controller_ops(s, in.rest());
  if (mode == 2) host_ops(s, in.rest());
  if (mode == 3) exchange(s, in);
  return 0;
}
