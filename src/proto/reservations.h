#pragma once
// NVMe reservations on the wire (NVMe Base 2.0 8.19 and 7.3-7.6): the command fields of
// Reservation Register, Acquire, Release and Report, their data structures, the Reservation
// Notification log page (5.16.1.25), the reservation features (5.27.1.24-25), and the
// reservation types with the accesses each one allows (8.19.1, Figure 531).
// Pure data and functions; callable from any core.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "base/le.h"
#include "proto/nvme_command.h"

namespace nvmfd {

// RTYPE (Base 2.0 Figure 560). Zero in a report means no reservation is held.
enum class reservation_type : uint8_t {
  none = 0,
  write_exclusive = 1,
  exclusive_access = 2,
  write_exclusive_registrants_only = 3,
  exclusive_access_registrants_only = 4,
  write_exclusive_all_registrants = 5,
  exclusive_access_all_registrants = 6,
};

// A valid RTYPE of an Acquire or Release: 1..6.
constexpr std::optional<reservation_type> reservation_type_from(uint8_t v) {
  if (v < 1 || v > 6) return std::nullopt;
  return static_cast<reservation_type>(v);
}
// The "all registrants" types make every registrant a holder.
constexpr bool is_all_registrants(reservation_type t) {
  return t == reservation_type::write_exclusive_all_registrants ||
         t == reservation_type::exclusive_access_all_registrants;
}
// The "registrants only" and "all registrants" types let registrants in.
constexpr bool admits_registrants(reservation_type t) {
  return t >= reservation_type::write_exclusive_registrants_only;
}
// Exclusive Access types also keep other hosts from reading.
constexpr bool excludes_readers(reservation_type t) {
  return t == reservation_type::exclusive_access || t == reservation_type::exclusive_access_registrants_only ||
         t == reservation_type::exclusive_access_all_registrants;
}

// Which command group a command belongs to for the reservation checks (NVM Command Set 1.0
// Figure 8): Read reads; Write, Write Zeroes, Dataset Management and Flush write.
enum class reservation_access : uint8_t { read, write };

// --- command fields (CDW10) ---

enum class register_action : uint8_t { register_key = 0, unregister_key = 1, replace_key = 2 };
enum class acquire_action : uint8_t { acquire = 0, preempt = 1, preempt_and_abort = 2 };
enum class release_action : uint8_t { release = 0, clear = 1 };
// CPTPL, Register CDW10 bits 31:30: change the Persist Through Power Loss state.
enum class ptpl_change : uint8_t { no_change = 0, reserved = 1, clear = 2, set = 3 };

struct reservation_register_fields {
  uint8_t action = 0;    // RREGA bits 2:0
  bool iekey = false;    // bit 3: ignore existing key
  ptpl_change cptpl = ptpl_change::no_change;
};
constexpr reservation_register_fields decode_reservation_register(const nvme_sqe& s) {
  const uint32_t d = s.cdw10.get();
  return {static_cast<uint8_t>(d & 0x7), ((d >> 3) & 1) != 0, static_cast<ptpl_change>(d >> 30)};
}

struct reservation_acquire_fields {
  uint8_t action = 0;    // RACQA bits 2:0
  bool iekey = false;    // bit 3
  uint8_t rtype = 0;     // bits 15:8
};
constexpr reservation_acquire_fields decode_reservation_acquire(const nvme_sqe& s) {
  const uint32_t d = s.cdw10.get();
  return {static_cast<uint8_t>(d & 0x7), ((d >> 3) & 1) != 0, static_cast<uint8_t>((d >> 8) & 0xff)};
}
// Release has the same layout (RRELA bits 2:0, IEKEY bit 3, RTYPE bits 15:8).
using reservation_release_fields = reservation_acquire_fields;
constexpr reservation_release_fields decode_reservation_release(const nvme_sqe& s) {
  return decode_reservation_acquire(s);
}

// The host's side: CDW10 of each command from its fields.
constexpr uint32_t encode_reservation_register(const reservation_register_fields& f) {
  return (f.action & 0x7u) | (f.iekey ? 1u << 3 : 0u) | (static_cast<uint32_t>(f.cptpl) << 30);
}
constexpr uint32_t encode_reservation_acquire(const reservation_acquire_fields& f) {
  return (f.action & 0x7u) | (f.iekey ? 1u << 3 : 0u) | (uint32_t{f.rtype} << 8);
}
constexpr uint32_t encode_reservation_release(const reservation_release_fields& f) {
  return encode_reservation_acquire(f);
}

struct reservation_report_fields {
  uint64_t length_bytes = 0;  // (NUMD + 1) dwords, CDW10
  bool eds = false;           // CDW11 bit 0: extended data structure (128-bit host IDs)
};
constexpr reservation_report_fields decode_reservation_report(const nvme_sqe& s) {
  return {(uint64_t{s.cdw10.get()} + 1) * 4, (s.cdw11.get() & 1) != 0};
}

// --- command data ---

struct reservation_register_data {  // Figure 556
  le64 crkey;
  le64 nrkey;
};
struct reservation_acquire_data {  // Figure 549
  le64 crkey;
  le64 prkey;
};
struct reservation_release_data {  // Figure 563
  le64 crkey;
};
static_assert(sizeof(reservation_register_data) == 16 && sizeof(reservation_acquire_data) == 16);
static_assert(sizeof(reservation_release_data) == 8);

// Reservation Status data structure (Figures 566-569): a header, then one entry per
// registrant. EDS = 0: 24-byte header and 24-byte entries with a 64-bit host ID; EDS = 1:
// 64-byte header and 64-byte entries with the 128-bit host ID.
struct reservation_status_header {
  le32 gen;
  uint8_t rtype;
  le16 regctl;  // bytes 6:5, unaligned
  uint8_t reserved7[2];
  uint8_t ptpls;
  uint8_t reserved10[14];
};
static_assert(sizeof(reservation_status_header) == 24);
static_assert(offsetof(reservation_status_header, regctl) == 5 && offsetof(reservation_status_header, ptpls) == 9);

struct registered_controller {  // EDS = 0
  le16 cntlid;
  uint8_t rcsts;  // bit 0: holds the reservation
  uint8_t reserved3[5];
  le64 hostid;
  le64 rkey;
};
static_assert(sizeof(registered_controller) == 24 && offsetof(registered_controller, rkey) == 16);

struct registered_controller_extended {  // EDS = 1
  le16 cntlid;
  uint8_t rcsts;
  uint8_t reserved3[5];
  le64 rkey;
  uint8_t hostid[16];
  uint8_t reserved32[32];
};
static_assert(sizeof(registered_controller_extended) == 64);
static_assert(offsetof(registered_controller_extended, rkey) == 8 &&
              offsetof(registered_controller_extended, hostid) == 16);

inline constexpr size_t reservation_status_extended_header_size = 64;
inline constexpr uint16_t cntlid_dynamic_controller = 0xffff;  // registrants of the dynamic model

// --- Reservation Notification log page (5.16.1.25, Figure 281) ---

enum class reservation_notice : uint8_t {
  empty = 0,
  registration_preempted = 1,
  reservation_released = 2,
  reservation_preempted = 3,
};

struct reservation_notification_log {
  le64 count;            // Log Page Count: 0 when empty; wraps from 2^64 - 1 to 1
  uint8_t type;          // reservation_notice
  uint8_t available;     // Number of Available Log Pages after this one (at most 255)
  uint8_t reserved10[2];
  le32 nsid;
  uint8_t reserved16[48];
};
static_assert(sizeof(reservation_notification_log) == 64 && offsetof(reservation_notification_log, nsid) == 12);

// --- features ---

// Reservation Notification Mask (feature 82h), CDW11: a set bit masks that notice.
namespace reservation_mask_bits {
inline constexpr uint32_t registration_preempted = 1u << 1, reservation_released = 1u << 2,
                          reservation_preempted = 1u << 3;
inline constexpr uint32_t all = registration_preempted | reservation_released | reservation_preempted;
}  // namespace reservation_mask_bits
constexpr uint32_t reservation_mask_bit(reservation_notice n) { return 1u << static_cast<uint8_t>(n); }

// Reservation Persistence (feature 83h), CDW11 bit 0: PTPL.
inline constexpr uint32_t ptpl_bit = 1u << 0;

// --- Identify Namespace RESCAP (byte 31) ---
namespace rescap_bits {
inline constexpr uint8_t persist_through_power_loss = 1u << 0, write_exclusive = 1u << 1,
                         exclusive_access = 1u << 2, write_exclusive_registrants_only = 1u << 3,
                         exclusive_access_registrants_only = 1u << 4,
                         write_exclusive_all_registrants = 1u << 5, exclusive_access_all_registrants = 1u << 6,
                         ignore_existing_key = 1u << 7;  // IEKEY behaves as in NVMe 1.3 and later
inline constexpr uint8_t all_types = 0x7e;
}  // namespace rescap_bits

// AER: I/O command specific status (type 6), information 0: Reservation Log Page Available.
inline constexpr uint8_t aer_info_reservation_log_available = 0x00;

}  // namespace nvmfd
