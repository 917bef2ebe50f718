// fuzz_proto_decoders: the pure decoders and validators of src/proto (and uuid text
// parsing from src/base), each run on every input; no I/O.
//
// Besides ASan/UBSan, each one is held to its contract:
//  - decode_wire<S> fails exactly when the input is shorter than S, else copies the prefix,
//    and encode_wire gives the bytes back;
//  - field decoders stay within the widths of their fields;
//  - check_common_header, for every parameter combination, only passes headers whose
//    hlen, PDO, padding and data length describe a PDU that fits plen and the limits the
//    pdu_reader relies on;
//  - put_header_digest then check_header_digest passes; check_ic_req/check_ic_resp flag
//    only the fields they name;
//  - parse_ns_id_descriptors results rebuild (build_ns_id_descriptors) and re-parse to the
//    same identifiers; validate_nqn accepts only what its contract allows;
//  - the discovery, ANA and identify readers stay inside their structures; encoders and
//    decoders of CAP, CC, status, AER, queue counts and le128 round-trip.
#include <algorithm>
#include <string>

#include "base/uuid.h"
#include "fuzz_support.h"
#include "proto/ana_log.h"
#include "proto/controller_properties.h"
#include "proto/discovery_log.h"
#include "proto/features.h"
#include "proto/identify.h"
#include "proto/log_pages.h"
#include "proto/nqn.h"

namespace nvmfd::fuzz {
namespace {

volatile uint64_t sink_hole;

template <class S>
void wire_round_trip(std::span<const std::byte> in) {
  auto v = decode_wire<S>(in);
  check(v.has_value() == (in.size() >= sizeof(S)), "decode_wire length rule broken");
  if (!v) return;
  check(std::memcmp(&*v, in.data(), sizeof(S)) == 0, "decode_wire did not copy the prefix");
  std::array<std::byte, sizeof(S)> out{};
  encode_wire(*v, out);
  check(std::memcmp(out.data(), in.data(), sizeof(S)) == 0, "encode_wire(decode_wire(x)) != x");
}

void all_wire_structs(std::span<const std::byte> in) {
  wire_round_trip<pdu_common_header>(in);
  wire_round_trip<ic_req_pdu>(in);
  wire_round_trip<ic_resp_pdu>(in);
  wire_round_trip<term_req_pdu>(in);
  wire_round_trip<capsule_cmd_pdu>(in);
  wire_round_trip<capsule_resp_pdu>(in);
  wire_round_trip<data_pdu>(in);
  wire_round_trip<r2t_pdu>(in);
  wire_round_trip<nvme_sqe>(in);
  wire_round_trip<nvme_cqe>(in);
  wire_round_trip<sgl_descriptor>(in);
  wire_round_trip<connect_command>(in);
  wire_round_trip<connect_data>(in);
  wire_round_trip<property_command>(in);
  wire_round_trip<identify_controller>(in);
  wire_round_trip<identify_namespace>(in);
  wire_round_trip<power_state_descriptor>(in);
  wire_round_trip<lba_format>(in);
  wire_round_trip<ns_id_descriptor_header>(in);
  wire_round_trip<discovery_log_header>(in);
  wire_round_trip<discovery_log_entry>(in);
  wire_round_trip<ana_log_header>(in);
  wire_round_trip<ana_group_descriptor>(in);
  wire_round_trip<error_information_entry>(in);
  wire_round_trip<smart_health_log>(in);
  wire_round_trip<firmware_slot_log>(in);
  wire_round_trip<changed_namespace_list_log>(in);
  wire_round_trip<commands_supported_effects_log>(in);
}

// A 64-byte SQE from the input (zero padded), through every command decoder.
void sqe_decoders(std::span<const std::byte> in) {
  std::array<std::byte, sizeof(nvme_sqe)> raw{};
  std::copy_n(in.begin(), std::min(in.size(), raw.size()), raw.begin());
  const auto s = load_wire<nvme_sqe>(raw.data());
  check(s.psdt() <= 3 && s.fuse() <= 3, "PSDT/FUSE wider than 2 bits");
  check(s.fctype() == static_cast<uint8_t>(raw[4]), "FCTYPE is not byte 4");

  const auto c = decode_connect(s);
  check(c.qid.value == (uint16_t(raw[42]) | uint16_t(raw[43]) << 8), "Connect QID is not bytes 43:42");
  check(c.sq_flow_control_disabled() == ((c.cattr & 4) != 0), "CATTR bit 2");
  const auto p = decode_property(s);
  check(p.size_code <= 7 && (p.size_bytes() == 0 || p.size_bytes() == 4 || p.size_bytes() == 8), "ATTRIB size");
  check(property_width(p.offset) == 4 || property_width(p.offset) == 8, "property width");

  const auto id = decode_identify(s);
  check(id.uuid_index < 128 && id.nsid == s.nsid.get(), "identify fields");
  const auto lp = decode_get_log_page(s);
  check(lp.numd >= 1 && lp.numd <= (uint64_t{1} << 32), "NUMD outside 1 .. 2^32");
  check(lp.length_bytes() == lp.numd * 4 && lp.lsp < 128 && lp.uuid_index < 128, "log page fields");
  check(lp.offset_aligned() == (lp.ot || lp.offset_bytes % 4 == 0), "offset_aligned");
  const auto gf = decode_get_features(s);
  check(gf.sel <= 7 && gf.uuid_index < 128, "get features fields");
  const auto sf = decode_set_features(s);
  check(sf.fid == gf.fid && sf.cdw11 == gf.cdw11, "get/set features disagree on FID/CDW11");
  const auto q = queue_counts::decode(sf.cdw11);
  check(q.encode() == sf.cdw11, "queue_counts round trip");
  check(q.valid_request() == (q.nsq != 0xffff && q.ncq != 0xffff), "queue_counts validity");
  sink_hole = c.kato_ms + p.value + id.cns + lp.lid + gf.fid;
}

// Every parameter combination of check_common_header on the first 8 bytes.
void common_header_rules(std::span<const std::byte> in, uint8_t extra_pda, uint32_t extra_max) {
  if (in.size() < sizeof(pdu_common_header)) return;
  const auto ch = load_wire<pdu_common_header>(in.data());
  const auto type = static_cast<pdu_type>(ch.type);
  const bool ic = type == pdu_type::ic_req || type == pdu_type::ic_resp;
  const bool term = type == pdu_type::h2c_term_req || type == pdu_type::c2h_term_req;
  const std::array<uint8_t, 5> pdas{0, 1, 3, 31, static_cast<uint8_t>(extra_pda & 31)};
  const std::array<uint32_t, 5> maxes{0, 4096, 8192, 131072, extra_max};
  for (auto role : {pdu_role::target, pdu_role::host})
    for (int bits = 0; bits < 8; ++bits)
      for (uint8_t pda : pdas)
        for (uint32_t max_data : maxes) {
          const pdu_check_params p{role, (bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, pda, max_data};
          const auto e = check_common_header(ch, p);
          if (e) {
            const auto fes = static_cast<uint16_t>(e->fes);
            check(fes >= 1 && fes <= 6, "undefined FES");
            check(e->fes != term_fes::invalid_header_field || e->fei <= 4, "FEI outside the common header");
            continue;
          }
          const uint32_t plen = ch.plen.get();
          check(ch.hlen == pdu_header_length(type) && ch.hlen > 0 && ch.hlen <= 128, "accepted a bad hlen");
          const bool hd = pdu_has_header_digest(ch, p.hdgst);
          const bool dd = pdu_has_data_digest(ch, p.hdgst, p.ddgst);
          const uint32_t data = pdu_data_length(ch, p.hdgst, p.ddgst);
          const uint32_t pad = data > 0 ? pdu_padding(ch, p.hdgst) : 0;
          if (ic) {
            check(plen == 128 && data == 0 && !hd && !dd, "accepted a bad ICReq/ICResp");
            continue;
          }
          if (term) {
            check(plen >= ch.hlen && data == plen - ch.hlen && data <= max_term_req_data && !hd && !dd,
                  "accepted a bad TermReq");
            continue;
          }
          check(hd == p.hdgst, "header digest presence is not the negotiated one");
          const uint64_t total = uint64_t{ch.hlen} + (hd ? digest_len : 0) + pad + data + (dd ? digest_len : 0);
          check(total == plen, "hlen + digests + padding + data != plen");
          check(data <= max_data, "accepted data above max_data");
          check(dd == (p.ddgst && data > 0), "data digest presence");
          if (data > 0) {
            check(ch.pdo % ((uint32_t{pda} + 1) * 4) == 0, "accepted a misaligned PDO");
            check(uint32_t{ch.hlen} + (hd ? digest_len : 0) + pad == ch.pdo, "padding does not end at PDO");
          }
        }
}

void digest_rules(std::span<const std::byte> in, uint8_t hlen) {
  check(check_header_digest(in.first(std::min<size_t>(in.size(), size_t{hlen} + digest_len - 1)), hlen).has_value(),
        "check_header_digest passed a span without room for the digest");
  sink_hole = check_header_digest(in, hlen).has_value();
  if (in.size() < hlen) return;
  std::vector<std::byte> h(in.begin(), in.begin() + hlen);
  h.resize(size_t{hlen} + digest_len);
  put_header_digest(h, hlen);
  check(!check_header_digest(h, hlen), "put_header_digest then check_header_digest failed");
}

void ic_rules(std::span<const std::byte> in, uint8_t requested) {
  if (auto r = decode_wire<ic_req_pdu>(in)) {
    auto e = check_ic_req(*r);
    const bool bad = r->pfv.get() != 0 || r->hpda > max_pda;
    check(e.has_value() == bad, "check_ic_req verdict");
    if (e) check(e->fes == term_fes::invalid_header_field && (e->fei == 8 || e->fei == 10), "check_ic_req FEI");
  }
  if (auto r = decode_wire<ic_resp_pdu>(in)) {
    auto e = check_ic_resp(*r, requested);
    const uint32_t m = r->maxh2cdata.get();
    const bool bad = r->pfv.get() != 0 || r->cpda > max_pda || (r->dgst & ~requested) || m < 4096 || m % 4;
    check(e.has_value() == bad, "check_ic_resp verdict");
  }
}

void ns_id_rules(std::span<const std::byte> in) {
  auto r = parse_ns_id_descriptors(in);
  if (!r) return;
  const auto& d = *r;
  std::array<std::byte, identify_data_size> page{};
  const size_t used = build_ns_id_descriptors(page, d.eui64 ? d.eui64->data() : nullptr,
                                              d.nguid ? d.nguid->data() : nullptr, d.uuid ? d.uuid->data() : nullptr,
                                              d.csi.has_value());
  check(used <= page.size(), "descriptor list overran the page");
  auto again = parse_ns_id_descriptors(page);
  check(again.ok(), "a rebuilt descriptor list does not parse");
  check(again->eui64 == d.eui64 && again->nguid == d.nguid && again->uuid == d.uuid, "descriptor ids changed");
  check(again->csi.has_value() == d.csi.has_value(), "CSI presence changed");
  if (d.csi) check(*again->csi == static_cast<uint8_t>(command_set::nvm), "rebuilt CSI is not NVM");
}

void nqn_rules(std::span<const std::byte> in) {
  const std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
  if (validate_nqn(text)) {
    check(!text.empty() && text.size() <= nqn_max_length, "validate_nqn accepted a bad length");
    check(std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }),
          "validate_nqn accepted a control character");
    check(text.starts_with("nqn."), "validate_nqn accepted a name without 'nqn.'");
  }
  std::array<char, nqn_field_size> field{};
  std::copy_n(text.begin(), std::min(text.size(), field.size()), field.begin());
  const std::string_view v = nqn_from_field(field);
  check(v.data() == field.data() && v.size() <= field.size(), "nqn_from_field outside its field");
  check(v.find('\0') == std::string_view::npos, "nqn_from_field includes a NUL");
  sink_hole = validate_nqn(v).ok() + is_discovery_nqn(v);

  if (auto u = uuid::parse(text)) {
    auto back = uuid::parse(u->to_string());
    check(back && *back == *u, "uuid text round trip");
    auto hex = uuid::parse(u->to_hex_upper());
    check(hex && *hex == *u, "uuid hex round trip");
  }
}

template <size_t N>
void padded_in_field(const std::array<char, N>& f, std::string_view v) {
  check(v.data() == f.data() && v.size() <= N, "read_padded outside its field");
  check(v.empty() || v.back() != ' ', "read_padded kept a trailing space");
}

// Reads a discovery log page as a host does: header, then numrec entries if present.
void discovery_rules(std::span<const std::byte> in) {
  auto h = decode_wire<discovery_log_header>(in);
  if (!h) return;
  const uint64_t numrec = h->numrec.get();
  const uint64_t have = (in.size() - sizeof(discovery_log_header)) / sizeof(discovery_log_entry);
  for (uint64_t i = 0; i < std::min(numrec, have); ++i) {
    const uint64_t at = discovery_entry_offset(i);
    check(at + sizeof(discovery_log_entry) <= in.size(), "discovery_entry_offset past the page");
    auto e = decode_wire<discovery_log_entry>(in.subspan(at));
    check(e.has_value(), "entry shorter than 1024 bytes");
    padded_in_field(e->trsvcid, e->trsvcid_text());
    padded_in_field(e->traddr, e->traddr_text());
    padded_in_field(e->subnqn, e->subnqn_text());
    // Writing the texts back and reading them again gives the same texts.
    discovery_log_entry w{};
    const std::string sub(e->subnqn_text()), addr(e->traddr_text()), svc(e->trsvcid_text());
    const bool fits = set_discovery_entry_text(w, sub, addr, svc);
    check(fits == (sub.size() < 256), "set_discovery_entry_text fit verdict");
    if (fits) {
      check(w.subnqn_text() == sub && w.traddr_text() == addr && w.trsvcid_text() == svc, "entry text round trip");
    }
  }
  check(discovery_log_size(std::min(numrec, have)) <= in.size(), "discovery_log_size");
}

// Walks an ANA log page within the buffer, as a host does.
void ana_rules(std::span<const std::byte> in) {
  auto h = decode_wire<ana_log_header>(in);
  if (!h) return;
  size_t at = sizeof(ana_log_header);
  uint64_t nsids = 0;
  for (uint32_t g = 0; g < h->ngrps.get(); ++g) {
    auto d = decode_wire<ana_group_descriptor>(in.subspan(at));
    if (!d) break;
    const uint64_t n = d->nnsids.get();
    const auto st = static_cast<uint8_t>(d->ana());
    check(st <= 0xf, "ANA state wider than 4 bits");
    at += sizeof(ana_group_descriptor);
    if (n > (in.size() - at) / 4) break;
    at += static_cast<size_t>(n) * 4;
    nsids += n;
    check(ana_log_size(g + 1, nsids) == at, "ana_log_size disagrees with the walk");
  }
}

void identify_rules(std::span<const std::byte> in) {
  if (auto ns = decode_wire<identify_namespace>(in)) {
    const uint8_t idx = ns->flbas_format_index();
    check(idx < 64, "FLBAS index past the LBA format table");
    const lba_format& f = ns->current_format();
    check(&f >= ns->lbaf && &f < ns->lbaf + 64, "current_format outside lbaf");
    check(identify_namespace::make_flbas(idx, ns->flbas_extended_metadata()) == (ns->flbas & 0x7f),
          "FLBAS round trip");
    sink_hole = f.lba_size_bytes();
  }
  if (auto id = decode_wire<identify_controller>(in)) {
    sink_hole = static_cast<uint8_t>(id->type()) + read_padded(id->subnqn).size();
    padded_in_field(id->subnqn, read_padded(id->subnqn));
  }
}

void register_rules(std::span<const std::byte> in) {
  std::array<std::byte, 16> raw{};
  std::copy_n(in.begin(), std::min(in.size(), raw.size()), raw.begin());
  const uint64_t v = load_wire<le64>(raw.data()).get();
  const uint32_t w = static_cast<uint32_t>(v);
  const auto cap = cap_fields::decode(v);
  check(cap_fields::decode(cap.encode()) == cap, "CAP decode/encode round trip");
  check((cap.encode() & ~v) == 0, "CAP encode set bits that were not in the value");
  const cc_register cc{w};
  const auto cc2 = cc_register::make(cc.en(), cc.css(), cc.mps(), cc.ams(), cc.shn(), cc.iosqes(), cc.iocqes());
  check(cc2.raw == (w & 0x00ffffffu & ~0x0eu), "CC make/accessors round trip");
  check(static_cast<uint8_t>(csts_shst(w)) <= 3, "CSTS.SHST");
  const uint16_t raw_status = static_cast<uint16_t>(v);
  check(nvme_status::decode(raw_status).encode() == (raw_status & 0xcffe), "status decode/encode round trip");
  const auto aer = aer_fields::decode(w);
  check(aer_result(aer.type, aer.info, aer.log_page_id) == (w & 0x00ffff07u), "AER decode/encode round trip");
  uint8_t le128[16];
  std::memcpy(le128, raw.data(), 16);
  bool sat = false;
  const uint64_t low = get_le128_low(le128, &sat);
  uint8_t again[16];
  set_le128(again, low);
  check(get_le128_low(again) == low && std::memcmp(again, le128, 8) == 0, "le128 round trip");
  check(sat == std::any_of(le128 + 8, le128 + 16, [](uint8_t b) { return b != 0; }), "le128 saturation flag");
}

}  // namespace
}  // namespace nvmfd::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nvmfd::fuzz;
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  const uint8_t b0 = size > 0 ? data[0] : 0;
  const uint32_t extra_max = size >= 12 ? (uint32_t{data[8]} | uint32_t{data[9]} << 8 | uint32_t{data[10]} << 16) : 0;
  all_wire_structs(in);
  sqe_decoders(in);
  common_header_rules(in, b0, extra_max);
  if (size > 0) {
    digest_rules(in.subspan(1), b0);
    ic_rules(in, data[size - 1]);
  }
  ns_id_rules(in);
  nqn_rules(in);
  discovery_rules(in);
  ana_rules(in);
  identify_rules(in);
  register_rules(in);
  return 0;
}
