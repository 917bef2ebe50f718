#pragma once
// Controller properties (NVMe Base 2.0 3.1.3), which fabrics reach through Property Get
// and Property Set: offsets, widths, and constexpr encoders/accessors for CAP, VS, CC and
// CSTS. Pure functions; callable from any core.
#include <cstdint>

namespace nvmfd {

namespace property_offset {
inline constexpr uint32_t cap = 0x00;    // 8 bytes
inline constexpr uint32_t vs = 0x08;
inline constexpr uint32_t intms = 0x0c;  // reserved on fabrics
inline constexpr uint32_t intmc = 0x10;  // reserved on fabrics
inline constexpr uint32_t cc = 0x14;
inline constexpr uint32_t csts = 0x1c;
inline constexpr uint32_t nssr = 0x20;
inline constexpr uint32_t aqa = 0x24;    // PCIe only
inline constexpr uint32_t asq = 0x28;    // PCIe only, 8 bytes
inline constexpr uint32_t acq = 0x30;    // PCIe only, 8 bytes
inline constexpr uint32_t crto = 0x68;
}  // namespace property_offset

// Width in bytes of the property at `ofst`: 8 for CAP, ASQ, ACQ; 4 otherwise.
constexpr uint8_t property_width(uint32_t ofst) {
  return ofst == property_offset::cap || ofst == property_offset::asq ||
                 ofst == property_offset::acq
             ? 8
             : 4;
}

// NSSR: writing this value ("NVMe") requests an NVM subsystem reset.
inline constexpr uint32_t nssr_reset_value = 0x4e564d65;

// --- VS ------------------------------------------------------------------------------------

constexpr uint32_t nvme_version(uint16_t major, uint8_t minor, uint8_t tertiary = 0) {
  return (uint32_t{major} << 16) | (uint32_t{minor} << 8) | tertiary;
}
inline constexpr uint32_t nvme_version_1_3 = nvme_version(1, 3);
inline constexpr uint32_t nvme_version_1_4 = nvme_version(1, 4);
inline constexpr uint32_t nvme_version_2_0 = nvme_version(2, 0);
static_assert(nvme_version_1_3 == 0x00010300 && nvme_version_2_0 == 0x00020000);

// --- CAP (Figure 36) ------------------------------------------------------------------------

// CAP.CSS bits (CAP bits 44:37).
namespace cap_css {
inline constexpr uint8_t nvm = 1u << 0;               // NVM command set
inline constexpr uint8_t io_command_sets = 1u << 6;   // one or more I/O command sets (CSI)
inline constexpr uint8_t admin_only = 1u << 7;        // no I/O command set
}

struct cap_fields {
  uint16_t mqes = 0;     // bits 15:0, max queue entries, zero-based
  bool cqr = false;      // bit 16, contiguous queues required
  uint8_t ams = 0;       // bits 18:17, arbitration mechanisms
  uint8_t to = 0;        // bits 31:24, ready timeout in 500 ms units
  uint8_t dstrd = 0;     // bits 35:32, doorbell stride
  bool nssrs = false;    // bit 36, NVM subsystem reset supported
  uint8_t css = 0;       // bits 44:37, cap_css bits
  bool bps = false;      // bit 45, boot partitions
  uint8_t cps = 0;       // bits 47:46, controller power scope
  uint8_t mpsmin = 0;    // bits 51:48, min page size 2^(12+n)
  uint8_t mpsmax = 0;    // bits 55:52
  bool pmrs = false;     // bit 56
  bool cmbs = false;     // bit 57
  bool nsss = false;     // bit 58, NVM subsystem shutdown supported
  uint8_t crms = 0;      // bits 60:59, controller ready modes

  constexpr uint64_t encode() const {
    return uint64_t{mqes} | (uint64_t{cqr} << 16) | (uint64_t{ams & 0x3u} << 17) |
           (uint64_t{to} << 24) | (uint64_t{dstrd & 0xfu} << 32) | (uint64_t{nssrs} << 36) |
           (uint64_t{css} << 37) | (uint64_t{bps} << 45) | (uint64_t{cps & 0x3u} << 46) |
           (uint64_t{mpsmin & 0xfu} << 48) | (uint64_t{mpsmax & 0xfu} << 52) |
           (uint64_t{pmrs} << 56) | (uint64_t{cmbs} << 57) | (uint64_t{nsss} << 58) |
           (uint64_t{crms & 0x3u} << 59);
  }
  static constexpr cap_fields decode(uint64_t v) {
    cap_fields c;
    c.mqes = static_cast<uint16_t>(v & 0xffff);
    c.cqr = (v >> 16) & 1;
    c.ams = static_cast<uint8_t>((v >> 17) & 0x3);
    c.to = static_cast<uint8_t>((v >> 24) & 0xff);
    c.dstrd = static_cast<uint8_t>((v >> 32) & 0xf);
    c.nssrs = (v >> 36) & 1;
    c.css = static_cast<uint8_t>((v >> 37) & 0xff);
    c.bps = (v >> 45) & 1;
    c.cps = static_cast<uint8_t>((v >> 46) & 0x3);
    c.mpsmin = static_cast<uint8_t>((v >> 48) & 0xf);
    c.mpsmax = static_cast<uint8_t>((v >> 52) & 0xf);
    c.pmrs = (v >> 56) & 1;
    c.cmbs = (v >> 57) & 1;
    c.nsss = (v >> 58) & 1;
    c.crms = static_cast<uint8_t>((v >> 59) & 0x3);
    return c;
  }
  constexpr bool operator==(const cap_fields&) const = default;
};

// --- CC (Figure 41) ------------------------------------------------------------------------

enum class shutdown_notification : uint8_t { none = 0, normal = 1, abrupt = 2 };

struct cc_register {
  uint32_t raw = 0;

  constexpr bool en() const { return raw & 1; }
  constexpr uint8_t css() const { return (raw >> 4) & 0x7; }     // 0 = NVM, 6 = all I/O sets
  constexpr uint8_t mps() const { return (raw >> 7) & 0xf; }     // page size 2^(12+mps)
  constexpr uint8_t ams() const { return (raw >> 11) & 0x7; }
  constexpr shutdown_notification shn() const {
    return static_cast<shutdown_notification>((raw >> 14) & 0x3);
  }
  constexpr uint8_t iosqes() const { return (raw >> 16) & 0xf; } // log2 bytes; 6 for NVM
  constexpr uint8_t iocqes() const { return (raw >> 20) & 0xf; } // log2 bytes; 4 for NVM
  constexpr bool crime() const { return (raw >> 24) & 1; }

  static constexpr cc_register make(bool en, uint8_t css, uint8_t mps, uint8_t ams,
                                    shutdown_notification shn, uint8_t iosqes, uint8_t iocqes) {
    return {uint32_t{en} | (uint32_t{css & 0x7u} << 4) | (uint32_t{mps & 0xfu} << 7) |
            (uint32_t{ams & 0x7u} << 11) | (uint32_t(shn) << 14) |
            (uint32_t{iosqes & 0xfu} << 16) | (uint32_t{iocqes & 0xfu} << 20)};
  }
};

inline constexpr uint8_t cc_css_nvm = 0;
inline constexpr uint8_t cc_css_all_io_sets = 6;
inline constexpr uint8_t cc_css_admin_only = 7;

// --- CSTS (Figure 42) ----------------------------------------------------------------------

enum class shutdown_status : uint8_t { normal = 0, occurring = 1, complete = 2 };

namespace csts_bits {
inline constexpr uint32_t rdy = 1u << 0;
inline constexpr uint32_t cfs = 1u << 1;     // controller fatal status
inline constexpr uint32_t shst_mask = 0x3u << 2;
inline constexpr uint32_t nssro = 1u << 4;
inline constexpr uint32_t pp = 1u << 5;      // processing paused
inline constexpr uint32_t st = 1u << 6;      // shutdown type
}  // namespace csts_bits

constexpr uint32_t make_csts(bool rdy, bool cfs, shutdown_status shst) {
  return (rdy ? csts_bits::rdy : 0) | (cfs ? csts_bits::cfs : 0) | (uint32_t(shst) << 2);
}
constexpr shutdown_status csts_shst(uint32_t csts) {
  return static_cast<shutdown_status>((csts >> 2) & 0x3);
}

}  // namespace nvmfd
