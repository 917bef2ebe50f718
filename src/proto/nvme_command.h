#pragma once
// NVMe submission and completion queue entries, opcodes and status codes
// (NVMe Base 2.0 sections 3.3.3 and 4.2-4.6; NVMe over Fabrics 1.1 section 3.3).
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "base/le.h"

namespace nvmfd {

// --- Opcodes -----------------------------------------------------------------------------

enum class admin_opcode : uint8_t {
  delete_io_sq = 0x00,
  create_io_sq = 0x01,
  get_log_page = 0x02,
  delete_io_cq = 0x04,
  create_io_cq = 0x05,
  identify = 0x06,
  abort = 0x08,
  set_features = 0x09,
  get_features = 0x0a,
  async_event_request = 0x0c,
  keep_alive = 0x18,
  fabrics = 0x7f,
};

enum class io_opcode : uint8_t {
  flush = 0x00,
  write = 0x01,
  read = 0x02,
  write_zeroes = 0x08,
  dataset_management = 0x09,
  reservation_register = 0x0d,  // NVMe Base 2.0 7.3-7.6: reservation commands
  reservation_report = 0x0e,
  reservation_acquire = 0x11,
  reservation_release = 0x15,
  fabrics = 0x7f,
};

// Fabrics command types, in the FCTYPE byte of a fabrics command (NVMe-oF 1.1 6).
enum class fabrics_type : uint8_t {
  property_set = 0x00,
  connect = 0x01,
  property_get = 0x04,
  authentication_send = 0x05,
  authentication_receive = 0x06,
  disconnect = 0x08,
};

// --- SGL descriptor (NVMe Base 2.0 4.1.8) ------------------------------------------------

// SGL identifier byte: descriptor type in bits 7:4, subtype in bits 3:0.
namespace sgl_id {
inline constexpr uint8_t data_block_offset = 0x01;        // in-capsule data (type 0, subtype 1)
inline constexpr uint8_t transport_data_block = 0x5a;     // data moved by R2T/C2H (type 5, subtype 0xA)
inline constexpr uint8_t keyed_data_block = 0x40;         // RDMA; never valid on TCP
}  // namespace sgl_id

struct sgl_descriptor {
  le64 address;
  le32 length;
  uint8_t reserved[3];
  uint8_t sgl_identifier;
};
static_assert(sizeof(sgl_descriptor) == 16);
static_assert(offsetof(sgl_descriptor, length) == 8);
static_assert(offsetof(sgl_descriptor, sgl_identifier) == 15);

// --- Submission queue entry (64 bytes) ---------------------------------------------------

struct nvme_sqe {
  uint8_t opcode;
  uint8_t flags;     // FUSE bits 1:0, PSDT bits 7:6 (must be 01b: SGL, on fabrics)
  le16 cid;
  le32 nsid;         // in a fabrics command, byte 4 is FCTYPE (see fctype())
  le32 cdw2;
  le32 cdw3;
  le64 mptr;
  sgl_descriptor sgl;
  le32 cdw10;
  le32 cdw11;
  le32 cdw12;
  le32 cdw13;
  le32 cdw14;
  le32 cdw15;

  uint8_t fctype() const { return nsid.raw[0]; }
  uint8_t psdt() const { return static_cast<uint8_t>(flags >> 6); }
  uint8_t fuse() const { return static_cast<uint8_t>(flags & 0x3); }
};
static_assert(sizeof(nvme_sqe) == 64);
static_assert(offsetof(nvme_sqe, cid) == 2);
static_assert(offsetof(nvme_sqe, nsid) == 4);
static_assert(offsetof(nvme_sqe, mptr) == 16);
static_assert(offsetof(nvme_sqe, sgl) == 24);
static_assert(offsetof(nvme_sqe, cdw10) == 40);
static_assert(offsetof(nvme_sqe, cdw15) == 60);
static_assert(std::is_trivially_copyable_v<nvme_sqe>);

// --- Status (NVMe Base 2.0 4.6.1) --------------------------------------------------------

enum class status_type : uint8_t {
  generic = 0x0,
  command_specific = 0x1,
  media_error = 0x2,
  path_related = 0x3,
};

namespace sc_generic {
inline constexpr uint8_t success = 0x00;
inline constexpr uint8_t invalid_opcode = 0x01;
inline constexpr uint8_t invalid_field = 0x02;
inline constexpr uint8_t command_id_conflict = 0x03;
inline constexpr uint8_t data_transfer_error = 0x04;
inline constexpr uint8_t internal_error = 0x06;
inline constexpr uint8_t abort_requested = 0x07;
inline constexpr uint8_t invalid_namespace_or_format = 0x0b;
inline constexpr uint8_t command_sequence_error = 0x0c;
inline constexpr uint8_t invalid_sgl_segment_descriptor = 0x0d;
inline constexpr uint8_t data_sgl_length_invalid = 0x0f;
inline constexpr uint8_t sgl_descriptor_type_invalid = 0x11;
inline constexpr uint8_t sgl_offset_invalid = 0x16;
inline constexpr uint8_t host_identifier_inconsistent_format = 0x18;
inline constexpr uint8_t keep_alive_timeout_expired = 0x19;
inline constexpr uint8_t keep_alive_timeout_invalid = 0x1a;
inline constexpr uint8_t aborted_preempt_and_abort = 0x1b;
inline constexpr uint8_t command_interrupted = 0x21;
inline constexpr uint8_t transient_transport_error = 0x22;
inline constexpr uint8_t namespace_is_write_protected = 0x20;
inline constexpr uint8_t lba_out_of_range = 0x80;
inline constexpr uint8_t capacity_exceeded = 0x81;
inline constexpr uint8_t namespace_not_ready = 0x82;
inline constexpr uint8_t reservation_conflict = 0x83;
}  // namespace sc_generic

namespace sc_command_specific {
inline constexpr uint8_t invalid_queue_identifier = 0x01;
inline constexpr uint8_t invalid_queue_size = 0x02;
inline constexpr uint8_t async_event_request_limit_exceeded = 0x05;
inline constexpr uint8_t invalid_log_page = 0x09;
inline constexpr uint8_t feature_id_not_saveable = 0x0d;
inline constexpr uint8_t feature_not_changeable = 0x0e;
inline constexpr uint8_t feature_not_namespace_specific = 0x0f;
// Fabrics (NVMe-oF 1.1 2.2.1)
inline constexpr uint8_t incompatible_format = 0x80;
inline constexpr uint8_t controller_busy = 0x81;
inline constexpr uint8_t connect_invalid_parameters = 0x82;
inline constexpr uint8_t connect_restart_discovery = 0x83;
inline constexpr uint8_t connect_invalid_host = 0x84;
// In-band authentication is required and has not completed on this queue (Base 2.1 8.3.4.3).
inline constexpr uint8_t authentication_required = 0x91;
}  // namespace sc_command_specific

namespace sc_media {
inline constexpr uint8_t write_fault = 0x80;
inline constexpr uint8_t unrecovered_read_error = 0x81;
}  // namespace sc_media

namespace sc_path {
inline constexpr uint8_t internal_path_error = 0x00;
inline constexpr uint8_t ana_persistent_loss = 0x01;
inline constexpr uint8_t ana_inaccessible = 0x02;
inline constexpr uint8_t ana_transition = 0x03;
}  // namespace sc_path

// The 15-bit status field of a CQE (without the phase bit).
struct nvme_status {
  status_type sct = status_type::generic;
  uint8_t sc = 0;
  bool dnr = false;
  bool more = false;

  static constexpr nvme_status success() { return {}; }
  static constexpr nvme_status generic(uint8_t sc, bool dnr = true) {
    return {status_type::generic, sc, dnr, false};
  }
  static constexpr nvme_status specific(uint8_t sc, bool dnr = true) {
    return {status_type::command_specific, sc, dnr, false};
  }
  static constexpr nvme_status media(uint8_t sc, bool dnr = false) {
    return {status_type::media_error, sc, dnr, false};
  }
  static constexpr nvme_status path(uint8_t sc, bool dnr = false) {
    return {status_type::path_related, sc, dnr, false};
  }
  constexpr bool ok() const { return sct == status_type::generic && sc == 0; }

  // Bits 15:1 of CQE DW3's upper half; bit 0 (phase) is 0 on fabrics.
  constexpr uint16_t encode() const {
    return static_cast<uint16_t>((uint16_t{sc} << 1) | (uint16_t(sct) << 9) | (more ? 1u << 14 : 0u) |
                                 (dnr ? 1u << 15 : 0u));
  }
  static constexpr nvme_status decode(uint16_t raw) {
    return {static_cast<status_type>((raw >> 9) & 0x7), static_cast<uint8_t>((raw >> 1) & 0xff),
            (raw >> 15) != 0, ((raw >> 14) & 1) != 0};
  }
  constexpr bool operator==(const nvme_status&) const = default;
};

// --- Completion queue entry (16 bytes) ---------------------------------------------------

struct nvme_cqe {
  le32 dw0;     // command-specific result
  le32 dw1;
  le16 sqhd;
  le16 sqid;
  le16 cid;
  le16 status;  // phase bit 0, status bits 15:1
};
static_assert(sizeof(nvme_cqe) == 16);
static_assert(offsetof(nvme_cqe, sqhd) == 8);
static_assert(offsetof(nvme_cqe, cid) == 12);
static_assert(offsetof(nvme_cqe, status) == 14);
static_assert(std::is_trivially_copyable_v<nvme_cqe>);

}  // namespace nvmfd
