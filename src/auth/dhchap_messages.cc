#include "auth/dhchap_messages.h"

#include <cstring>
#include <string>

namespace nvmfd::auth {

namespace {

// Builds a message: the fixed part, then each variable part in order.
template <class W>
std::vector<std::byte> assemble(const W& fixed, std::initializer_list<std::span<const uint8_t>> tails) {
  size_t n = sizeof(W);
  for (auto t : tails) n += t.size();
  std::vector<std::byte> out(n);
  std::memcpy(out.data(), &fixed, sizeof(W));
  size_t at = sizeof(W);
  for (auto t : tails) {
    if (!t.empty()) std::memcpy(out.data() + at, t.data(), t.size());
    at += t.size();
  }
  return out;
}

template <class W>
void set_header(W& w, auth_type type, message_id id, uint16_t tid) {
  w.hdr.auth_type = static_cast<uint8_t>(type);
  w.hdr.auth_id = static_cast<uint8_t>(id);
  w.hdr.t_id = tid;
}

error bad(const char* message, std::string_view why) {
  return error{errc::protocol_error, std::string(message) + ": " + std::string(why)};
}

// The fixed part of message W, checked for its type and ID.
template <class W>
result<W> fixed_part(std::span<const std::byte> in, auth_type type, message_id id, const char* what) {
  if (in.size() < sizeof(W))
    return bad(what, std::to_string(in.size()) + " bytes, shorter than its " + std::to_string(sizeof(W)) +
                         "-byte header");
  auto w = load_wire<W>(in.data());
  if (w.hdr.auth_type != static_cast<uint8_t>(type) || w.hdr.auth_id != static_cast<uint8_t>(id))
    return bad(what, "AUTH-TYPE/AUTH-ID " + std::to_string(w.hdr.auth_type) + "/" + std::to_string(w.hdr.auth_id) +
                         " is not this message");
  return w;
}

bytes slice(std::span<const std::byte> in, size_t at, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(in.data()) + at;
  return bytes(p, p + n);
}

}  // namespace

const char* to_string(failure_reason r) {
  switch (r) {
    case failure_reason::failed: return "authentication failed";
    case failure_reason::not_usable: return "authentication protocol not usable";
    case failure_reason::concat_mismatch: return "secure channel concatenation mismatch";
    case failure_reason::hash_unusable: return "hash function not usable";
    case failure_reason::dhgroup_unusable: return "DH group not usable";
    case failure_reason::incorrect_payload: return "incorrect payload";
    case failure_reason::incorrect_message: return "incorrect protocol message";
  }
  return "unknown reason";
}

std::optional<message_kind> peek_kind(std::span<const std::byte> in) {
  if (in.size() < sizeof(message_header_wire)) return std::nullopt;
  auto h = load_wire<message_header_wire>(in.data());
  return message_kind{h.auth_type, h.auth_id, h.t_id.get()};
}

std::vector<std::byte> encode(const negotiate_message& m) {
  negotiate_wire w{};
  set_header(w, auth_type::common, message_id::negotiate, m.tid);
  w.sc_c = m.sc_c;
  w.napd = 1;
  dhchap_descriptor_wire d{};
  d.authid = authid_dhchap;
  d.halen = static_cast<uint8_t>(std::min(m.hash_ids.size(), max_ids));
  d.dhlen = static_cast<uint8_t>(std::min(m.dh_ids.size(), max_ids));
  if (d.halen != 0) std::memcpy(d.idlist, m.hash_ids.data(), d.halen);  // data() of an empty list may be null
  if (d.dhlen != 0) std::memcpy(d.idlist + max_ids, m.dh_ids.data(), d.dhlen);
  return assemble(w, {std::span(reinterpret_cast<const uint8_t*>(&d), sizeof(d))});
}

std::vector<std::byte> encode(const challenge_message& m) {
  challenge_wire w{};
  set_header(w, auth_type::dhchap, message_id::challenge, m.tid);
  w.hl = static_cast<uint8_t>(m.c1.size());
  w.hashid = m.hashid;
  w.dhgid = m.dhgid;
  w.dhvlen = static_cast<uint16_t>(m.dhv.size());
  w.seqnum = m.seqnum;
  return assemble(w, {m.c1, m.dhv});
}

std::vector<std::byte> encode(const reply_message& m) {
  reply_wire w{};
  set_header(w, auth_type::dhchap, message_id::reply, m.tid);
  w.hl = static_cast<uint8_t>(m.r1.size());
  w.cvalid = m.cvalid ? 1 : 0;
  w.dhvlen = static_cast<uint16_t>(m.dhv.size());
  w.seqnum = m.seqnum;
  bytes c2 = m.c2;
  c2.resize(m.r1.size());  // C2 is hl bytes whether or not it is valid
  return assemble(w, {m.r1, c2, m.dhv});
}

std::vector<std::byte> encode(const success1_message& m) {
  success1_wire w{};
  set_header(w, auth_type::dhchap, message_id::success1, m.tid);
  w.hl = m.hl;
  w.rvalid = m.rvalid ? 1 : 0;
  bytes r2 = m.r2;
  r2.resize(m.hl);  // Linux hosts expect hl bytes of R2 even when it is not valid
  return assemble(w, {r2});
}

std::vector<std::byte> encode(const success2_message& m) {
  success2_wire w{};
  set_header(w, auth_type::dhchap, message_id::success2, m.tid);
  return assemble(w, {});
}

std::vector<std::byte> encode(const failure_message& m) {
  failure_wire w{};
  set_header(w, auth_type::common, m.which, m.tid);
  w.rescode = m.rescode;
  w.rescode_exp = m.explanation;
  return assemble(w, {});
}

result<negotiate_message> decode_negotiate(std::span<const std::byte> in) {
  auto w = fixed_part<negotiate_wire>(in, auth_type::common, message_id::negotiate, "AUTH_Negotiate");
  if (!w) return w.take_err();
  if (w->napd == 0) return bad("AUTH_Negotiate", "NAPD is 0 (no protocol descriptor)");
  const size_t need = sizeof(negotiate_wire) + size_t{w->napd} * sizeof(dhchap_descriptor_wire);
  if (in.size() < need)
    return bad("AUTH_Negotiate", std::to_string(w->napd) + " descriptors need " + std::to_string(need) +
                                     " bytes, the message has " + std::to_string(in.size()));
  for (size_t i = 0; i < w->napd; ++i) {
    auto d = load_wire<dhchap_descriptor_wire>(in.data() + sizeof(negotiate_wire) + i * sizeof(dhchap_descriptor_wire));
    if (d.authid != authid_dhchap) continue;
    if (d.halen > max_ids || d.dhlen > max_ids)
      return bad("AUTH_Negotiate", "HALEN or DHLEN is over 30");
    negotiate_message m;
    m.tid = w->hdr.t_id.get();
    m.sc_c = w->sc_c;
    m.hash_ids.assign(d.idlist, d.idlist + d.halen);
    m.dh_ids.assign(d.idlist + max_ids, d.idlist + max_ids + d.dhlen);
    return m;
  }
  return bad("AUTH_Negotiate", "no DH-HMAC-CHAP protocol descriptor (AUTHID 01h)");
}

result<challenge_message> decode_challenge(std::span<const std::byte> in) {
  auto w = fixed_part<challenge_wire>(in, auth_type::dhchap, message_id::challenge, "DH-HMAC-CHAP_Challenge");
  if (!w) return w.take_err();
  const size_t hl = w->hl, dhvlen = w->dhvlen.get();
  if (in.size() < sizeof(challenge_wire) + hl + dhvlen)
    return bad("DH-HMAC-CHAP_Challenge", "HL + DHVLEN run past the end of the message");
  challenge_message m;
  m.tid = w->hdr.t_id.get();
  m.hashid = w->hashid;
  m.dhgid = w->dhgid;
  m.seqnum = w->seqnum.get();
  m.c1 = slice(in, sizeof(challenge_wire), hl);
  m.dhv = slice(in, sizeof(challenge_wire) + hl, dhvlen);
  return m;
}

result<reply_message> decode_reply(std::span<const std::byte> in) {
  auto w = fixed_part<reply_wire>(in, auth_type::dhchap, message_id::reply, "DH-HMAC-CHAP_Reply");
  if (!w) return w.take_err();
  const size_t hl = w->hl, dhvlen = w->dhvlen.get();
  if (in.size() < sizeof(reply_wire) + 2 * hl + dhvlen)
    return bad("DH-HMAC-CHAP_Reply", "2 x HL + DHVLEN run past the end of the message");
  reply_message m;
  m.tid = w->hdr.t_id.get();
  m.cvalid = (w->cvalid & 1) != 0;
  m.seqnum = w->seqnum.get();
  m.r1 = slice(in, sizeof(reply_wire), hl);
  m.c2 = slice(in, sizeof(reply_wire) + hl, hl);
  m.dhv = slice(in, sizeof(reply_wire) + 2 * hl, dhvlen);
  return m;
}

result<success1_message> decode_success1(std::span<const std::byte> in) {
  auto w = fixed_part<success1_wire>(in, auth_type::dhchap, message_id::success1, "DH-HMAC-CHAP_Success1");
  if (!w) return w.take_err();
  success1_message m;
  m.tid = w->hdr.t_id.get();
  m.hl = w->hl;
  m.rvalid = (w->rvalid & 1) != 0;
  if (m.rvalid) {
    if (in.size() < sizeof(success1_wire) + m.hl)
      return bad("DH-HMAC-CHAP_Success1", "HL runs past the end of the message");
    m.r2 = slice(in, sizeof(success1_wire), m.hl);
  }
  return m;
}

result<success2_message> decode_success2(std::span<const std::byte> in) {
  auto w = fixed_part<success2_wire>(in, auth_type::dhchap, message_id::success2, "DH-HMAC-CHAP_Success2");
  if (!w) return w.take_err();
  return success2_message{w->hdr.t_id.get()};
}

result<failure_message> decode_failure(std::span<const std::byte> in) {
  if (in.size() < sizeof(failure_wire))
    return bad("AUTH_Failure", std::to_string(in.size()) + " bytes, shorter than its 8-byte header");
  auto w = load_wire<failure_wire>(in.data());
  if (w.hdr.auth_type != static_cast<uint8_t>(auth_type::common) ||
      (w.hdr.auth_id != static_cast<uint8_t>(message_id::failure1) &&
       w.hdr.auth_id != static_cast<uint8_t>(message_id::failure2)))
    return bad("AUTH_Failure", "AUTH-TYPE/AUTH-ID is not a failure message");
  return failure_message{static_cast<message_id>(w.hdr.auth_id), w.hdr.t_id.get(), w.rescode, w.rescode_exp};
}

}  // namespace nvmfd::auth
