#pragma once
// Options of the TCP transport (SPDK's nvmf_create_transport parameters that apply to TCP).
#include <cstdint>

#include "target/queue_limits.h"

namespace nvmfd {

struct tcp_transport_options {
  uint16_t max_queue_depth = 128;          // I/O queue entries (CAP.MQES + 1)
  uint16_t max_io_qpairs_per_ctrlr = 127;
  uint32_t in_capsule_data_size = 4096;    // I/O queues; the admin queue always takes 8 KiB
  uint32_t max_io_size = 131072;           // MDTS, in bytes; a power of two >= 4096
  uint32_t io_unit_size = 131072;
  uint32_t max_aq_depth = 128;
  // Data buffers: requests hold at most num_shared_buffers × io_unit_size bytes of them at
  // once over the transport, and wait for room beyond that (data_buffer_budget.h); each
  // reactor keeps at most buf_cache_size × io_unit_size bytes of free ones for reuse.
  uint32_t num_shared_buffers = 511;
  uint32_t buf_cache_size = 32;
  // An R2T whose H2CData does not come within this time closes the connection (each
  // H2CData PDU of the transfer starts the time again). 0: no limit.
  uint32_t h2c_data_timeout_ms = 30000;
  // A connection that has not sent its ICReq, or has sent part of a PDU and not the rest, for
  // this long is closed (receive_watchdog.h). 0: no limit.
  uint32_t incomplete_pdu_timeout_ms = 30000;
  // Connections open at once through one listener; more are accepted and closed at once,
  // with a warning. 0: no limit.
  uint32_t max_connections_per_listener = 2048;
  bool c2h_success = true;                 // reads end with a C2HData SUCCESS flag, no CapsuleResp
  bool dif_insert_or_strip = false;
  bool zcopy = false;
  uint32_t sock_priority = 0;
  uint32_t abort_timeout_sec = 1;
  uint32_t ack_timeout = 0;
  uint32_t data_wr_pool_size = 0;
  bool disable_command_passthru = false;
  uint16_t kas = 10;                       // keep-alive granularity in Identify, 100 ms units
  uint32_t min_kato = 10000;               // ms: smallest keep-alive timeout granted to an I/O controller
};

// The limits the command handlers see on a TCP queue (the TCP-only options stay here).
inline queue_limits limits_of(const tcp_transport_options& o) {
  queue_limits l = common_limits(o);
  return l;
}

// Largest data in one H2CData PDU we accept (ICResp MAXH2CDATA).
inline constexpr uint32_t tcp_max_h2c_data = 131072;
// In-capsule data accepted on the admin queue (Linux sends up to 8 KiB there).
inline constexpr uint32_t admin_in_capsule_data_size = 8192;

}  // namespace nvmfd
