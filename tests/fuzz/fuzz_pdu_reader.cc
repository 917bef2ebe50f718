// fuzz_pdu_reader: the resumable NVMe/TCP receive state machine (nvme_tcp/pdu_reader) fed
// through a non-blocking socketpair in chunks of fuzz-chosen sizes, as the target (host
// PDUs) and then as the host (controller PDUs).
//
// Oracles, besides ASan/UBSan:
//  - every header handed to the sink passed check_common_header with the reader's current
//    parameters, has hlen == its type's length, and announces exactly pdu_data_length()
//    bytes, at most max_data: the sink allocates exactly that much, so a reader writing
//    past what it was promised is a heap overflow;
//  - a straight, non-resumable reference parser over the whole stream (built from the same
//    proto/pdu_check rules) must produce the same PDUs, data, digest verdicts and final
//    outcome (error and offending header bytes) whatever the chunking and read budget.
//
// Input: 4 config bytes, then the stream.
//   byte 0: bit 0 connected, bit 1 hdgst, bit 2 ddgst, bit 3 RLE-expand the stream,
//           bit 4 fix digests, bits 7:5 read budget
//   byte 1: bits 4:0 the PDU data alignment we require (cpda/hpda), bits 6:5 max_data
//   byte 2: chunk-size seed (0: one write)
//   byte 3: sink policy seed (0: always take the data; else some PDUs are refused with a
//           term_error or have their data discarded)
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>

#include "fuzz_support.h"
#include "nvme_tcp/pdu_reader.h"
#include "proto/features.h"
#include "proto/identify.h"
#include "proto/log_pages.h"

namespace nvmfd::fuzz {
namespace {

constexpr size_t max_stream = 512u << 10;
constexpr size_t max_cut_chunks = 4096;  // then the rest goes in one write (keeps runs fast)
constexpr std::array<size_t, 8> budgets{size_t{1} << 20, 1, 7, 64, 128, 4096, 65536, 200000};
constexpr std::array<uint32_t, 4> max_datas{131072, 8192, 4096, 0};

struct event {
  std::vector<std::byte> header;
  uint32_t data_len = 0;
  bool received = false;
  bool digest_ok = false;
  bool had_buffer = false;
  std::vector<std::byte> data;
  bool operator==(const event&) const = default;
};

enum class outcome : uint8_t { end_of_stream, protocol_error, stopped };

struct result_log {
  std::vector<event> events;
  outcome end = outcome::end_of_stream;
  term_error error{};
  std::vector<std::byte> error_header;
};

bool same_params(const pdu_check_params& a, const pdu_check_params& b) {
  return a.role == b.role && a.connected == b.connected && a.hdgst == b.hdgst && a.ddgst == b.ddgst &&
         a.cpda == b.cpda && a.max_data == b.max_data;
}

volatile uint64_t sink_hole;  // keeps decoder results alive

// Runs the proto decoders a real sink would use on a header that passed the checks.
void decode_header(std::span<const std::byte> header) {
  const auto ch = load_wire<pdu_common_header>(header.data());
  switch (static_cast<pdu_type>(ch.type)) {
    case pdu_type::capsule_cmd: {
      auto c = decode_wire<capsule_cmd_pdu>(header);
      check(c.has_value(), "capsule header shorter than 72 bytes");
      const nvme_sqe& s = c->sqe;
      uint64_t h = s.fctype() + s.psdt() + s.fuse();
      if (s.opcode == static_cast<uint8_t>(admin_opcode::fabrics)) {
        auto f = decode_connect(s);
        auto p = decode_property(s);
        h += f.qid.value + f.sqsize + f.kato_ms + p.offset + p.size_bytes();
      } else {
        auto id = decode_identify(s);
        auto lp = decode_get_log_page(s);
        auto gf = decode_get_features(s);
        auto sf = decode_set_features(s);
        check(lp.numd >= 1 && lp.numd <= (uint64_t{1} << 32), "get log page NUMD out of range");
        check(gf.sel <= 7 && id.uuid_index < 128, "decoded field wider than its bits");
        h += id.cns + lp.length_bytes() + gf.fid + sf.fid;
      }
      sink_hole = h;
      break;
    }
    case pdu_type::h2c_data:
    case pdu_type::c2h_data: {
      auto d = decode_wire<data_pdu>(header);
      check(d.has_value(), "data PDU header shorter than 24 bytes");
      sink_hole = d->datao.get() + d->datal.get();
      break;
    }
    case pdu_type::r2t: {
      auto r = decode_wire<r2t_pdu>(header);
      check(r.has_value(), "R2T header shorter than 24 bytes");
      sink_hole = r->r2to.get() + r->r2tl.get();
      break;
    }
    case pdu_type::capsule_resp: {
      auto r = decode_wire<capsule_resp_pdu>(header);
      check(r.has_value(), "CapsuleResp header shorter than 24 bytes");
      sink_hole = nvme_status::decode(r->cqe.status.get()).encode();
      break;
    }
    default:
      break;
  }
}

// The sink both the reader and the reference parser drive. Its decisions depend only on
// the PDU index and the policy seed, so both see the same answers.
class checking_sink final : public pdu_reader_sink {
 public:
  checking_sink(pdu_check_params p, uint8_t policy, uint8_t our_pda) : params_(p), policy_(policy), our_pda_(our_pda) {}

  void attach(pdu_reader* r) { reader_ = r; }
  const pdu_check_params& params() const { return params_; }
  bool stop_requested() const { return stop_; }
  result_log log;

  std::variant<std::byte*, term_error> on_pdu_header(std::span<const std::byte> header, uint32_t data_len) override {
    if (reader_) check(same_params(reader_->params(), params_), "reader parameters differ from those set");
    check(header.size() >= sizeof(pdu_common_header), "header shorter than the common header");
    const auto ch = load_wire<pdu_common_header>(header.data());
    const auto type = static_cast<pdu_type>(ch.type);
    check(header.size() == ch.hlen, "header span is not hlen bytes");
    check(ch.hlen == pdu_header_length(type), "hlen does not match the PDU type");
    check(!check_common_header(ch, params_).has_value(), "sink got a header that fails check_common_header");
    check(data_len == pdu_data_length(ch, params_.hdgst, params_.ddgst), "data_len is not pdu_data_length");
    const bool term = type == pdu_type::h2c_term_req || type == pdu_type::c2h_term_req;
    check(term ? data_len <= max_term_req_data : data_len <= params_.max_data, "data_len above the limit");
    decode_header(header);

    event e;
    e.header.assign(header.begin(), header.end());
    e.data_len = data_len;
    const uint32_t choice = pick();
    buf_.reset();
    if (choice == 0) {
      log.events.push_back(std::move(e));
      return term_error{term_fes::invalid_header_field, ch_offset::type};
    }
    if (data_len > 0 && choice > 2) {
      buf_.reset(new std::byte[data_len]);  // exactly data_len: ASan flags any overrun
      e.had_buffer = true;
    }
    log.events.push_back(std::move(e));
    return buf_.get();
  }

  void on_pdu_received(std::span<const std::byte> header, bool data_digest_ok) override {
    check(!log.events.empty() && !log.events.back().received, "on_pdu_received without on_pdu_header");
    event& e = log.events.back();
    check(std::equal(header.begin(), header.end(), e.header.begin(), e.header.end()),
          "on_pdu_received header differs from on_pdu_header's");
    e.received = true;
    e.digest_ok = data_digest_ok;
    if (e.had_buffer) e.data.assign(buf_.get(), buf_.get() + e.data_len);
    const auto ch = load_wire<pdu_common_header>(header.data());
    switch (static_cast<pdu_type>(ch.type)) {
      case pdu_type::ic_req: {
        auto req = load_wire<ic_req_pdu>(header.data());
        if (check_ic_req(req)) return request_stop();
        set_params({params_.role, true, (req.dgst & dgst_bits::hdgst) != 0, (req.dgst & dgst_bits::ddgst) != 0,
                    our_pda_, params_.max_data});
        break;
      }
      case pdu_type::ic_resp: {
        auto resp = load_wire<ic_resp_pdu>(header.data());
        if (check_ic_resp(resp, dgst_bits::hdgst | dgst_bits::ddgst)) return request_stop();
        set_params({params_.role, true, (resp.dgst & dgst_bits::hdgst) != 0, (resp.dgst & dgst_bits::ddgst) != 0,
                    our_pda_, params_.max_data});
        break;
      }
      case pdu_type::h2c_term_req:
      case pdu_type::c2h_term_req:
        request_stop();
        break;
      default:
        break;
    }
  }

 private:
  // 0: refuse the header; 1-2: discard the data; else take it. Seed 0 always takes.
  uint32_t pick() {
    if (policy_ == 0) return 3;
    uint32_t x = (uint32_t{policy_} << 8) ^ (++count_ * 0x9E3779B1u);
    x ^= x >> 15;
    x *= 0x2C1B3C6Du;
    x ^= x >> 12;
    return x % 24;
  }
  void set_params(const pdu_check_params& p) {
    params_ = p;
    if (reader_) reader_->set_params(p);
  }
  void request_stop() {
    stop_ = true;
    if (reader_) reader_->stop();
  }

  pdu_check_params params_;
  uint8_t policy_;
  uint8_t our_pda_;
  uint32_t count_ = 0;
  pdu_reader* reader_ = nullptr;
  bool stop_ = false;
  std::unique_ptr<std::byte[]> buf_;
};

// The reference: the same rules applied to the whole stream at once.
result_log reference_parse(std::span<const std::byte> s, checking_sink& sink) {
  size_t pos = 0;
  auto error_at = [&](term_error e, size_t header_bytes) {
    sink.log.end = outcome::protocol_error;
    sink.log.error = e;
    sink.log.error_header.assign(s.begin() + static_cast<ptrdiff_t>(pos),
                                 s.begin() + static_cast<ptrdiff_t>(pos + header_bytes));
    return std::move(sink.log);
  };
  for (;;) {
    if (s.size() - pos < sizeof(pdu_common_header)) break;
    const auto ch = load_wire<pdu_common_header>(s.data() + pos);
    const pdu_check_params p = sink.params();
    if (auto e = check_common_header(ch, p)) return error_at(*e, sizeof(pdu_common_header));
    const bool hd = pdu_has_header_digest(ch, p.hdgst);
    const size_t need = ch.hlen + (hd ? digest_len : 0);
    if (s.size() - pos < need) break;
    if (hd) {
      if (auto e = check_header_digest(s.subspan(pos, need), ch.hlen)) return error_at(*e, need);
    }
    const uint32_t data_len = pdu_data_length(ch, p.hdgst, p.ddgst);
    const uint32_t pad = data_len > 0 ? pdu_padding(ch, p.hdgst) : 0;
    const bool dd = pdu_has_data_digest(ch, p.hdgst, p.ddgst);
    auto dest = sink.on_pdu_header(s.subspan(pos, ch.hlen), data_len);
    if (auto* e = std::get_if<term_error>(&dest)) return error_at(*e, need);
    const size_t total = need + pad + data_len + (dd ? digest_len : 0);
    if (s.size() - pos < total) break;
    const std::byte* data = s.data() + pos + need + pad;
    if (auto* d = std::get<std::byte*>(dest); d && data_len) std::memcpy(d, data, data_len);
    bool ok = true;
    if (dd) {
      uint32_t got;
      std::memcpy(&got, data + data_len, sizeof(got));
      ok = got == crc32c(data, data_len);
    }
    sink.on_pdu_received(s.subspan(pos, ch.hlen), ok);
    pos += total;
    if (sink.stop_requested()) {
      sink.log.end = outcome::stopped;
      break;
    }
  }
  return std::move(sink.log);
}

// The reader under test, over a socketpair written in chunks.
result_log run_reader(std::span<const std::byte> s, checking_sink& sink, pdu_check_params start, size_t budget,
                      uint8_t chunk_seed) {
  int fds[2];
  check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0, "socketpair failed");
  pdu_reader reader(sink, start);
  sink.attach(&reader);
  chunker chunks(chunk_seed);
  size_t off = 0, writes = 0;
  bool write_open = true;
  int drained_after_close = 0;
  std::optional<read_status> last;
  for (;;) {
    if (write_open && off < s.size()) {
      const size_t n = ++writes < max_cut_chunks ? chunks.next(s.size() - off) : s.size() - off;
      ssize_t w = send(fds[0], s.data() + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) off += static_cast<size_t>(w);
      else check(w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR), "send to the socketpair failed");
    }
    if (write_open && off == s.size()) {
      shutdown(fds[0], SHUT_WR);
      write_open = false;
    }
    read_status st = reader.pump(fds[1], budget);
    if (st == read_status::would_block) {
      // A short recv ends a pump without a second recv, so one more pump may be needed to
      // see the end of the stream; a second would_block after the close is a lost EOF.
      check(write_open || ++drained_after_close < 2, "pump would block twice after the writer closed");
      continue;
    }
    if (st == read_status::budget_spent) continue;
    last = st;
    break;
  }
  close(fds[0]);
  close(fds[1]);
  switch (*last) {
    case read_status::closed:
      sink.log.end = outcome::end_of_stream;
      break;
    case read_status::protocol_error: {
      sink.log.end = outcome::protocol_error;
      sink.log.error = reader.error_info();
      auto h = reader.error_header();
      sink.log.error_header.assign(h.begin(), h.end());
      break;
    }
    case read_status::stopped:
      sink.log.end = outcome::stopped;
      check(sink.stop_requested(), "pump says stopped but nobody called stop()");
      break;
    default:
      fail("pump returned an unexpected status");
  }
  return std::move(sink.log);
}

void compare(const result_log& got, const result_log& want) {
  check(got.events.size() == want.events.size(), "reader and reference saw a different number of PDUs");
  for (size_t i = 0; i < got.events.size(); ++i) {
    const event& g = got.events[i];
    const event& w = want.events[i];
    check(g.header == w.header, "reader and reference differ on a PDU header");
    check(g.data_len == w.data_len, "reader and reference differ on a data length");
    check(g.received == w.received, "reader and reference differ on whether a PDU completed");
    if (!g.received) continue;
    check(g.digest_ok == w.digest_ok, "reader and reference differ on a data digest verdict");
    check(g.data == w.data, "reader delivered different data bytes than the stream holds");
  }
  check(got.end == want.end, "reader and reference end differently");
  if (got.end == outcome::protocol_error) {
    check(got.error == want.error, "reader and reference report different term errors");
    check(got.error_header == want.error_header, "error_header() is not the offending header bytes");
  }
}

void run_role(pdu_role role, uint8_t c0, uint8_t c1, uint8_t chunk_seed, uint8_t policy,
              std::span<const std::byte> stream) {
  const uint8_t pda = c1 & 0x1f;
  pdu_check_params p{role, (c0 & 1) != 0, (c0 & 2) != 0, (c0 & 4) != 0, pda, max_datas[(c1 >> 5) & 3]};
  if (!p.connected) p.hdgst = p.ddgst = false;  // digests are negotiated by ICReq/ICResp
  const size_t budget = budgets[(c0 >> 5) & 7];

  checking_sink want_sink(p, policy, pda);
  result_log want = reference_parse(stream, want_sink);
  checking_sink got_sink(p, policy, pda);
  result_log got = run_reader(stream, got_sink, p, budget, chunk_seed);
  compare(got, want);
}

}  // namespace
}  // namespace nvmfd::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nvmfd;
  using namespace nvmfd::fuzz;
  fuzz_input in(data, size);
  const uint8_t c0 = in.u8(), c1 = in.u8(), chunk_seed = in.u8(), policy = in.u8();
  std::vector<std::byte> stream;
  if (c0 & 8) {
    stream = rle_expand(in.rest(), max_stream);
  } else {
    auto r = in.rest();
    stream.assign(reinterpret_cast<const std::byte*>(r.data()), reinterpret_cast<const std::byte*>(r.data() + r.size()));
  }
  if (c0 & 16) {
    const bool connected = c0 & 1;
    fix_digests(stream, 0, connected && (c0 & 2), connected && (c0 & 4));
  }
  run_role(pdu_role::target, c0, c1, chunk_seed, policy, stream);
  run_role(pdu_role::host, c0, c1, chunk_seed, policy, stream);
  return 0;
}
