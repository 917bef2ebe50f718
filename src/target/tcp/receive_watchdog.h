#pragma once
// receive_watchdog: tells a TCP connection that its host has stalled on the receive side
// (tcp_transport_options::incomplete_pdu_timeout_ms): no ICReq yet, or a PDU begun and not
// finished, for the timeout. A host that holds a connection open without completing what it
// started cannot keep the target's resources (the connection slot, the request it began)
// forever. A connection between PDUs (idle, but whole) is the keep-alive timer's business.
//
// The owner samples the receive side periodically (every timeout / 2) and closes the
// connection when stalled() says so: a stall is noticed between timeout and 1.5 × timeout
// after it began. Threading: the connection's reactor only. Pure logic, no timer of its own.
#include <cstdint>

#include "reactor/time_source.h"

namespace nvmfd {

class receive_watchdog {
 public:
  using time_point = time_source::time_point;
  using duration = time_source::duration;

  // What the receive side is doing, as sampled.
  struct sample {
    bool waiting_ic_req = false;  // the connection has not completed its ICReq
    bool mid_pdu = false;         // part of a PDU has arrived, the rest has not
    uint64_t pdus_received = 0;   // PDUs received whole so far
  };

  // The connection was accepted at `now`: waiting for its ICReq counts from then.
  explicit receive_watchdog(time_point now) : since_(now) {}

  // True when the receive side has been waiting (for an ICReq, or inside one PDU) for at least
  // timeout without a PDU completing.
  bool stalled(const sample& s, time_point now, duration timeout) {
    if (!s.waiting_ic_req && !s.mid_pdu) {
      tracking_ = false;
      return false;
    }
    if (!tracking_ || s.pdus_received != last_pdus_) {
      tracking_ = true;
      last_pdus_ = s.pdus_received;
      since_ = now;
      return false;
    }
    return now - since_ >= timeout;
  }

 private:
  bool tracking_ = true;  // from the accept: waiting for the ICReq
  uint64_t last_pdus_ = 0;
  time_point since_;
};

}  // namespace nvmfd
