#pragma once
// Get Features / Set Features (NVMe Base 2.0 5.15, 5.27) and Asynchronous Event Request
// completions (5.2). Pure functions; callable from any core.
#include <cstdint>
#include <string_view>

#include "proto/nvme_command.h"

namespace nvmfd {

// Feature Identifiers (Base 2.0 Figure 317).
enum class feature_id : uint8_t {
  arbitration = 0x01,
  power_management = 0x02,
  lba_range_type = 0x03,
  temperature_threshold = 0x04,
  error_recovery = 0x05,
  volatile_write_cache = 0x06,
  number_of_queues = 0x07,
  interrupt_coalescing = 0x08,
  interrupt_vector_config = 0x09,
  write_atomicity = 0x0a,
  async_event_configuration = 0x0b,
  autonomous_power_state = 0x0c,
  host_memory_buffer = 0x0d,
  timestamp = 0x0e,
  keep_alive_timer = 0x0f,
  host_controlled_thermal = 0x10,
  host_identifier = 0x81,
  reservation_notification_mask = 0x82,
  reservation_persistence = 0x83,
};

// Get Features SEL (CDW10 bits 10:8).
enum class feature_select : uint8_t {
  current = 0,
  default_ = 1,
  saved = 2,
  supported_capabilities = 3,
};

// DW0 of a Get Features with SEL = supported_capabilities.
namespace feature_capability_bits {
inline constexpr uint32_t saveable = 1u << 0, namespace_specific = 1u << 1, changeable = 1u << 2;
}

struct get_features_fields {
  uint8_t fid = 0;         // CDW10 bits 7:0
  uint8_t sel = 0;         // CDW10 bits 10:8
  uint32_t cdw11 = 0;      // feature specific
  uint8_t uuid_index = 0;  // CDW14 bits 6:0
  uint32_t nsid = 0;
};

struct set_features_fields {
  uint8_t fid = 0;         // CDW10 bits 7:0
  bool sv = false;         // CDW10 bit 31, save
  uint32_t cdw11 = 0;      // feature specific
  uint32_t cdw12 = 0;
  uint8_t uuid_index = 0;
  uint32_t nsid = 0;
};

constexpr get_features_fields decode_get_features(const nvme_sqe& sqe) {
  const uint32_t cdw10 = sqe.cdw10.get();
  return {static_cast<uint8_t>(cdw10 & 0xff), static_cast<uint8_t>((cdw10 >> 8) & 0x7),
          sqe.cdw11.get(), static_cast<uint8_t>(sqe.cdw14.get() & 0x7f), sqe.nsid.get()};
}

constexpr set_features_fields decode_set_features(const nvme_sqe& sqe) {
  const uint32_t cdw10 = sqe.cdw10.get();
  return {static_cast<uint8_t>(cdw10 & 0xff), (cdw10 >> 31) != 0, sqe.cdw11.get(),
          sqe.cdw12.get(), static_cast<uint8_t>(sqe.cdw14.get() & 0x7f), sqe.nsid.get()};
}

// --- Number of Queues (5.27.1.7) ----------------------------------------------------------

// Both counts zero-based. In CDW11 they are requested (NSQR bits 15:0, NCQR 31:16; 0xffff
// is invalid: Invalid Field in Command); in completion DW0 allocated (NSQA, NCQA).
struct queue_counts {
  uint16_t nsq = 0;
  uint16_t ncq = 0;

  static constexpr queue_counts decode(uint32_t dw) {
    return {static_cast<uint16_t>(dw & 0xffff), static_cast<uint16_t>(dw >> 16)};
  }
  constexpr uint32_t encode() const { return uint32_t{nsq} | (uint32_t{ncq} << 16); }
  constexpr bool valid_request() const { return nsq != 0xffff && ncq != 0xffff; }
};

// --- Asynchronous Event Configuration (5.27.1.9) -----------------------------------------

namespace aec_bits {
inline constexpr uint32_t smart_critical_warnings = 0xffu;  // bits 7:0
inline constexpr uint32_t namespace_attribute = 1u << 8;
inline constexpr uint32_t firmware_activation = 1u << 9;
inline constexpr uint32_t telemetry_log = 1u << 10;
inline constexpr uint32_t ana_change = 1u << 11;
inline constexpr uint32_t discovery_log_change = 1u << 31;  // discovery controllers
}  // namespace aec_bits

// --- Other feature values ----------------------------------------------------------------

// Volatile Write Cache: CDW11 bit 0 WCE. Keep Alive Timer: CDW11 = KATO in milliseconds.
// Host Identifier: CDW11 bit 0 EXHID (1 = 128-bit id); fabrics hosts give their id in
// the Connect data, and Set Features of it is a Command Sequence Error there.
inline constexpr uint32_t vwc_enable = 1u << 0;
inline constexpr uint32_t host_id_extended = 1u << 0;

// --- Asynchronous Event Request completion (5.2.1, Figure 146) ---------------------------

enum class aer_type : uint8_t {
  error = 0,
  smart = 1,
  notice = 2,
  immediate = 3,
  io_command_set = 6,
  vendor = 7,
};

enum class aer_notice : uint8_t {
  namespace_attribute_changed = 0x00,
  firmware_activation = 0x01,
  telemetry = 0x02,
  ana_change = 0x03,
  predictable_latency = 0x04,
  lba_status = 0x05,
  endurance_group = 0x06,
  discovery_log_change = 0xf0,
};

// DW0 of an AER completion: type bits 2:0, information bits 15:8, log page bits 23:16.
constexpr uint32_t aer_result(uint8_t type, uint8_t info, uint8_t log_page_id) {
  return (uint32_t{type} & 0x7u) | (uint32_t{info} << 8) | (uint32_t{log_page_id} << 16);
}
constexpr uint32_t aer_result(aer_type type, uint8_t info, uint8_t log_page_id) {
  return aer_result(static_cast<uint8_t>(type), info, log_page_id);
}
constexpr uint32_t aer_notice_result(aer_notice info, uint8_t log_page_id) {
  return aer_result(aer_type::notice, static_cast<uint8_t>(info), log_page_id);
}

struct aer_fields {
  uint8_t type = 0;
  uint8_t info = 0;
  uint8_t log_page_id = 0;

  static constexpr aer_fields decode(uint32_t dw0) {
    return {static_cast<uint8_t>(dw0 & 0x7), static_cast<uint8_t>((dw0 >> 8) & 0xff),
            static_cast<uint8_t>((dw0 >> 16) & 0xff)};
  }
  // True for a notice of that kind.
  bool is_notice(aer_notice n) const {
    return type == static_cast<uint8_t>(aer_type::notice) && info == static_cast<uint8_t>(n);
  }
};

}  // namespace nvmfd
