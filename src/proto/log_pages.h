#pragma once
// Get Log Page (NVMe Base 2.0 5.16): command fields and the log pages nvmfd serves.
// The Discovery and ANA log pages have their own headers, included here for convenience.
// Pure data and functions; callable from any core.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "base/le.h"
#include "proto/ana_log.h"
#include "proto/discovery_log.h"
#include "proto/nvme_command.h"
#include "proto/wire.h"

namespace nvmfd {

// Log Page Identifiers (Base 2.0 Figure 202).
enum class log_page_id : uint8_t {
  supported_log_pages = 0x00,
  error_information = 0x01,
  smart_health = 0x02,
  firmware_slot = 0x03,
  changed_namespace_list = 0x04,
  commands_supported_effects = 0x05,
  device_self_test = 0x06,
  telemetry_host = 0x07,
  telemetry_controller = 0x08,
  endurance_group = 0x09,
  ana = 0x0c,
  persistent_event = 0x0d,
  discovery = 0x70,
  host_discovery = 0x71,
  ave_discovery = 0x72,
  pull_model_ddc_request = 0x73,
  reservation_notification = 0x80,
  sanitize_status = 0x81,
};

// The Get Log Page command's fields (Base 2.0 Figures 197-201).
struct get_log_page_fields {
  uint8_t lid = 0;            // CDW10 bits 7:0
  uint8_t lsp = 0;            // CDW10 bits 14:8 (7 bits since 2.0; 4 bits in 1.4)
  bool rae = false;           // CDW10 bit 15: retain asynchronous event
  uint64_t numd = 0;          // dwords to return, NUMDU:NUMDL plus one (1 .. 2^32)
  uint64_t offset_bytes = 0;  // LPOU:LPOL; an entry index instead when `ot` is set
  uint16_t lsi = 0;           // CDW11 bits 31:16, log specific identifier
  bool ot = false;            // CDW14 bit 23, offset type: 1 = index
  uint8_t uuid_index = 0;     // CDW14 bits 6:0
  uint8_t csi = 0;            // CDW14 bits 31:24

  constexpr uint64_t length_bytes() const { return numd * 4; }
  // A byte offset must be dword aligned (Base 2.0 5.16: else Invalid Field in Command).
  constexpr bool offset_aligned() const { return ot || (offset_bytes & 3) == 0; }
};

constexpr get_log_page_fields decode_get_log_page(const nvme_sqe& sqe) {
  const uint32_t cdw10 = sqe.cdw10.get(), cdw11 = sqe.cdw11.get(), cdw14 = sqe.cdw14.get();
  get_log_page_fields f;
  f.lid = static_cast<uint8_t>(cdw10 & 0xff);
  f.lsp = static_cast<uint8_t>((cdw10 >> 8) & 0x7f);
  f.rae = ((cdw10 >> 15) & 1) != 0;
  f.numd = ((uint64_t{cdw11 & 0xffff} << 16) | (cdw10 >> 16)) + 1;
  f.lsi = static_cast<uint16_t>(cdw11 >> 16);
  f.offset_bytes = (uint64_t{sqe.cdw13.get()} << 32) | sqe.cdw12.get();
  f.ot = ((cdw14 >> 23) & 1) != 0;
  f.uuid_index = static_cast<uint8_t>(cdw14 & 0x7f);
  f.csi = static_cast<uint8_t>(cdw14 >> 24);
  return f;
}

// LSP of the ANA log page: bit 0 RGO, return groups only (no NSID lists).
namespace ana_lsp_bits {
inline constexpr uint8_t rgo = 1u << 0;
}

// --- Error Information (Base 2.0 Figure 205), 64 bytes per entry -------------------------

struct error_information_entry {
  le64 error_count;               // 0 = empty entry
  le16 sqid;
  le16 cid;
  le16 status;                    // bit 0 phase, bits 15:1 status (nvme_status::encode())
  le16 parameter_error_location;  // bits 7:0 byte, bits 10:8 bit; 0xffff = not specific
  le64 lba;
  le32 nsid;
  uint8_t vs;
  uint8_t trtype;
  uint8_t reserved30[2];
  le64 command_specific;
  le16 trtype_specific;
  uint8_t reserved42[22];
};
static_assert(sizeof(error_information_entry) == 64);
static_assert(std::is_trivially_copyable_v<error_information_entry>);
static_assert(offsetof(error_information_entry, sqid) == 8);
static_assert(offsetof(error_information_entry, cid) == 10);
static_assert(offsetof(error_information_entry, status) == 12);
static_assert(offsetof(error_information_entry, parameter_error_location) == 14);
static_assert(offsetof(error_information_entry, lba) == 16);
static_assert(offsetof(error_information_entry, nsid) == 24);
static_assert(offsetof(error_information_entry, vs) == 28);
static_assert(offsetof(error_information_entry, trtype) == 29);
static_assert(offsetof(error_information_entry, command_specific) == 32);
static_assert(offsetof(error_information_entry, trtype_specific) == 40);

// --- SMART / Health Information (Base 2.0 Figure 207), 512 bytes --------------------------

namespace critical_warning_bits {
inline constexpr uint8_t spare = 1u << 0, temperature = 1u << 1, reliability = 1u << 2,
                         read_only = 1u << 3, volatile_backup = 1u << 4, pmr_read_only = 1u << 5;
}

// 128-bit counters are set with set_le128() (proto/wire.h).
struct smart_health_log {
  uint8_t critical_warning;
  le16 composite_temperature;     // kelvin
  uint8_t avail_spare;            // percent
  uint8_t avail_spare_threshold;
  uint8_t percentage_used;
  uint8_t endurance_group_critical_warning;
  uint8_t reserved7[25];
  uint8_t data_units_read[16];    // thousands of 512-byte units, rounded up
  uint8_t data_units_written[16];
  uint8_t host_read_commands[16];
  uint8_t host_write_commands[16];
  uint8_t controller_busy_time[16];  // minutes
  uint8_t power_cycles[16];
  uint8_t power_on_hours[16];
  uint8_t unsafe_shutdowns[16];
  uint8_t media_errors[16];
  uint8_t num_err_log_entries[16];
  le32 warning_temp_time;         // minutes
  le32 critical_comp_time;
  le16 temp_sensor[8];
  le32 thermal_mgmt_temp1_transitions;
  le32 thermal_mgmt_temp2_transitions;
  le32 thermal_mgmt_temp1_time;
  le32 thermal_mgmt_temp2_time;
  uint8_t reserved232[280];
};
static_assert(sizeof(smart_health_log) == 512);
static_assert(std::is_trivially_copyable_v<smart_health_log>);
static_assert(offsetof(smart_health_log, composite_temperature) == 1);
static_assert(offsetof(smart_health_log, avail_spare) == 3);
static_assert(offsetof(smart_health_log, avail_spare_threshold) == 4);
static_assert(offsetof(smart_health_log, percentage_used) == 5);
static_assert(offsetof(smart_health_log, endurance_group_critical_warning) == 6);
static_assert(offsetof(smart_health_log, data_units_read) == 32);
static_assert(offsetof(smart_health_log, data_units_written) == 48);
static_assert(offsetof(smart_health_log, host_read_commands) == 64);
static_assert(offsetof(smart_health_log, host_write_commands) == 80);
static_assert(offsetof(smart_health_log, controller_busy_time) == 96);
static_assert(offsetof(smart_health_log, power_cycles) == 112);
static_assert(offsetof(smart_health_log, power_on_hours) == 128);
static_assert(offsetof(smart_health_log, unsafe_shutdowns) == 144);
static_assert(offsetof(smart_health_log, media_errors) == 160);
static_assert(offsetof(smart_health_log, num_err_log_entries) == 176);
static_assert(offsetof(smart_health_log, warning_temp_time) == 192);
static_assert(offsetof(smart_health_log, critical_comp_time) == 196);
static_assert(offsetof(smart_health_log, temp_sensor) == 200);
static_assert(offsetof(smart_health_log, thermal_mgmt_temp1_transitions) == 216);
static_assert(offsetof(smart_health_log, thermal_mgmt_temp2_transitions) == 220);
static_assert(offsetof(smart_health_log, thermal_mgmt_temp1_time) == 224);
static_assert(offsetof(smart_health_log, thermal_mgmt_temp2_time) == 228);

// --- Firmware Slot Information (Base 2.0 Figure 209), 512 bytes ---------------------------

struct firmware_slot_log {
  uint8_t afi;                          // bits 2:0 active slot, bits 6:4 next-reset slot
  uint8_t reserved1[7];
  std::array<char, 8> frs[7];           // firmware revision per slot, space padded
  uint8_t reserved64[448];
};
static_assert(sizeof(firmware_slot_log) == 512);
static_assert(std::is_trivially_copyable_v<firmware_slot_log>);
static_assert(offsetof(firmware_slot_log, frs) == 8);

// --- Changed Namespace List (Base 2.0 5.16.1.5), 4096 bytes -------------------------------

struct changed_namespace_list_log {
  le32 nsid[1024];  // ascending, zero-terminated; nsid[0] = 0xffffffff if more than 1024
};
static_assert(sizeof(changed_namespace_list_log) == 4096);
static_assert(std::is_trivially_copyable_v<changed_namespace_list_log>);
inline constexpr uint32_t changed_ns_list_overflow = 0xffffffffu;

// --- Commands Supported and Effects (Base 2.0 Figure 210), 4096 bytes --------------------

namespace command_effects_bits {
inline constexpr uint32_t csupp = 1u << 0,  // command supported
    lbcc = 1u << 1,                          // logical block content change
    ncc = 1u << 2,                           // namespace capability change
    nic = 1u << 3,                           // namespace inventory change
    ccc = 1u << 4,                           // controller capability change
    cse_mask = 0x7u << 16,                   // command submission and execution
    uss = 1u << 19;                          // UUID selection supported
}

struct commands_supported_effects_log {
  le32 acs[256];  // by admin opcode
  le32 iocs[256]; // by I/O opcode
  uint8_t reserved2048[2048];
};
static_assert(sizeof(commands_supported_effects_log) == 4096);
static_assert(std::is_trivially_copyable_v<commands_supported_effects_log>);
static_assert(offsetof(commands_supported_effects_log, iocs) == 1024);

}  // namespace nvmfd
