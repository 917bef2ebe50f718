#pragma once
// host_request: one command slot of a host queue pair. Preallocated per queue; the CID is
// the slot index in the low bits and a generation counter in the high bits, so that a
// completion for a slot's previous command (stale) or for no command is recognised.
#include <array>
#include <cstddef>
#include <cstdint>

#include "nvme_tcp/pdu_writer.h"
#include "proto/nvme_command.h"
#include "reactor/reactor.h"

namespace nvmfd {

// Host-side statuses for commands that never got a controller completion
// (NVMe Base 2.0 Figure 101, path related).
namespace sc_host {
inline constexpr uint8_t host_path_error = 0x70;   // the connection failed
inline constexpr uint8_t host_aborted = 0x71;      // timed out or cancelled by the host
}  // namespace sc_host

struct nvme_completion {
  nvme_status status;
  uint32_t dw0 = 0;
  uint32_t dw1 = 0;
};

struct host_request;

// Told when a command completes (controller completion or host-side failure). Runs on the
// queue's reactor. The request is free again once this returns.
class host_callback {
 public:
  virtual void on_host_complete(host_request& req, const nvme_completion& c) = 0;

 protected:
  ~host_callback() = default;
};

// sent: allocated, not yet submitted; waiting: submitted, no completion yet; answered: the
// controller completed it while one of its PDUs (the capsule or an H2CData) is still queued
// for the socket: the completion is held until that PDU is sent, so that the slot and the
// caller's buffer stay untouched while the writer reads from them.
enum class host_request_state : uint8_t { free, sent, waiting, answered };

struct host_request final : tx_pdu_done {
  uint16_t index = 0;
  uint16_t generation = 0;
  host_request_state state = host_request_state::free;
  nvme_sqe cmd{};
  std::byte* data = nullptr;        // caller's buffer; stays valid until completion
  uint32_t data_len = 0;
  bool host_to_controller = false;
  bool in_capsule = false;
  uint32_t c2h_received = 0;
  nvme_status data_status{};        // transient transport error after a bad data digest
  uint32_t h2c_pending = 0;         // bytes of the current R2T not yet queued
  uint32_t h2c_offset = 0;          // next data offset to send for the current R2T
  uint16_t ttag = 0;
  bool cmd_queued = false;          // cmd_tx is in the writer's queue
  bool h2c_queued = false;          // h2c_tx is in the writer's queue
  nvme_completion answer{};         // held while answered
  clock_type::time_point deadline{};
  // How long the controller has to complete this command: 0 means the queue's io_timeout_ms;
  // no_timeout, never (an Asynchronous Event Request waits for as long as it takes).
  uint32_t timeout_ms = 0;
  static constexpr uint32_t no_timeout = UINT32_MAX;
  // Counted as work outstanding on the reactor (it polls while such commands run); not
  // for commands that may wait indefinitely (AER).
  bool awaited = false;
  host_callback* cb = nullptr;
  void* user = nullptr;             // for the caller's use

  std::array<std::byte, 72 + 4> cmd_hdr{};
  std::array<std::byte, 24 + 4> h2c_hdr{};
  tx_pdu cmd_tx, h2c_tx;
  host_request* next_free = nullptr;
  class tcp_host_qpair* qp = nullptr;

  void on_pdu_sent(tx_pdu& p) override;
};

}  // namespace nvmfd
