#pragma once
// host_request: one command slot of a host queue (host_queue), whatever the transport.
// Preallocated per queue; the CID is the slot index in the low bits and a generation counter
// in the high bits, so that a completion for a slot's previous command (stale) or for no
// command is recognised. What a transport needs per slot beyond this (PDU headers, R2T
// progress, RDMA work requests) it keeps beside the slot, indexed by `index`.
#include <cstddef>
#include <cstdint>

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
class host_queue;

// Told when a command completes (controller completion or host-side failure). Runs on the
// queue's reactor. The request is free again once this returns.
class host_callback {
 public:
  virtual void on_host_complete(host_request& req, const nvme_completion& c) = 0;

 protected:
  ~host_callback() = default;
};

// sent: allocated, not yet submitted; waiting: submitted, no completion yet; answered: the
// controller completed it while the transport still reads from the slot or the caller's
// buffer (a PDU queued for the socket): the completion is held until that is over, so that
// the slot and the buffer stay untouched while they are read.
enum class host_request_state : uint8_t { free, sent, waiting, answered };

struct host_request final {
  // --- the caller's, between alloc() and submit() ---
  nvme_sqe cmd{};                   // the CID and the data pointer are set by the queue
  std::byte* data = nullptr;        // caller's buffer; stays valid until completion
  uint32_t data_len = 0;
  bool host_to_controller = false;
  // How long the controller has to complete this command: 0 means the queue's io_timeout_ms;
  // no_timeout, never (an Asynchronous Event Request waits for as long as it takes).
  uint32_t timeout_ms = 0;
  static constexpr uint32_t no_timeout = UINT32_MAX;
  host_callback* cb = nullptr;
  void* user = nullptr;             // for the caller's use
  host_queue* queue = nullptr;      // the queue this slot belongs to (set once)

  // --- the queue's ---
  uint16_t index = 0;
  uint16_t generation = 0;
  host_request_state state = host_request_state::free;
  // Counted as work outstanding on the reactor (it polls while such commands run); not
  // for commands that may wait indefinitely (AER).
  bool awaited = false;
  nvme_completion answer{};         // held while answered
  clock_type::time_point deadline{};
  host_request* next_free = nullptr;
};

}  // namespace nvmfd
