#pragma once
// tcp_request: one command slot of a TCP queue pair (tcp_qpair), from capsule to response:
// the neutral target_request plus what NVMe/TCP needs to move the command, namely its state
// in the receive/send state machine, the R2T transfer tag and the PDU headers to send.
// Preallocated per queue (queue size slots), so that a command allocates nothing.
// Threading: the queue pair's reactor only.
#include <array>
#include <cstddef>
#include <cstdint>

#include "nvme_tcp/pdu_writer.h"
#include "reactor/time_source.h"
#include "target/target_request.h"

namespace nvmfd {

class tcp_qpair;

enum class request_state : uint8_t {
  free,
  receiving,      // capsule (with in-capsule data) or H2CData PDUs arriving
  awaiting_buffer,  // validated; waits for the transport's data buffer budget
  awaiting_h2c,   // R2T sent, waiting for H2CData
  executing,      // in a handler, a bdev, or parked (AER)
  sending,        // C2HData/CapsuleResp queued; freed when the last PDU is on the wire
};

struct tcp_request final : target_request, bdev_io_callback, tx_pdu_done {
  tcp_qpair* qp = nullptr;
  uint16_t index = 0;                 // slot number; the R2T transfer tag is index
  request_state state = request_state::free;
  uint32_t h2c_received = 0;
  bool data_digest_error = false;
  bool early_error = false;           // early_status completes the command once its data is in
  nvme_status early_status{};
  uint32_t budget_bytes = 0;          // of the transport's data_buffer_budget held by buf
  time_source::time_point h2c_deadline{};  // awaiting_h2c: the connection closes if no H2CData by then

  std::array<std::byte, 32> data_hdr{};  // C2HData header (24) + header digest
  std::array<std::byte, 32> resp_hdr{};  // CapsuleResp header (24) + header digest
  std::array<std::byte, 32> r2t_hdr{};   // R2T header (24) + header digest
  tx_pdu data_tx, resp_tx, r2t_tx;

  tcp_request* next_free = nullptr;   // on the free list, or the buffer wait list

  void on_bdev_io_done(bdev_io& io) override;
  void on_pdu_sent(tx_pdu& p) override;
};

}  // namespace nvmfd
