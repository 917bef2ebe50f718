#pragma once
// Discovery Log Page, LID 70h (NVMe Base 2.0 5.16.1.23; NVMe-oF 1.1 5.3): a 1024-byte
// header followed by numrec 1024-byte entries. The whole page is
// discovery_log_size(numrec) bytes; Get Log Page reads any dword-aligned window of it.
// Pure data and functions; callable from any core.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "base/le.h"
#include "proto/nqn.h"
#include "proto/wire.h"

namespace nvmfd {

// TRTYPE (NVMe-oF 1.1 Figure 38).
enum class transport_type : uint8_t { rdma = 1, fc = 2, tcp = 3, intra_host = 0xfe };

// The TRTYPE a listen address's trtype names ("TCP", "RDMA", "FC"; any case), or none.
inline std::optional<transport_type> transport_type_named(std::string_view name) {
  auto is = [name](std::string_view want) {
    if (name.size() != want.size()) return false;
    for (size_t i = 0; i < name.size(); ++i)
      if ((name[i] | 0x20) != (want[i] | 0x20)) return false;
    return true;
  };
  if (is("tcp")) return transport_type::tcp;
  if (is("rdma")) return transport_type::rdma;
  if (is("fc")) return transport_type::fc;
  return std::nullopt;
}

// ADRFAM.
enum class address_family : uint8_t { pci = 0, ipv4 = 1, ipv6 = 2, ib = 3, fc = 4, intra_host = 0xfe };

// SUBTYPE: what the entry points at. `referral` is the spec's "Discovery subsystem"
// (referral to another discovery service); current_discovery is the discovery subsystem
// the host is talking to (Base 2.0 TP8013).
enum class subsystem_type : uint8_t { referral = 1, nvme = 2, current_discovery = 3 };

// TREQ: secure channel requirement in bits 1:0, bit 2 = SQ flow control disable supported.
namespace treq_bits {
inline constexpr uint8_t secure_channel_not_specified = 0, secure_channel_required = 1,
                         secure_channel_not_required = 2, secure_channel_mask = 3,
                         sq_flow_control_disable = 1u << 2;
}

// EFLAGS.
namespace eflags_bits {
inline constexpr uint16_t duplicate_returned_info = 1u << 0,
                          explicit_persistent_connection = 1u << 1,  // EPCSD
                          no_cdc_connectivity = 1u << 2;             // NCC
}

// TSAS for TCP: byte 0 is SECTYPE.
enum class tcp_sectype : uint8_t { none = 0, tls12 = 1, tls13 = 2 };

// CNTLID in an entry: 0xffff = dynamic controller model, 0xfffe = static, any id.
inline constexpr uint16_t cntlid_dynamic = 0xffff;
inline constexpr uint16_t cntlid_static_any = 0xfffe;

struct discovery_log_header {
  le64 genctr;   // changes whenever the log changes; hosts re-read until stable
  le64 numrec;
  le16 recfmt;   // 0
  uint8_t reserved18[1006];
};
static_assert(sizeof(discovery_log_header) == 1024);
static_assert(std::is_trivially_copyable_v<discovery_log_header>);
static_assert(offsetof(discovery_log_header, numrec) == 8);
static_assert(offsetof(discovery_log_header, recfmt) == 16);

struct discovery_log_entry {
  uint8_t trtype;
  uint8_t adrfam;
  uint8_t subtype;
  uint8_t treq;
  le16 portid;
  le16 cntlid;
  le16 asqsz;    // admin max SQ size (1-based count)
  le16 eflags;
  uint8_t reserved12[20];
  std::array<char, 32> trsvcid;   // ASCII, e.g. "4420"
  uint8_t reserved64[192];
  std::array<char, 256> subnqn;   // NUL terminated and padded
  std::array<char, 256> traddr;   // ASCII, e.g. "192.168.1.2"
  uint8_t tsas[256];

  std::string_view trsvcid_text() const { return read_padded(trsvcid); }
  std::string_view traddr_text() const { return read_padded(traddr); }
  std::string_view subnqn_text() const { return read_padded(subnqn); }
};
static_assert(sizeof(discovery_log_entry) == 1024);
static_assert(std::is_trivially_copyable_v<discovery_log_entry>);
static_assert(offsetof(discovery_log_entry, adrfam) == 1);
static_assert(offsetof(discovery_log_entry, subtype) == 2);
static_assert(offsetof(discovery_log_entry, treq) == 3);
static_assert(offsetof(discovery_log_entry, portid) == 4);
static_assert(offsetof(discovery_log_entry, cntlid) == 6);
static_assert(offsetof(discovery_log_entry, asqsz) == 8);
static_assert(offsetof(discovery_log_entry, eflags) == 10);
static_assert(offsetof(discovery_log_entry, trsvcid) == 32);
static_assert(offsetof(discovery_log_entry, subnqn) == 256);
static_assert(offsetof(discovery_log_entry, traddr) == 512);
static_assert(offsetof(discovery_log_entry, tsas) == 768);

// The text fields of an entry. SUBNQN is NUL padded (it is an NQN). TRADDR and TRSVCID are
// "ASCII string" fields, space padded by the spec's convention and by SPDK; Linux nvmet
// NUL pads them and libnvme strips trailing spaces, so both work with nvme-cli.
// Returns false if a value did not fit (NQN > 255, address > 256, service > 32 bytes).
inline bool set_discovery_entry_text(discovery_log_entry& e, std::string_view subnqn,
                                     std::string_view traddr, std::string_view trsvcid,
                                     char address_pad = ' ') {
  bool ok = subnqn.size() < e.subnqn.size();
  set_padded(e.subnqn, subnqn.substr(0, e.subnqn.size() - 1), '\0');
  ok = set_padded(e.traddr, traddr, address_pad) && ok;
  ok = set_padded(e.trsvcid, trsvcid, address_pad) && ok;
  return ok;
}

constexpr uint64_t discovery_log_size(uint64_t numrec) {
  return sizeof(discovery_log_header) + numrec * sizeof(discovery_log_entry);
}
constexpr uint64_t discovery_entry_offset(uint64_t index) {
  return sizeof(discovery_log_header) + index * sizeof(discovery_log_entry);
}

}  // namespace nvmfd
