#pragma once
// target_request: one command slot of a target queue pair, from capsule to response.
// Preallocated per queue (queue size slots); holds everything a command needs on the
// data path (the SQE, the CQE being built, the data buffer, the embedded bdev_io and the
// PDU headers to send), so that a command allocates nothing.
#include <array>
#include <cstddef>
#include <cstdint>

#include "bdev/bdev.h"
#include "nvme_tcp/pdu_writer.h"
#include "proto/nvme_command.h"

namespace nvmfd {

class tcp_qpair;
struct target_namespace;
struct ns_snapshot;

enum class request_state : uint8_t {
  free,
  receiving,      // capsule (with in-capsule data) or H2CData PDUs arriving
  awaiting_h2c,   // R2T sent, waiting for H2CData
  executing,      // in a handler, a bdev, or parked (AER)
  sending,        // C2HData/CapsuleResp queued; freed when the last PDU is on the wire
};

// Data direction of a command, from opcode bits 1:0 (NVMe Base 2.0 Figure 88).
enum class data_direction : uint8_t { none = 0, host_to_controller = 1, controller_to_host = 2, bidirectional = 3 };

struct target_request final : bdev_io_callback, tx_pdu_done {
  tcp_qpair* qp = nullptr;
  uint16_t index = 0;                 // slot number; the R2T transfer tag is index
  request_state state = request_state::free;
  nvme_sqe cmd{};
  nvme_cqe cqe{};
  data_direction dir = data_direction::none;
  uint32_t xfer_len = 0;              // bytes of data the command moves (SGL length)
  uint32_t c2h_len = 0;               // bytes to send to the host (<= xfer_len)
  uint32_t in_capsule_len = 0;
  uint32_t h2c_received = 0;
  bool data_digest_error = false;
  bool early_error = false;           // early_status completes the command once its data is in
  bool in_bdev = false;               // a bdev I/O of this command is outstanding
  nvme_status early_status{};

  std::byte* buf = nullptr;           // from the reactor's buffer_pool
  uint32_t buf_len = 0;
  bool in_place = false;              // a read the bdev serves from its own memory: no buf
  const std::byte* c2h_data = nullptr;  // a read's data to send (buf, or the bdev's memory)

  // I/O commands
  bdev_io io;
  const target_namespace* ns = nullptr;
  ns_snapshot* snap = nullptr;        // keeps ns alive while the command runs
  uint32_t dsm_next = 0;              // Dataset Management: next range to deallocate
  uint32_t dsm_count = 0;

  std::array<std::byte, 32> data_hdr{};  // C2HData header (24) + header digest
  std::array<std::byte, 32> resp_hdr{};  // CapsuleResp header (24) + header digest
  std::array<std::byte, 32> r2t_hdr{};   // R2T header (24) + header digest
  tx_pdu data_tx, resp_tx, r2t_tx;

  target_request* next_free = nullptr;

  void on_bdev_io_done(bdev_io& io) override;
  void on_pdu_sent(tx_pdu& p) override;

  uint16_t cid() const { return cmd.cid.get(); }
};

}  // namespace nvmfd
