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
  {
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
    raw("discovery-log", b);
  }
  {
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
    raw("ana-log", b);
  }
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
  return 0;
}
