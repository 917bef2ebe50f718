#pragma once
// The ICReq/ICResp exchange that opens an NVMe/TCP connection (NVMe/TCP 1.0 3.6.2), host
// side: the PDU we send, the checks on the answer, and a blocking exchange for control
// threads. queue_socket_opener does the same on a reactor.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.h"
#include "proto/nvme_tcp_pdu.h"

namespace nvmfd {

struct icresp_info {
  bool hdgst = false;
  bool ddgst = false;
  uint32_t maxh2cdata = 0;
  uint32_t cpda_bytes = 0;
};

// The ICReq asking for these digests, as bytes for the wire.
std::array<std::byte, sizeof(ic_req_pdu)> make_icreq(bool hdgst, bool ddgst);
// Checks an ICResp against what make_icreq(hdgst, ddgst) asked. protocol_error for a
// C2HTermReq, a malformed ICResp or digests not granted.
result<icresp_info> check_icresp(std::span<const std::byte, sizeof(ic_resp_pdu)> in, bool hdgst, bool ddgst);

// Sends an ICReq on a connected socket and reads the ICResp (control thread; waits up to
// timeout_ms). Fails as check_icresp does, or timed_out, or closed.
result<icresp_info> icreq_exchange(int fd, bool hdgst, bool ddgst, int timeout_ms);

}  // namespace nvmfd
