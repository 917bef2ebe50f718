#pragma once
// Identify command (NVMe Base 2.0 5.17): command fields, the Identify Controller and
// Identify Namespace data structures, and the Namespace Identification Descriptor list.
// Offsets are checked against the spec figures and Linux include/linux/nvme.h.
// Pure data and functions; callable from any core.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <optional>
#include <span>
#include <type_traits>

#include "base/le.h"
#include "base/result.h"
#include "proto/nvme_command.h"

namespace nvmfd {

inline constexpr size_t identify_data_size = 4096;

// Controller or Namespace Structure, CDW10 bits 7:0 (Base 2.0 Figure 273).
enum class identify_cns : uint8_t {
  namespace_ = 0x00,
  controller = 0x01,
  active_namespace_list = 0x02,
  namespace_id_descriptors = 0x03,
  io_cs_namespace = 0x05,            // I/O command set specific namespace (CSI selects)
  io_cs_controller = 0x06,
  io_cs_active_namespace_list = 0x07,
  cs_independent_namespace = 0x08,
  allocated_namespace_list = 0x10,
  allocated_namespace = 0x11,
  namespace_attached_controller_list = 0x12,
  controller_list = 0x13,
  command_set_list = 0x1c,
};

// Command Set Identifier (Base 2.0 Figure 258).
enum class command_set : uint8_t { nvm = 0x00, key_value = 0x01, zoned = 0x02 };

// The Identify command's fields.
struct identify_fields {
  uint8_t cns = 0;         // CDW10 bits 7:0
  uint16_t cntid = 0;      // CDW10 bits 31:16
  uint16_t cnssid = 0;     // CDW11 bits 15:0 (CNS specific identifier)
  uint8_t csi = 0;         // CDW11 bits 31:24
  uint8_t uuid_index = 0;  // CDW14 bits 6:0
  uint32_t nsid = 0;
};

constexpr identify_fields decode_identify(const nvme_sqe& sqe) {
  const uint32_t cdw10 = sqe.cdw10.get(), cdw11 = sqe.cdw11.get();
  return {static_cast<uint8_t>(cdw10 & 0xff), static_cast<uint16_t>(cdw10 >> 16),
          static_cast<uint16_t>(cdw11 & 0xffff), static_cast<uint8_t>(cdw11 >> 24),
          static_cast<uint8_t>(sqe.cdw14.get() & 0x7f), sqe.nsid.get()};
}

// --- Identify Controller (Base 2.0 Figure 275; NVMe-oF fields at 1792) ------------------

// CNTRLTYPE, byte 111.
enum class controller_type : uint8_t { not_reported = 0, io = 1, discovery = 2, admin = 3 };

// Bits of the controller's capability fields, named after the spec mnemonics.
namespace cmic_bits {
inline constexpr uint8_t multi_port = 1u << 0, multi_controller = 1u << 1, sriov = 1u << 2,
                         ana_reporting = 1u << 3;
}
namespace oaes_bits {  // same positions as the Asynchronous Event Configuration feature
inline constexpr uint32_t namespace_attribute = 1u << 8, firmware_activation = 1u << 9,
                          ana_change = 1u << 11, discovery_log_change = 1u << 31;
}
namespace ctratt_bits {
inline constexpr uint32_t host_id_128 = 1u << 0, tbkas = 1u << 6;
}
namespace oacs_bits {
inline constexpr uint16_t security = 1u << 0, format_nvm = 1u << 1, firmware = 1u << 2,
                          ns_management = 1u << 3, self_test = 1u << 4, directives = 1u << 5,
                          virtualization = 1u << 7, doorbell_buffer = 1u << 8;
}
namespace lpa_bits {
inline constexpr uint8_t smart_per_namespace = 1u << 0, commands_effects = 1u << 1,
                         extended_data = 1u << 2,  // NUMDU, LPOL/LPOU honoured
                         telemetry = 1u << 3, persistent_event = 1u << 4;
}
namespace oncs_bits {
inline constexpr uint16_t compare = 1u << 0, write_uncorrectable = 1u << 1,
                          dataset_management = 1u << 2, write_zeroes = 1u << 3,
                          save_select = 1u << 4, reservations = 1u << 5, timestamp = 1u << 6,
                          verify = 1u << 7, copy = 1u << 8;
}
namespace vwc_bits {
inline constexpr uint8_t present = 1u << 0;
inline constexpr uint8_t flush_broadcast_supported = 0x3u << 1;  // bits 2:1 = 11b
inline constexpr uint8_t flush_broadcast_unsupported = 0x2u << 1;
}
namespace anacap_bits {
inline constexpr uint8_t optimized = 1u << 0, non_optimized = 1u << 1, inaccessible = 1u << 2,
                         persistent_loss = 1u << 3, change = 1u << 4,
                         grpid_static = 1u << 6, grpid_nonzero_supported = 1u << 7;
}
namespace sgls_bits {
inline constexpr uint32_t supported = 0x1;                // bits 1:0 = 01b, no alignment rule
inline constexpr uint32_t keyed_data_block = 1u << 2;     // RDMA only
inline constexpr uint32_t address_is_offset = 1u << 20;   // needed for in-capsule data
}

// Power State Descriptor (Base 2.0 Figure 276), 32 bytes.
struct power_state_descriptor {
  le16 mp;                // maximum power, centiwatts (or 0.0001 W if flags bit 0)
  uint8_t reserved2;
  uint8_t flags;          // bit 0 MXPS, bit 1 NOPS
  le32 enlat;             // entry latency, us
  le32 exlat;             // exit latency, us
  uint8_t rrt, rrl, rwt, rwl;
  le16 idlp;
  uint8_t ips;            // bits 7:6
  uint8_t reserved19;
  le16 actp;
  uint8_t apw_aps;
  uint8_t reserved23[9];
};
static_assert(sizeof(power_state_descriptor) == 32);
static_assert(offsetof(power_state_descriptor, flags) == 3);
static_assert(offsetof(power_state_descriptor, enlat) == 4);
static_assert(offsetof(power_state_descriptor, exlat) == 8);
static_assert(offsetof(power_state_descriptor, rrt) == 12);
static_assert(offsetof(power_state_descriptor, rwl) == 15);
static_assert(offsetof(power_state_descriptor, idlp) == 16);
static_assert(offsetof(power_state_descriptor, ips) == 18);
static_assert(offsetof(power_state_descriptor, actp) == 20);
static_assert(offsetof(power_state_descriptor, apw_aps) == 22);

// Value-initialize (`identify_controller id{};`) to get the all-zero structure.
struct identify_controller {
  le16 vid;
  le16 ssvid;
  std::array<char, 20> sn;   // ASCII, space padded
  std::array<char, 40> mn;
  std::array<char, 8> fr;
  uint8_t rab;
  uint8_t ieee[3];
  uint8_t cmic;
  uint8_t mdts;              // max data transfer, 2^n units of CAP.MPSMIN; 0 = no limit
  le16 cntlid;
  le32 ver;
  le32 rtd3r;
  le32 rtd3e;
  le32 oaes;
  le32 ctratt;
  le16 rrls;
  uint8_t reserved102[9];
  uint8_t cntrltype;         // controller_type
  uint8_t fguid[16];
  le16 crdt1;
  le16 crdt2;
  le16 crdt3;
  uint8_t reserved134[119];
  uint8_t nvmsr;             // NVMe-MI fields, 253..255
  uint8_t vwci;
  uint8_t mec;
  le16 oacs;
  uint8_t acl;
  uint8_t aerl;              // zero-based
  uint8_t frmw;
  uint8_t lpa;
  uint8_t elpe;              // zero-based
  uint8_t npss;
  uint8_t avscc;
  uint8_t apsta;
  le16 wctemp;
  le16 cctemp;
  le16 mtfa;
  le32 hmpre;
  le32 hmmin;
  uint8_t tnvmcap[16];
  uint8_t unvmcap[16];
  le32 rpmbs;
  le16 edstt;
  uint8_t dsto;
  uint8_t fwug;
  le16 kas;                  // keep alive granularity, 100 ms units
  le16 hctma;
  le16 mntmt;
  le16 mxtmt;
  le32 sanicap;
  le32 hmminds;
  le16 hmmaxd;
  le16 nsetidmax;
  le16 endgidmax;
  uint8_t anatt;             // seconds
  uint8_t anacap;
  le32 anagrpmax;
  le32 nanagrpid;
  le32 pels;
  le16 domainid;
  uint8_t reserved358[10];
  uint8_t megcap[16];
  uint8_t reserved384[128];
  uint8_t sqes;              // bits 7:4 max, 3:0 required, log2 bytes
  uint8_t cqes;
  le16 maxcmd;
  le32 nn;
  le16 oncs;
  le16 fuses;
  uint8_t fna;
  uint8_t vwc;
  le16 awun;
  le16 awupf;
  uint8_t icsvscc;
  uint8_t nwpc;
  le16 acwu;
  le16 ocfs;
  le32 sgls;
  le32 mnan;
  uint8_t maxdna[16];
  le32 maxcna;
  uint8_t reserved564[204];
  std::array<char, 256> subnqn;  // NUL terminated and padded
  uint8_t reserved1024[768];
  // NVMe over Fabrics (NVMe-oF 1.1 Figure 28)
  le32 ioccsz;               // I/O command capsule size, 16-byte units (64-byte SQE included)
  le32 iorcsz;               // I/O response capsule size, 16-byte units
  le16 icdoff;               // in-capsule data offset, 16-byte units
  uint8_t fcatt;             // bit 0: 1 = static controller model
  uint8_t msdbd;             // max SGL data block descriptors
  le16 ofcs;                 // bit 0: Disconnect command supported
  uint8_t dctype;            // discovery controller type: 1 direct, 2 central
  uint8_t reserved1807[241];
  power_state_descriptor psd[32];
  uint8_t vs[1024];

  constexpr controller_type type() const { return static_cast<controller_type>(cntrltype); }
};
static_assert(sizeof(identify_controller) == identify_data_size);
static_assert(alignof(identify_controller) == 1);
static_assert(std::is_trivially_copyable_v<identify_controller>);
static_assert(offsetof(identify_controller, ssvid) == 2);
static_assert(offsetof(identify_controller, sn) == 4);
static_assert(offsetof(identify_controller, mn) == 24);
static_assert(offsetof(identify_controller, fr) == 64);
static_assert(offsetof(identify_controller, rab) == 72);
static_assert(offsetof(identify_controller, ieee) == 73);
static_assert(offsetof(identify_controller, cmic) == 76);
static_assert(offsetof(identify_controller, mdts) == 77);
static_assert(offsetof(identify_controller, cntlid) == 78);
static_assert(offsetof(identify_controller, ver) == 80);
static_assert(offsetof(identify_controller, rtd3r) == 84);
static_assert(offsetof(identify_controller, rtd3e) == 88);
static_assert(offsetof(identify_controller, oaes) == 92);
static_assert(offsetof(identify_controller, ctratt) == 96);
static_assert(offsetof(identify_controller, rrls) == 100);
static_assert(offsetof(identify_controller, cntrltype) == 111);
static_assert(offsetof(identify_controller, fguid) == 112);
static_assert(offsetof(identify_controller, crdt1) == 128);
static_assert(offsetof(identify_controller, crdt2) == 130);
static_assert(offsetof(identify_controller, crdt3) == 132);
static_assert(offsetof(identify_controller, nvmsr) == 253);
static_assert(offsetof(identify_controller, vwci) == 254);
static_assert(offsetof(identify_controller, mec) == 255);
static_assert(offsetof(identify_controller, oacs) == 256);
static_assert(offsetof(identify_controller, acl) == 258);
static_assert(offsetof(identify_controller, aerl) == 259);
static_assert(offsetof(identify_controller, frmw) == 260);
static_assert(offsetof(identify_controller, lpa) == 261);
static_assert(offsetof(identify_controller, elpe) == 262);
static_assert(offsetof(identify_controller, npss) == 263);
static_assert(offsetof(identify_controller, avscc) == 264);
static_assert(offsetof(identify_controller, apsta) == 265);
static_assert(offsetof(identify_controller, wctemp) == 266);
static_assert(offsetof(identify_controller, cctemp) == 268);
static_assert(offsetof(identify_controller, mtfa) == 270);
static_assert(offsetof(identify_controller, hmpre) == 272);
static_assert(offsetof(identify_controller, hmmin) == 276);
static_assert(offsetof(identify_controller, tnvmcap) == 280);
static_assert(offsetof(identify_controller, unvmcap) == 296);
static_assert(offsetof(identify_controller, rpmbs) == 312);
static_assert(offsetof(identify_controller, edstt) == 316);
static_assert(offsetof(identify_controller, dsto) == 318);
static_assert(offsetof(identify_controller, fwug) == 319);
static_assert(offsetof(identify_controller, kas) == 320);
static_assert(offsetof(identify_controller, hctma) == 322);
static_assert(offsetof(identify_controller, mntmt) == 324);
static_assert(offsetof(identify_controller, mxtmt) == 326);
static_assert(offsetof(identify_controller, sanicap) == 328);
static_assert(offsetof(identify_controller, hmminds) == 332);
static_assert(offsetof(identify_controller, hmmaxd) == 336);
static_assert(offsetof(identify_controller, nsetidmax) == 338);
static_assert(offsetof(identify_controller, endgidmax) == 340);
static_assert(offsetof(identify_controller, anatt) == 342);
static_assert(offsetof(identify_controller, anacap) == 343);
static_assert(offsetof(identify_controller, anagrpmax) == 344);
static_assert(offsetof(identify_controller, nanagrpid) == 348);
static_assert(offsetof(identify_controller, pels) == 352);
static_assert(offsetof(identify_controller, domainid) == 356);
static_assert(offsetof(identify_controller, megcap) == 368);
static_assert(offsetof(identify_controller, sqes) == 512);
static_assert(offsetof(identify_controller, cqes) == 513);
static_assert(offsetof(identify_controller, maxcmd) == 514);
static_assert(offsetof(identify_controller, nn) == 516);
static_assert(offsetof(identify_controller, oncs) == 520);
static_assert(offsetof(identify_controller, fuses) == 522);
static_assert(offsetof(identify_controller, fna) == 524);
static_assert(offsetof(identify_controller, vwc) == 525);
static_assert(offsetof(identify_controller, awun) == 526);
static_assert(offsetof(identify_controller, awupf) == 528);
static_assert(offsetof(identify_controller, icsvscc) == 530);
static_assert(offsetof(identify_controller, nwpc) == 531);
static_assert(offsetof(identify_controller, acwu) == 532);
static_assert(offsetof(identify_controller, ocfs) == 534);
static_assert(offsetof(identify_controller, sgls) == 536);
static_assert(offsetof(identify_controller, mnan) == 540);
static_assert(offsetof(identify_controller, maxdna) == 544);
static_assert(offsetof(identify_controller, maxcna) == 560);
static_assert(offsetof(identify_controller, subnqn) == 768);
static_assert(offsetof(identify_controller, ioccsz) == 1792);
static_assert(offsetof(identify_controller, iorcsz) == 1796);
static_assert(offsetof(identify_controller, icdoff) == 1800);
static_assert(offsetof(identify_controller, fcatt) == 1802);
static_assert(offsetof(identify_controller, msdbd) == 1803);
static_assert(offsetof(identify_controller, ofcs) == 1804);
static_assert(offsetof(identify_controller, dctype) == 1806);
static_assert(offsetof(identify_controller, psd) == 2048);
static_assert(offsetof(identify_controller, vs) == 3072);

// --- Identify Namespace (NVM Command Set 1.0 Figure 97) ---------------------------------

struct lba_format {
  le16 ms;        // metadata bytes per LBA
  uint8_t lbads;  // LBA data size, log2 bytes (9 = 512); 0 = format not available
  uint8_t rp;     // bits 1:0 relative performance

  constexpr uint64_t lba_size_bytes() const { return lbads < 64 ? uint64_t{1} << lbads : 0; }
};
static_assert(sizeof(lba_format) == 4);
static_assert(offsetof(lba_format, lbads) == 2);
static_assert(offsetof(lba_format, rp) == 3);

namespace nsfeat_bits {
inline constexpr uint8_t thin_provisioning = 1u << 0, atomics = 1u << 1, dealloc_error = 1u << 2,
                         guid_never_reused = 1u << 3, optperf = 1u << 4;
}
namespace nmic_bits {
inline constexpr uint8_t shared = 1u << 0;
}
namespace nsattr_bits {
inline constexpr uint8_t write_protected = 1u << 0;
}

struct identify_namespace {
  le64 nsze;      // size in logical blocks
  le64 ncap;
  le64 nuse;
  uint8_t nsfeat;
  uint8_t nlbaf;  // number of LBA formats, zero-based
  uint8_t flbas;  // see flbas_format_index()
  uint8_t mc;
  uint8_t dpc;
  uint8_t dps;
  uint8_t nmic;
  uint8_t rescap;
  uint8_t fpi;
  uint8_t dlfeat;
  le16 nawun;
  le16 nawupf;
  le16 nacwu;
  le16 nabsn;
  le16 nabo;
  le16 nabspf;
  le16 noiob;
  uint8_t nvmcap[16];
  le16 npwg;
  le16 npwa;
  le16 npdg;
  le16 npda;
  le16 nows;
  le16 mssrl;
  le32 mcl;
  uint8_t msrc;
  uint8_t reserved81[11];
  le32 anagrpid;
  uint8_t reserved96[3];
  uint8_t nsattr;
  le16 nvmsetid;
  le16 endgid;
  uint8_t nguid[16];
  uint8_t eui64[8];
  lba_format lbaf[64];
  uint8_t reserved384[3456];
  uint8_t vs[256];  // Linux names 384..4095 vs[3712]; the spec reserves 384..3839

  // FLBAS bits 3:0 are the low bits of the format index, bits 6:5 the high bits (for
  // more than 16 formats); bit 4 set means metadata is transferred at the end of the LBA.
  constexpr uint8_t flbas_format_index() const {
    return static_cast<uint8_t>((flbas & 0x0f) | ((flbas & 0x60) >> 1));
  }
  constexpr bool flbas_extended_metadata() const { return (flbas & 0x10) != 0; }
  static constexpr uint8_t make_flbas(uint8_t index, bool extended_metadata = false) {
    return static_cast<uint8_t>((index & 0x0f) | ((index & 0x30) << 1) |
                                (extended_metadata ? 0x10 : 0));
  }
  constexpr const lba_format& current_format() const { return lbaf[flbas_format_index() & 63]; }
};
static_assert(sizeof(identify_namespace) == identify_data_size);
static_assert(alignof(identify_namespace) == 1);
static_assert(std::is_trivially_copyable_v<identify_namespace>);
static_assert(offsetof(identify_namespace, ncap) == 8);
static_assert(offsetof(identify_namespace, nuse) == 16);
static_assert(offsetof(identify_namespace, nsfeat) == 24);
static_assert(offsetof(identify_namespace, nlbaf) == 25);
static_assert(offsetof(identify_namespace, flbas) == 26);
static_assert(offsetof(identify_namespace, mc) == 27);
static_assert(offsetof(identify_namespace, dpc) == 28);
static_assert(offsetof(identify_namespace, dps) == 29);
static_assert(offsetof(identify_namespace, nmic) == 30);
static_assert(offsetof(identify_namespace, rescap) == 31);
static_assert(offsetof(identify_namespace, fpi) == 32);
static_assert(offsetof(identify_namespace, dlfeat) == 33);
static_assert(offsetof(identify_namespace, nawun) == 34);
static_assert(offsetof(identify_namespace, nawupf) == 36);
static_assert(offsetof(identify_namespace, nacwu) == 38);
static_assert(offsetof(identify_namespace, nabsn) == 40);
static_assert(offsetof(identify_namespace, nabo) == 42);
static_assert(offsetof(identify_namespace, nabspf) == 44);
static_assert(offsetof(identify_namespace, noiob) == 46);
static_assert(offsetof(identify_namespace, nvmcap) == 48);
static_assert(offsetof(identify_namespace, npwg) == 64);
static_assert(offsetof(identify_namespace, npwa) == 66);
static_assert(offsetof(identify_namespace, npdg) == 68);
static_assert(offsetof(identify_namespace, npda) == 70);
static_assert(offsetof(identify_namespace, nows) == 72);
static_assert(offsetof(identify_namespace, mssrl) == 74);
static_assert(offsetof(identify_namespace, mcl) == 76);
static_assert(offsetof(identify_namespace, msrc) == 80);
static_assert(offsetof(identify_namespace, anagrpid) == 92);
static_assert(offsetof(identify_namespace, nsattr) == 99);
static_assert(offsetof(identify_namespace, nvmsetid) == 100);
static_assert(offsetof(identify_namespace, endgid) == 102);
static_assert(offsetof(identify_namespace, nguid) == 104);
static_assert(offsetof(identify_namespace, eui64) == 120);
static_assert(offsetof(identify_namespace, lbaf) == 128);
static_assert(offsetof(identify_namespace, vs) == 3840);

// --- Namespace Identification Descriptor list (Base 2.0 5.17.2.3, Figure 278) ----------

enum class ns_id_type : uint8_t { eui64 = 1, nguid = 2, uuid = 3, csi = 4 };

// NIDL for each type, or 0 for a type this code does not know.
constexpr uint8_t ns_id_length(ns_id_type t) {
  switch (t) {
    case ns_id_type::eui64: return 8;
    case ns_id_type::nguid: return 16;
    case ns_id_type::uuid: return 16;
    case ns_id_type::csi: return 1;
  }
  return 0;
}

struct ns_id_descriptor_header {
  uint8_t nidt;
  uint8_t nidl;   // length of the identifier that follows this header
  uint8_t reserved[2];
};
static_assert(sizeof(ns_id_descriptor_header) == 4);
static_assert(offsetof(ns_id_descriptor_header, nidl) == 1);
static_assert(std::is_trivially_copyable_v<ns_id_descriptor_header>);

// Writes the descriptor list for the given identifiers (each may be null: omitted) into
// `out`, which must hold at least identify_data_size bytes; all 4096 bytes are written
// (zeroed past the list, a zero NIDT ending it). include_csi adds CSI = NVM.
// Returns the bytes used by the descriptors.
size_t build_ns_id_descriptors(std::span<std::byte> out, const uint8_t* eui64_or_null,
                               const uint8_t* nguid_or_null, const uint8_t* uuid_or_null,
                               bool include_csi);

struct ns_id_descriptors {
  std::optional<std::array<uint8_t, 8>> eui64;
  std::optional<std::array<uint8_t, 16>> nguid;
  std::optional<std::array<uint8_t, 16>> uuid;
  std::optional<uint8_t> csi;
};

// Parses a received descriptor list (host side, tests). Stops at a zero NIDT or at the end
// of `list`. Fails with errc::protocol_error if a descriptor overruns the list, a known
// type has the wrong NIDL, or a known type appears twice. Unknown types are skipped.
result<ns_id_descriptors> parse_ns_id_descriptors(std::span<const std::byte> list);

}  // namespace nvmfd
