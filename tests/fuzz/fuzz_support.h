#pragma once
// Helpers shared by the libFuzzer targets, the seed generator and the replay driver
// (test code only; never linked into nvmfd):
//  - fuzz_input: reads the leading config bytes of a fuzz input, then the rest;
//  - rle_expand/rle_encode: a run-length escape so that a few input bytes can stand for a
//    64 KiB data PDU (0xA5, len16 LE, byte = `len` copies of `byte`);
//  - chunker: deterministic chunk sizes from one seed byte, to cut a stream at odd places;
//  - fix_digests: rewrites the digest flags and the header/data digests of every whole PDU
//    in a stream, so that mutated PDUs get past the digest checks into deeper code;
//  - PDU and SQE builders, as a host would send them.
// Every function is a pure function of its arguments, callable from any thread.
// check() aborts with a message: libFuzzer reports it as a crash and saves the input.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "base/crc32c.h"
#include "proto/fabrics.h"
#include "proto/nvme_tcp_pdu.h"
#include "proto/pdu_check.h"

namespace nvmfd::fuzz {

// A failed invariant of the code under test: print and abort (never returns).
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "FUZZ INVARIANT BROKEN: %s\n", what);
  std::fflush(stderr);
  std::abort();
}
inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

class fuzz_input {
 public:
  fuzz_input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  // The next config byte, 0 once the input is used up.
  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::span<const uint8_t> rest() const { return {data_ + pos_, size_ - pos_}; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

inline constexpr uint8_t rle_escape = 0xA5;

// Expands 0xA5 <len lo> <len hi> <byte> into len copies of byte; everything else (and an
// escape too close to the end) is literal. The output stops at `limit` bytes.
inline std::vector<std::byte> rle_expand(std::span<const uint8_t> in, size_t limit) {
  std::vector<std::byte> out;
  out.reserve(std::min(limit, in.size()));
  for (size_t i = 0; i < in.size() && out.size() < limit;) {
    if (in[i] == rle_escape && in.size() - i >= 4) {
      size_t n = in[i + 1] | (size_t{in[i + 2]} << 8);
      n = std::min(n, limit - out.size());
      out.insert(out.end(), n, std::byte{in[i + 3]});
      i += 4;
    } else {
      out.push_back(std::byte{in[i++]});
    }
  }
  return out;
}

// The inverse, for the seed generator: runs of 5 or more, and every literal 0xA5, escaped.
inline std::vector<uint8_t> rle_encode(std::span<const std::byte> in) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < in.size();) {
    size_t run = 1;
    while (i + run < in.size() && in[i + run] == in[i] && run < 0xffff) ++run;
    const auto b = static_cast<uint8_t>(in[i]);
    if (run >= 5 || b == rle_escape) {
      out.insert(out.end(), {rle_escape, static_cast<uint8_t>(run), static_cast<uint8_t>(run >> 8), b});
    } else {
      out.insert(out.end(), run, b);
    }
    i += run;
  }
  return out;
}

// Chunk sizes for cutting a stream. Seed 0: one chunk (the whole stream). Otherwise bits
// 2:0 pick a scale (1 .. 4096 bytes) and the rest seeds a xorshift generator.
class chunker {
 public:
  explicit chunker(uint8_t seed) : seed_(seed), state_(0x9E3779B9u ^ (uint32_t{seed} * 0x01000193u)) {}
  size_t next(size_t left) {
    if (seed_ == 0) return left;
    static constexpr std::array<size_t, 8> scale{1, 3, 8, 24, 72, 200, 1000, 4096};
    state_ ^= state_ << 13;
    state_ ^= state_ >> 17;
    state_ ^= state_ << 5;
    return std::min(left, 1 + state_ % scale[seed_ & 7]);
  }

 private:
  uint8_t seed_;
  uint32_t state_;
};

constexpr bool carries_digests(pdu_type t) {
  return t == pdu_type::capsule_cmd || t == pdu_type::capsule_resp || t == pdu_type::h2c_data ||
         t == pdu_type::c2h_data || t == pdu_type::r2t;
}
constexpr bool may_carry_data(pdu_type t) {
  return t == pdu_type::capsule_cmd || t == pdu_type::h2c_data || t == pdu_type::c2h_data;
}

// Walks the stream PDU by PDU (by plen, from `from`) and, for each whole PDU of a type
// that carries digests, sets HDGSTF/DDGSTF as negotiated and writes correct digests. An
// ICReq/ICResp at `from` switches to the digests it asks for, as the connection would.
inline void fix_digests(std::span<std::byte> s, size_t from, bool hdgst, bool ddgst) {
  size_t pos = from;
  while (pos <= s.size() && s.size() - pos >= sizeof(pdu_common_header)) {
    auto ch = load_wire<pdu_common_header>(s.data() + pos);
    const uint32_t plen = ch.plen.get();
    if (plen < sizeof(pdu_common_header) || plen > s.size() - pos) return;
    const auto type = static_cast<pdu_type>(ch.type);
    if ((type == pdu_type::ic_req || type == pdu_type::ic_resp) && plen >= 12) {
      const auto dgst = static_cast<uint8_t>(s[pos + 11]);
      hdgst = dgst & dgst_bits::hdgst;
      ddgst = dgst & dgst_bits::ddgst;
    } else if (carries_digests(type)) {
      const uint32_t header_end = uint32_t{ch.hlen} + (hdgst ? digest_len : 0);
      const bool has_data = may_carry_data(type) && plen > header_end;
      uint8_t flags = ch.flags & static_cast<uint8_t>(~(pdu_flags::hdgstf | pdu_flags::ddgstf));
      if (hdgst) flags |= pdu_flags::hdgstf;
      if (ddgst && has_data) flags |= pdu_flags::ddgstf;
      s[pos + 1] = std::byte{flags};
      if (hdgst && size_t{ch.hlen} + digest_len <= plen) {
        uint32_t d = crc32c(s.data() + pos, ch.hlen);
        std::memcpy(s.data() + pos + ch.hlen, &d, sizeof(d));
      }
      const uint32_t start = std::max<uint32_t>(ch.pdo, header_end);
      if (ddgst && has_data && start + digest_len < plen) {
        uint32_t d = crc32c(s.data() + pos + start, plen - digest_len - start);
        std::memcpy(s.data() + pos + plen - digest_len, &d, sizeof(d));
      }
    }
    pos += plen;
  }
}

// --- PDU builders (host to controller) ---------------------------------------------------

template <class S>
std::span<const std::byte> bytes_of(const S& s) {
  return std::as_bytes(std::span<const S, 1>(&s, 1));
}

inline void append(std::vector<std::byte>& out, std::span<const std::byte> b) {
  out.insert(out.end(), b.begin(), b.end());
}

// A whole PDU: `header` (hlen bytes, type-specific fields set), then its digest, padding
// to a multiple of align_bytes (0: none), data and data digest; flags, hlen, pdo and plen
// are filled in here.
inline std::vector<std::byte> make_pdu(std::span<const std::byte> header, std::span<const std::byte> data,
                                       bool hdgst, bool ddgst, uint32_t align_bytes = 0) {
  std::vector<std::byte> h(header.begin(), header.end());
  auto ch = load_wire<pdu_common_header>(h.data());
  const bool has_data = !data.empty();
  const auto type = static_cast<pdu_type>(ch.type);
  const bool digests = carries_digests(type);
  const uint32_t header_end = static_cast<uint32_t>(h.size()) + (hdgst && digests ? digest_len : 0);
  uint32_t pad = 0;
  if (has_data && align_bytes > 0 && header_end % align_bytes) pad = align_bytes - header_end % align_bytes;
  ch.hlen = static_cast<uint8_t>(h.size());
  ch.flags = static_cast<uint8_t>(ch.flags & ~(pdu_flags::hdgstf | pdu_flags::ddgstf));
  if (digests && hdgst) ch.flags |= pdu_flags::hdgstf;
  if (digests && ddgst && has_data) ch.flags |= pdu_flags::ddgstf;
  ch.pdo = has_data ? static_cast<uint8_t>(header_end + pad) : 0;
  ch.plen = static_cast<uint32_t>(header_end + pad + data.size() + (digests && ddgst && has_data ? digest_len : 0));
  std::memcpy(h.data(), &ch, sizeof(ch));
  std::vector<std::byte> out = h;
  if (digests && hdgst) {
    uint32_t d = crc32c(h.data(), h.size());
    append(out, bytes_of(d));
  }
  out.insert(out.end(), pad, std::byte{0});
  append(out, data);
  if (digests && ddgst && has_data) {
    uint32_t d = crc32c(data.data(), data.size());
    append(out, bytes_of(d));
  }
  return out;
}

inline std::vector<std::byte> ic_req(uint8_t dgst, uint8_t hpda) {
  ic_req_pdu r{};
  r.ch.type = static_cast<uint8_t>(pdu_type::ic_req);
  r.ch.hlen = sizeof(r);
  r.ch.plen = sizeof(r);
  r.pfv = pdu_format_version_1_0;
  r.hpda = hpda;
  r.dgst = dgst;
  r.maxr2t = 0;
  auto b = bytes_of(r);
  return {b.begin(), b.end()};
}

inline std::vector<std::byte> ic_resp(uint8_t dgst, uint8_t cpda, uint32_t maxh2cdata = 131072) {
  ic_resp_pdu r{};
  r.ch.type = static_cast<uint8_t>(pdu_type::ic_resp);
  r.ch.hlen = sizeof(r);
  r.ch.plen = sizeof(r);
  r.pfv = pdu_format_version_1_0;
  r.cpda = cpda;
  r.dgst = dgst;
  r.maxh2cdata = maxh2cdata;
  auto b = bytes_of(r);
  return {b.begin(), b.end()};
}

// In-capsule data of len bytes (SGL Data Block, offset 0).
inline void sgl_in_capsule(nvme_sqe& s, uint32_t len) {
  s.sgl.sgl_identifier = sgl_id::data_block_offset;
  s.sgl.address = 0;
  s.sgl.length = len;
}
// Data moved by R2T/H2CData or C2HData (SGL Transport Data Block).
inline void sgl_transport(nvme_sqe& s, uint32_t len) {
  s.sgl.sgl_identifier = sgl_id::transport_data_block;
  s.sgl.address = 0;
  s.sgl.length = len;
}
// An SQE with PSDT = 01b (SGL, as fabrics requires) and no data: a null Transport SGL Data
// Block, as the Linux host sends (nvme_tcp_set_sg_null).
inline nvme_sqe sqe(uint8_t opcode, uint16_t cid, uint32_t nsid = 0) {
  nvme_sqe s{};
  s.opcode = opcode;
  s.flags = 0x40;
  s.cid = cid;
  s.nsid = nsid;
  sgl_transport(s, 0);
  return s;
}

inline nvme_sqe fabrics_sqe(fabrics_type t, uint16_t cid) {
  nvme_sqe s = sqe(static_cast<uint8_t>(admin_opcode::fabrics), cid);
  s.nsid.raw[0] = static_cast<uint8_t>(t);
  return s;
}

inline nvme_sqe connect_sqe(uint16_t cid, uint16_t qid, uint16_t sqsize, uint32_t kato_ms = 0) {
  nvme_sqe s = fabrics_sqe(fabrics_type::connect, cid);
  sgl_in_capsule(s, sizeof(connect_data));
  connect_command c = load_wire<connect_command>(&s);
  c.qid = qid;
  c.sqsize = sqsize;
  c.kato = kato_ms;
  return load_wire<nvme_sqe>(&c);
}

inline connect_data make_connect_data(std::string_view subnqn, std::string_view hostnqn, uint16_t cntlid) {
  connect_data d{};
  for (size_t i = 0; i < sizeof(d.hostid); ++i) d.hostid[i] = static_cast<uint8_t>(0x10 + i);
  d.cntlid = cntlid;
  set_padded(d.subnqn, subnqn, '\0');
  set_padded(d.hostnqn, hostnqn, '\0');
  return d;
}

inline nvme_sqe property_sqe(fabrics_type t, uint16_t cid, uint32_t ofst, uint8_t size_code, uint64_t value = 0) {
  nvme_sqe s = fabrics_sqe(t, cid);
  property_command p = load_wire<property_command>(&s);
  p.attrib = size_code;
  p.ofst = ofst;
  p.value = value;
  return load_wire<nvme_sqe>(&p);
}

inline std::vector<std::byte> capsule(const nvme_sqe& s, std::span<const std::byte> data, bool hdgst, bool ddgst) {
  capsule_cmd_pdu c{};
  c.ch.type = static_cast<uint8_t>(pdu_type::capsule_cmd);
  c.sqe = s;
  return make_pdu(bytes_of(c), data, hdgst, ddgst);
}

inline std::vector<std::byte> h2c_data(uint16_t cccid, uint16_t ttag, uint32_t datao, std::span<const std::byte> data,
                                       bool last, bool hdgst, bool ddgst) {
  data_pdu d{};
  d.ch.type = static_cast<uint8_t>(pdu_type::h2c_data);
  d.ch.flags = last ? pdu_flags::last_pdu : 0;
  d.cccid = cccid;
  d.ttag = ttag;
  d.datao = datao;
  d.datal = static_cast<uint32_t>(data.size());
  return make_pdu(bytes_of(d), data, hdgst, ddgst);
}

inline std::vector<std::byte> term_req(pdu_type t, term_fes fes, uint32_t fei, std::span<const std::byte> bad) {
  term_req_pdu r{};
  r.ch.type = static_cast<uint8_t>(t);
  r.fes = static_cast<uint16_t>(fes);
  r.fei = fei;
  return make_pdu(bytes_of(r), bad, false, false);
}

}  // namespace nvmfd::fuzz
