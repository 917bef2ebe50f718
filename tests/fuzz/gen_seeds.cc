// fuzz_seed_gen OUTDIR: writes the seed corpora of the fuzz targets,
// OUTDIR/<target>/seed-<name>, each a small valid input (see each target's input format).
// The committed tests/fuzz/corpus was made with it:
//   build-fuzz/bin/fuzz_seed_gen tests/fuzz/corpus
// Seeds are RLE-packed (fuzz_support.h) where the target allows, so the corpus stays small.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_support.h"
#include "auth/dhchap_messages.h"
#include "keys/dhchap_secret.h"
#include "keys/tls_psk.h"
#include "proto/ana_log.h"
#include "proto/discovery_log.h"
#include "proto/features.h"
#include "proto/identify.h"
#include "proto/log_pages.h"

namespace nvmfd::fuzz {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view subnqn = "nqn.2024-01.io.nvmfd:fuzz";
constexpr std::string_view hostnqn = "nqn.2014-08.org.nvmexpress:uuid:6b1a3d64-4f3c-4f3e-9d4e-2c8a9f0b1e27";

using bytes = std::vector<std::byte>;

bool write_file(const fs::path& dir, const std::string& name, std::span<const uint8_t> b) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream f(dir / ("seed-" + name), std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!f) std::fprintf(stderr, "fuzz_seed_gen: cannot write %s\n", (dir / name).c_str());
  return static_cast<bool>(f);
}

// config bytes + payload; rle: the payload RLE-packed (the config must set the RLE bit).
bool seed(const fs::path& dir, const std::string& name, std::initializer_list<uint8_t> config, const bytes& payload,
          bool rle) {
  std::vector<uint8_t> out(config);
  if (rle) {
    auto p = rle_encode(payload);
    out.insert(out.end(), p.begin(), p.end());
  } else {
    for (auto b : payload) out.push_back(static_cast<uint8_t>(b));
  }
  return write_file(dir, name, out);
}

bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (auto& p : parts) append(out, p);
  return out;
}

bytes filled(size_t n, uint8_t v) { return bytes(n, std::byte{v}); }

// --- commands ------------------------------------------------------------------------------

nvme_sqe data_cmd(uint8_t opc, uint16_t cid, uint32_t nsid, uint32_t cdw10, uint32_t len) {
  nvme_sqe s = sqe(opc, cid, nsid);
  s.cdw10 = cdw10;
  sgl_transport(s, len);
  return s;
}
nvme_sqe identify_cmd(uint16_t cid, uint8_t cns, uint32_t nsid) {
  return data_cmd(static_cast<uint8_t>(admin_opcode::identify), cid, nsid, cns, identify_data_size);
}
nvme_sqe log_cmd(uint16_t cid, log_page_id lid, uint32_t len) {
  return data_cmd(static_cast<uint8_t>(admin_opcode::get_log_page), cid, 0,
                  static_cast<uint32_t>(lid) | ((len / 4 - 1) << 16), len);
}
nvme_sqe rw_cmd(io_opcode opc, uint16_t cid, uint32_t nsid, uint64_t slba, uint32_t nlb, uint32_t len) {
  nvme_sqe s = data_cmd(static_cast<uint8_t>(opc), cid, nsid, static_cast<uint32_t>(slba), len);
  s.cdw11 = static_cast<uint32_t>(slba >> 32);
  s.cdw12 = nlb - 1;
  return s;
}
bytes cmd(const nvme_sqe& s, bool hdgst = false, bool ddgst = false) { return capsule(s, {}, hdgst, ddgst); }
bytes cmd_with_data(nvme_sqe s, const bytes& data, bool hdgst = false, bool ddgst = false) {
  sgl_in_capsule(s, static_cast<uint32_t>(data.size()));
  return capsule(s, data, hdgst, ddgst);
}
bytes connect_admin(bool hdgst = false, bool ddgst = false, std::string_view nqn = subnqn) {
  const connect_data d = make_connect_data(nqn, hostnqn, cntlid_dynamic);
  return capsule(connect_sqe(1, 0, 31), bytes_of(d), hdgst, ddgst);
}

// --- fuzz_target_connection: [mode, icreq, chunks] + payload -------------------------------

void target_connection_seeds(const fs::path& dir) {
  const uint8_t rle = 8;
  // mode 0: the whole stream, handshake included.
  seed(dir, "raw-handshake-identify", {0 | rle, 0, 0},
       cat({ic_req(0, 0), connect_admin(), cmd(identify_cmd(2, 1, 0))}), true);
  // (ICReq then a bad PDU in one write is crash-icresp-and-termreq-share-ctrl-tx.)
  seed(dir, "raw-bad-icreq-pfv", {0, 0, 0}, [] {
    auto r = ic_req(0, 0);
    r[8] = std::byte{1};
    return r;
  }(), false);
  // mode 1: after our ICReq.
  seed(dir, "icreq-connect-properties", {1 | rle, 0, 0x21},
       cat({connect_admin(), cmd(property_sqe(fabrics_type::property_get, 2, property_offset::cap, 1)),
            cmd(property_sqe(fabrics_type::property_set, 3, property_offset::cc, 0, 0x00460001)),
            cmd(property_sqe(fabrics_type::property_get, 4, property_offset::csts, 0)),
            cmd(identify_cmd(5, 1, 0))}),
       true);
  seed(dir, "icreq-digests-connect", {1 | rle, 3, 0}, connect_admin(true, true), true);
  // mode 2: an admin queue of the fuzz subsystem.
  {
    nvme_sqe gf_nq = sqe(static_cast<uint8_t>(admin_opcode::get_features), 14);
    gf_nq.cdw10 = static_cast<uint32_t>(feature_id::number_of_queues);
    nvme_sqe gf_hostid =
        data_cmd(static_cast<uint8_t>(admin_opcode::get_features), 15, 0, static_cast<uint32_t>(feature_id::host_identifier), 16);
    gf_hostid.cdw11 = host_id_extended;
    nvme_sqe sf_aec = sqe(static_cast<uint8_t>(admin_opcode::set_features), 16);
    sf_aec.cdw10 = static_cast<uint32_t>(feature_id::async_event_configuration);
    sf_aec.cdw11 = aec_bits::namespace_attribute;
    nvme_sqe sf_temp = sqe(static_cast<uint8_t>(admin_opcode::set_features), 17);
    sf_temp.cdw10 = static_cast<uint32_t>(feature_id::temperature_threshold);
    sf_temp.cdw11 = 350;
    seed(dir, "admin-identify", {2, 0, 0},
         cat({cmd(identify_cmd(10, 1, 0)), cmd(identify_cmd(11, 0, 1)), cmd(identify_cmd(12, 2, 0)),
              cmd(identify_cmd(13, 3, 2))}),
         false);
    seed(dir, "admin-features", {2 | 32, 0, 0},
         cat({cmd(gf_nq), cmd(gf_hostid), cmd(sf_aec), cmd(sf_temp),
              cmd(sqe(static_cast<uint8_t>(admin_opcode::keep_alive), 18)),
              cmd(sqe(static_cast<uint8_t>(admin_opcode::async_event_request), 19)),
              cmd(sqe(static_cast<uint8_t>(admin_opcode::abort), 20)), cmd(sqe(0xc0, 21))}),
         false);
    seed(dir, "admin-log-pages", {2, 0, 0x05},
         cat({cmd(log_cmd(30, log_page_id::smart_health, 512)), cmd(log_cmd(31, log_page_id::error_information, 64)),
              cmd(log_cmd(32, log_page_id::firmware_slot, 512)),
              cmd(log_cmd(33, log_page_id::changed_namespace_list, 4096))}),
         false);
    seed(dir, "admin-disconnect", {2, 0, 0},
         cat({cmd(fabrics_sqe(fabrics_type::disconnect, 40)), cmd(identify_cmd(41, 1, 0))}), false);
    seed(dir, "admin-h2c-term-req", {2, 0, 0},
         term_req(pdu_type::h2c_term_req, term_fes::invalid_header_field, 4, filled(8, 0)), false);
    seed(dir, "admin-identify-1byte-chunks", {2, 0, 0x08}, cmd(identify_cmd(10, 1, 0)), false);
  }
  // mode 2 + discovery.
  seed(dir, "discovery-log", {2 | 4, 0, 0},
       cat({cmd(identify_cmd(1, 1, 0)), cmd(log_cmd(2, log_page_id::discovery, 4096)),
            cmd(log_cmd(3, log_page_id::discovery, 1024))}),
       false);
  // mode 3: an I/O queue (qid 1) of an enabled controller.
  const uint32_t dsm_range_bytes = 16;
  bytes range(dsm_range_bytes, std::byte{0});
  range[4] = std::byte{8};  // NLB 8, SLBA 0
  nvme_sqe dsm = sqe(static_cast<uint8_t>(io_opcode::dataset_management), 6, 1);
  dsm.cdw11 = 4;  // AD
  nvme_sqe wz = rw_cmd(io_opcode::write_zeroes, 5, 1, 8, 8, 0);
  seed(dir, "io-write-read-incapsule", {3 | rle, 0, 0},
       cat({cmd_with_data(rw_cmd(io_opcode::write, 1, 1, 0, 1, 512), filled(512, 0x5a)),
            cmd(rw_cmd(io_opcode::read, 2, 1, 0, 1, 512)), cmd(sqe(static_cast<uint8_t>(io_opcode::flush), 3, 1)),
            cmd(wz), cmd_with_data(dsm, range)}),
       true);
  seed(dir, "io-write-r2t-h2cdata", {3 | rle, 0, 0},
       cat({cmd(rw_cmd(io_opcode::write, 1, 2, 3, 1, 4096)), h2c_data(1, 0, 0, filled(4096, 0x33), true, false, false),
            cmd(rw_cmd(io_opcode::read, 2, 2, 3, 1, 4096))}),
       true);
  seed(dir, "io-digests-hpda", {3 | rle, 3 | (3 << 2), 0x13},
       cat({cmd_with_data(rw_cmd(io_opcode::write, 1, 1, 4, 2, 1024), filled(1024, 0xc3), true, true),
            cmd(rw_cmd(io_opcode::read, 2, 1, 4, 2, 1024), true, true)}),
       true);
  seed(dir, "io-large-h2cdata", {3 | rle, 0, 0},
       cat({cmd(rw_cmd(io_opcode::write, 1, 1, 0, 128, 65536)), h2c_data(1, 0, 0, filled(65536, 0x77), true, false, false)}),
       true);
  // Reservations: register (key 0x11), acquire Write Exclusive, report, a write as holder,
  // preempt with the own key, release, clear.
  auto resv = [](io_opcode op, uint16_t cid, uint32_t cdw10) {
    nvme_sqe r = sqe(static_cast<uint8_t>(op), cid, 1);
    r.cdw10 = cdw10;
    return r;
  };
  auto keys = [](uint8_t crkey, uint8_t other) {
    bytes k(16, std::byte{0});
    k[0] = std::byte{crkey};
    k[8] = std::byte{other};
    return k;
  };
  nvme_sqe report = resv(io_opcode::reservation_report, 3, 4096 / 4 - 1);
  report.cdw11 = 1;  // EDS
  sgl_transport(report, 4096);
  seed(dir, "io-reservations", {3 | rle, 0, 0},
       cat({cmd_with_data(resv(io_opcode::reservation_register, 1, 0), keys(0, 0x11)),
            cmd_with_data(resv(io_opcode::reservation_acquire, 2, 1u << 8), keys(0x11, 0)), cmd(report),
            cmd_with_data(rw_cmd(io_opcode::write, 4, 1, 0, 1, 512), filled(512, 0x42)),
            cmd_with_data(resv(io_opcode::reservation_acquire, 5, 1 | (3u << 8)), keys(0x11, 0x11)),
            cmd_with_data(resv(io_opcode::reservation_release, 6, 3u << 8), keys(0x11, 0)),
            cmd_with_data(resv(io_opcode::reservation_release, 7, 1), keys(0x11, 0))}),
       true);
  seed(dir, "io-split-h2cdata", {3 | rle, 2, 0x2e},
       cat({cmd(rw_cmd(io_opcode::write, 7, 2, 0, 2, 8192)), h2c_data(7, 0, 0, filled(4096, 1), false, false, true),
            h2c_data(7, 0, 4096, filled(4096, 2), true, false, true)}),
       true);
}

// --- fuzz_pdu_reader: [flags, pda/max, chunks, policy] + stream ----------------------------

void pdu_reader_seeds(const fs::path& dir) {
  const uint8_t connected = 1, hd = 2, dd = 4, rle = 8;
  seed(dir, "icreq", {0, 0, 0, 0}, ic_req(3, 0), false);
  seed(dir, "icresp-1byte", {0, 0, 0x08, 0}, ic_resp(3, 0), false);
  seed(dir, "connect-capsule", {connected | rle, 0, 0x1d, 0}, connect_admin(), true);
  seed(dir, "commands-and-data", {connected | rle, 0, 0x26, 0x41},
       cat({cmd(identify_cmd(1, 1, 0)), cmd_with_data(rw_cmd(io_opcode::write, 2, 1, 0, 1, 512), filled(512, 9)),
            h2c_data(3, 4, 0, filled(300, 7), true, false, false),
            term_req(pdu_type::h2c_term_req, term_fes::pdu_sequence_error, 0, filled(24, 1))}),
       true);
  seed(dir, "digests", {connected | hd | dd | rle, 0, 0x33, 0},
       cat({cmd_with_data(rw_cmd(io_opcode::write, 2, 1, 0, 1, 512), filled(512, 9), true, true),
            h2c_data(3, 4, 0, filled(100, 7), true, true, true)}),
       true);
  seed(dir, "handshake-then-digests", {rle, 0, 0x2a, 0},
       cat({ic_req(3, 0), cmd(identify_cmd(1, 1, 0), true, true), h2c_data(3, 4, 0, filled(64, 7), true, true, true)}),
       true);
  seed(dir, "aligned-pdo", {connected | rle, 3, 0, 0}, [] {
    capsule_cmd_pdu c{};
    c.ch.type = static_cast<uint8_t>(pdu_type::capsule_cmd);
    c.sqe = sqe(0x01, 1, 1);
    return make_pdu(bytes_of(c), filled(64, 4), false, false, 16);
  }(), true);
  seed(dir, "direct-receive", {connected | dd | rle, 0, 0x07, 0}, h2c_data(3, 4, 0, filled(20000, 0x61), true, false, true),
       true);
  // Controller to host, for the host role.
  capsule_resp_pdu resp{};
  resp.ch.type = static_cast<uint8_t>(pdu_type::capsule_resp);
  resp.cqe.cid = 1;
  data_pdu c2h{};
  c2h.ch.type = static_cast<uint8_t>(pdu_type::c2h_data);
  c2h.ch.flags = pdu_flags::last_pdu | pdu_flags::success;
  c2h.cccid = 2;
  c2h.datal = 256;
  r2t_pdu r2t{};
  r2t.ch.type = static_cast<uint8_t>(pdu_type::r2t);
  r2t.cccid = 3;
  r2t.r2tl = 4096;
  seed(dir, "controller-pdus", {connected | rle, 0, 0x1a, 0},
       cat({make_pdu(bytes_of(resp), {}, false, false), make_pdu(bytes_of(c2h), filled(256, 3), false, false),
            make_pdu(bytes_of(r2t), {}, false, false),
            term_req(pdu_type::c2h_term_req, term_fes::header_digest_error, 0, filled(8, 2))}),
       true);
}

// --- fuzz_proto_decoders: raw bytes --------------------------------------------------------

bytes discovery_log_page() {
  discovery_log_header h{};
  h.genctr = 3;
  h.numrec = 1;
  discovery_log_entry e{};
  e.trtype = static_cast<uint8_t>(transport_type::tcp);
  e.adrfam = static_cast<uint8_t>(address_family::ipv4);
  e.subtype = static_cast<uint8_t>(subsystem_type::nvme);
  e.cntlid = cntlid_dynamic;
  e.asqsz = 128;
  set_discovery_entry_text(e, subnqn, "127.0.0.1", "4420");
  bytes b;
  append(b, bytes_of(h));
  append(b, bytes_of(e));
  return b;
}

bytes ana_log_page() {
  ana_log_header h{};
  h.chgcnt = 1;
  h.ngrps = 2;
  ana_group_descriptor g1{}, g2{};
  g1.grpid = 1;
  g1.nnsids = 2;
  g1.state = static_cast<uint8_t>(ana_state::optimized);
  g2.grpid = 2;
  g2.nnsids = 1;
  g2.state = static_cast<uint8_t>(ana_state::inaccessible);
  bytes b;
  append(b, bytes_of(h));
  append(b, bytes_of(g1));
  le32 ids[3];
  ids[0] = 1;
  ids[1] = 2;
  ids[2] = 3;
  append(b, std::as_bytes(std::span(ids, 2)));
  append(b, bytes_of(g2));
  append(b, std::as_bytes(std::span(ids + 2, 1)));
  return b;
}

void proto_seeds(const fs::path& dir) {
  auto raw = [&](const std::string& name, const bytes& b) {
    std::vector<uint8_t> u(b.size());
    std::memcpy(u.data(), b.data(), b.size());
    write_file(dir, name, u);
  };
  auto text = [&](const std::string& name, std::string_view t) {
    write_file(dir, name, {reinterpret_cast<const uint8_t*>(t.data()), t.size()});
  };
  raw("icreq", ic_req(3, 0));
  raw("icresp", ic_resp(1, 0));
  raw("capsule-connect", connect_admin());
  raw("capsule-identify", cmd(identify_cmd(1, 1, 0), true, false));
  raw("h2cdata", h2c_data(1, 0, 0, filled(8, 1), true, true, true));
  raw("get-log-page-sqe", [] {
    auto s = log_cmd(1, log_page_id::smart_health, 512);
    s.cdw12 = 8;
    auto b = bytes_of(s);
    return bytes(b.begin(), b.end());
  }());
  {
    const connect_data d = make_connect_data(subnqn, hostnqn, cntlid_dynamic);
    auto b = bytes_of(d);
    raw("connect-data", bytes(b.begin(), b.end()));
  }
  {
    std::array<std::byte, identify_data_size> page{};
    const uint8_t eui[8] = {1, 2, 3, 4, 5, 6, 7, 8}, nguid[16] = {9}, id[16] = {7};
    const size_t n = build_ns_id_descriptors(page, eui, nguid, id, true);
    raw("ns-id-descriptors", bytes(page.begin(), page.begin() + static_cast<ptrdiff_t>(n + 4)));
  }
  text("nqn-discovery", discovery_nqn);
  text("nqn-domain", subnqn);
  text("nqn-uuid", hostnqn);
  text("uuid", "6b1a3d64-4f3c-4f3e-9d4e-2c8a9f0b1e27");
  raw("discovery-log", discovery_log_page());
  raw("ana-log", ana_log_page());
}


// --- controller-to-host PDUs (fuzz_host_pdu) ------------------------------------------------

bytes c2h_pdu(pdu_type t, std::span<const std::byte> header_after_ch, std::span<const std::byte> data, bool hdgst,
              bool ddgst) {
  bytes h(sizeof(pdu_common_header));
  auto ch = load_wire<pdu_common_header>(h.data());
  ch.type = static_cast<uint8_t>(t);
  std::memcpy(h.data(), &ch, sizeof(ch));
  append(h, header_after_ch);
  return make_pdu(h, data, hdgst, ddgst);
}

template <class S>
std::span<const std::byte> after_ch(const S& s) {
  return bytes_of(s).subspan(sizeof(pdu_common_header));
}

bytes resp(uint16_t cid, uint16_t status = 0, bool hdgst = false) {
  capsule_resp_pdu r{};
  r.cqe.cid = cid;
  r.cqe.status = status;
  return c2h_pdu(pdu_type::capsule_resp, after_ch(r), {}, hdgst, false);
}

bytes c2h(uint16_t cid, uint32_t datao, const bytes& data, bool last, bool success, bool hdgst = false,
          bool ddgst = false) {
  data_pdu d{};
  d.cccid = cid;
  d.datao = datao;
  d.datal = static_cast<uint32_t>(data.size());
  bytes out = c2h_pdu(pdu_type::c2h_data, after_ch(d), data, hdgst, ddgst);
  auto ch = load_wire<pdu_common_header>(out.data());
  ch.flags |= (last ? pdu_flags::last_pdu : 0) | (success ? pdu_flags::success : 0);
  std::memcpy(out.data(), &ch, sizeof(ch));
  return out;
}

bytes r2t(uint16_t cid, uint32_t offset, uint32_t len, bool hdgst = false) {
  r2t_pdu t{};
  t.cccid = cid;
  t.ttag = 9;
  t.r2to = offset;
  t.r2tl = len;
  return c2h_pdu(pdu_type::r2t, after_ch(t), {}, hdgst, false);
}

void host_pdu_seeds(const fs::path& dir) {
  // Commands: read cid 7 (4 KiB), write by R2T cid 6 (8 KiB), in-capsule write cid 5, flush cid 4.
  constexpr uint8_t all = 0x0f;
  const bytes happy = cat({c2h(7, 0, filled(4096, 0x42), true, false), resp(7), r2t(6, 0, 8192), resp(6), resp(5), resp(4)});
  seed(dir, "all-commands", {0x08, all, 0}, happy, true);
  seed(dir, "all-commands-chunked", {0x08, all, 0x13}, happy, true);
  seed(dir, "c2h-success", {0x08, 0x01, 0}, c2h(7, 0, filled(4096, 1), true, true), true);
  seed(dir, "read-in-two", {0x08, 0x01, 0}, cat({c2h(7, 0, filled(2048, 1), false, false), c2h(7, 2048, filled(2048, 2), true, false), resp(7)}), true);
  // The answer before the H2CData went out (the use-after-free of issue 15).
  seed(dir, "resp-before-h2c-sent", {0x08, 0x02, 0}, cat({r2t(6, 0, 8192), resp(6)}), true);
  seed(dir, "resp-before-capsule-sent", {0x08, 0x04, 0}, resp(5), true);
  seed(dir, "two-r2t-at-once", {0x08, 0x02, 0}, cat({r2t(6, 0, 4096), r2t(6, 4096, 4096), resp(6)}), true);
  seed(dir, "resubmit-from-callback", {0x28, 0x08, 0}, cat({resp(4), resp(static_cast<uint16_t>((2 << 2) | 0))}), true);
  seed(dir, "stale-cid", {0x08, 0x08, 0}, cat({resp(4), resp(4)}), true);
  seed(dir, "error-status", {0x08, 0x02, 0}, resp(6, 0x0002 << 1), true);
  seed(dir, "term-req", {0x08, all, 0}, term_req(pdu_type::c2h_term_req, term_fes::invalid_header_field, 0, filled(8, 0)), true);
  {
    const bytes d = cat({c2h(7, 0, filled(4096, 0x42), true, false, true, true), resp(7, 0, true), r2t(6, 0, 8192, true),
                         resp(6, 0, true)});
    seed(dir, "digests", {0x0e | 0x08, 0x03, 0}, d, true);
    seed(dir, "digests-fixed", {0x1e | 0x08, 0x03, 5}, d, true);
  }
  // Readers (mode 1): byte 1 is the discovery log read chunk.
  seed(dir, "discovery-log", {0x01, 3}, discovery_log_page(), true);
  seed(dir, "ana-log", {0x01, 0}, ana_log_page(), false);
  {
    identify_namespace ns{};
    ns.nsze = 1000;
    ns.nlbaf = 1;
    ns.flbas = identify_namespace::make_flbas(1);
    ns.lbaf[0].lbads = 9;
    ns.lbaf[1].lbads = 12;
    auto b = bytes_of(ns);
    seed(dir, "identify-namespace", {0x09, 0}, bytes(b.begin(), b.end()), true);
  }
  {
    identify_controller c{};
    c.mdts = 5;
    c.ioccsz = 260;
    auto b = bytes_of(c);
    seed(dir, "identify-controller", {0x09, 0}, bytes(b.begin(), b.end()), true);
  }
}

// --- DH-HMAC-CHAP messages (fuzz_auth_messages) --------------------------------------------

void auth_seeds(const fs::path& dir) {
  using namespace nvmfd::auth;
  negotiate_message n;
  n.tid = 1;
  n.hash_ids = {1, 2, 3};
  n.dh_ids = {0, 1, 2};
  challenge_message c;
  c.tid = 1;
  c.hashid = 1;
  c.dhgid = 0;
  c.seqnum = 7;
  c.c1.assign(32, 0x5c);
  reply_message r;
  r.tid = 1;
  r.cvalid = true;
  r.seqnum = 9;
  r.r1.assign(32, 1);
  r.c2.assign(32, 2);
  success1_message s1;
  s1.tid = 1;
  s1.hl = 32;
  s1.rvalid = true;
  s1.r2.assign(32, 3);
  success2_message s2;
  s2.tid = 1;
  failure_message f;
  f.tid = 1;
  f.explanation = static_cast<uint8_t>(failure_reason::failed);
  seed(dir, "negotiate", {0x00}, encode(n), false);
  seed(dir, "challenge", {0x00}, encode(c), false);
  seed(dir, "reply", {0x00}, encode(r), false);
  seed(dir, "success1", {0x00}, encode(s1), false);
  seed(dir, "success2", {0x00}, encode(s2), false);
  seed(dir, "failure1", {0x00}, encode(f), false);
  // Operation streams: <op> <len16> <payload>.
  auto op = [](uint8_t o, const bytes& payload, uint16_t len = 0) {
    bytes b{std::byte{o}, std::byte(payload.empty() ? len & 0xff : payload.size() & 0xff),
            std::byte(payload.empty() ? len >> 8 : payload.size() >> 8)};
    append(b, payload);
    return b;
  };
  seed(dir, "controller-negotiate-receive", {0x01, 0x00}, cat({op(0, encode(n)), op(1, {}, 4096), op(0, encode(r)), op(1, {}, 4096)}), false);
  seed(dir, "controller-bidirectional", {0x01, 0x01}, cat({op(0, encode(n)), op(1, {}, 4096), op(0, encode(r)), op(1, {}, 4096), op(0, encode(s2))}), false);
  seed(dir, "host-challenge", {0x02, 0x00}, cat({op(0, encode(c)), op(0, encode(s1))}), false);
  seed(dir, "host-failure1", {0x02, 0x00}, op(0, encode(f)), false);
  // Genuine exchanges: victim, offset, mask (0: intact), tid.
  seed(dir, "exchange-null", {0x03, 0x00, 0, 0, 0, 1, 0}, {}, false);
  seed(dir, "exchange-bidirectional-sha512", {0x03, 0x05, 0, 0, 0, 2, 0}, {}, false);
  seed(dir, "exchange-ffdhe2048", {0x03, 0x08 | 0x01, 0, 0, 0, 3, 0}, {}, false);
  seed(dir, "exchange-corrupt-reply", {0x03, 0x01, 2, 20, 0x01, 4, 0}, {}, false);
}

// --- text inputs: keys, JSON-RPC, configs ---------------------------------------------------

void text_seed(const fs::path& dir, const std::string& name, std::string_view t) {
  write_file(dir, name, {reinterpret_cast<const uint8_t*>(t.data()), t.size()});
}

void key_seeds(const fs::path& dir) {
  using namespace nvmfd::keys;
  std::vector<uint8_t> k32(32), k48(48), k64(64);
  for (size_t i = 0; i < 64; ++i) {
    if (i < 32) k32[i] = static_cast<uint8_t>(i);
    if (i < 48) k48[i] = static_cast<uint8_t>(i * 3);
    k64[i] = static_cast<uint8_t>(i * 7);
  }
  text_seed(dir, "dhchap-none-32", format_dhchap_secret(dhchap_secret{0, k32}));
  text_seed(dir, "dhchap-sha256", format_dhchap_secret(dhchap_secret{1, k32}));
  text_seed(dir, "dhchap-sha384", format_dhchap_secret(dhchap_secret{2, k48}) + "\n");
  text_seed(dir, "dhchap-sha512", format_dhchap_secret(dhchap_secret{3, k64}));
  text_seed(dir, "tls-sha256", format_tls_psk(tls_psk_key{1, k32}));
  text_seed(dir, "tls-sha384", format_tls_psk(tls_psk_key{2, k48}));
  text_seed(dir, "tls-none-48", "  " + format_tls_psk(tls_psk_key{0, k48}) + "\n");
  text_seed(dir, "bad-crc", "DHHC-1:00:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:");
}

constexpr std::string_view rpc_session =
    R"({"jsonrpc":"2.0","id":1,"method":"nvmf_create_transport","params":{"trtype":"TCP"}})" "\n"
    R"({"jsonrpc":"2.0","id":2,"method":"bdev_malloc_create","params":{"name":"Malloc0","block_size":512,"num_blocks":64}})" "\n"
    R"({"jsonrpc":"2.0","id":3,"method":"nvmf_create_subsystem","params":{"nqn":"nqn.2024-01.io.nvmfd:f","allow_any_host":true}})" "\n"
    R"({"jsonrpc":"2.0","id":4,"method":"nvmf_subsystem_add_ns","params":{"nqn":"nqn.2024-01.io.nvmfd:f","namespace":{"bdev_name":"Malloc0"}}})" "\n"
    R"({"jsonrpc":"2.0","id":5,"method":"nvmf_subsystem_add_host","params":{"nqn":"nqn.2024-01.io.nvmfd:f","host":"nqn.2014-08.org.nvmexpress:uuid:1"}})" "\n"
    R"({"jsonrpc":"2.0","id":6,"method":"nvmf_get_subsystems"})" "\n"
    R"({"jsonrpc":"2.0","id":"x","method":"bdev_get_bdevs","params":{"name":"Malloc0"}})" "\n";

void jsonrpc_seeds(const fs::path& dir) {
  text_seed(dir, "session", rpc_session);
  text_seed(dir, "batch", R"([{"jsonrpc":"2.0","id":1,"method":"spdk_get_version"},{"jsonrpc":"2.0","method":"rpc_get_methods"},{"id":2,"method":"nope"}])" "\n");
  text_seed(dir, "lvol", R"({"jsonrpc":"2.0","id":1,"method":"bdev_malloc_create","params":{"name":"M","block_size":4096,"num_blocks":2048}})" "\n"
                         R"({"jsonrpc":"2.0","id":2,"method":"bdev_lvol_create_lvstore","params":{"bdev_name":"M","lvs_name":"lvs"}})" "\n"
                         R"({"jsonrpc":"2.0","id":3,"method":"bdev_lvol_create","params":{"lvol_name":"v","size_in_mib":1,"lvs_name":"lvs"}})" "\n");
  text_seed(dir, "discovery", R"({"jsonrpc":"2.0","id":1,"method":"nvmf_discovery_add_referral","params":{"address":{"trtype":"TCP","traddr":"127.0.0.2","trsvcid":"4420"}}})" "\n"
                              R"({"jsonrpc":"2.0","id":2,"method":"nvmf_discovery_get_referrals"})" "\n");
  text_seed(dir, "invalid", "{\"jsonrpc\":\"1.0\",\"id\":[1]}\n{\"method\":5}\n[]\n{\n");
}

void config_seeds(const fs::path& dir) {
  text_seed(dir, "target", R"({"subsystems":[
 {"subsystem":"bdev","config":[{"method":"bdev_malloc_create","params":{"name":"Malloc0","block_size":512,"num_blocks":64}},
                               {"method":"bdev_null_create","params":{"name":"Null0","block_size":4096,"num_blocks":16}}]},
 {"subsystem":"nvmf","config":[{"method":"nvmf_create_transport","params":{"trtype":"TCP"}},
   {"method":"nvmf_create_subsystem","params":{"nqn":"nqn.2024-01.io.nvmfd:c","allow_any_host":false}},
   {"method":"nvmf_subsystem_add_ns","params":{"nqn":"nqn.2024-01.io.nvmfd:c","namespace":{"bdev_name":"Malloc0","nsid":3}}},
   {"method":"nvmf_subsystem_add_host","params":{"nqn":"nqn.2024-01.io.nvmfd:c","host":"nqn.2014-08.org.nvmexpress:uuid:1"}}]}
]}
)");
  text_seed(dir, "spdk-sections", R"({"subsystems":[{"subsystem":"iobuf","config":[{"method":"iobuf_set_options","params":{}}]},
 /* a comment */ {"subsystem":"sock","config":null},{"subsystem":"bdev","config":[[{"method":"bdev_wait_for_examine"}]]}]}
)");
  text_seed(dir, "empty", R"({"subsystems":[]})");
}

}  // namespace
}  // namespace nvmfd::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_gen OUTDIR   (e.g. tests/fuzz/corpus)\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  nvmfd::fuzz::target_connection_seeds(out / "fuzz_target_connection");
  nvmfd::fuzz::pdu_reader_seeds(out / "fuzz_pdu_reader");
  nvmfd::fuzz::proto_seeds(out / "fuzz_proto_decoders");
  nvmfd::fuzz::host_pdu_seeds(out / "fuzz_host_pdu");
  nvmfd::fuzz::auth_seeds(out / "fuzz_auth_messages");
  nvmfd::fuzz::key_seeds(out / "fuzz_key_formats");
  nvmfd::fuzz::jsonrpc_seeds(out / "fuzz_jsonrpc");
  nvmfd::fuzz::config_seeds(out / "fuzz_config_loader");
  return 0;
}
