#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fmt/format.h>

#include "host/icreq_exchange.h"
#include "proto/wire.h"
#include "proto/pdu_check.h"

namespace nvmfd {

namespace {

result<void> io_all(int fd, std::byte* buf, size_t len, bool sending, int timeout_ms) {
  size_t done = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (done < len) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return error{errc::timed_out, "ICReq/ICResp exchange timed out"};
    pollfd p{fd, static_cast<short>(sending ? POLLOUT : POLLIN), 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = sending ? send(fd, buf + done, len - done, MSG_NOSIGNAL) : recv(fd, buf + done, len - done, 0);
    if (n == 0) return error{errc::closed, "the controller closed the connection during ICReq/ICResp"};
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return error::from_errno(errno, "ICReq/ICResp");
    }
    done += static_cast<size_t>(n);
  }
  return success();
}

}  // namespace

std::array<std::byte, sizeof(ic_req_pdu)> make_icreq(bool hdgst, bool ddgst) {
  ic_req_pdu req{};
  req.ch.type = static_cast<uint8_t>(pdu_type::ic_req);
  req.ch.hlen = sizeof(req);
  req.ch.plen = sizeof(req);
  req.pfv = pdu_format_version_1_0;
  req.hpda = 0;
  req.dgst = static_cast<uint8_t>((hdgst ? dgst_bits::hdgst : 0) | (ddgst ? dgst_bits::ddgst : 0));
  req.maxr2t = 0;  // one outstanding R2T per command
  std::array<std::byte, sizeof(ic_req_pdu)> out;
  std::memcpy(out.data(), &req, sizeof(req));
  return out;
}

result<icresp_info> check_icresp(std::span<const std::byte, sizeof(ic_resp_pdu)> in, bool hdgst, bool ddgst) {
  auto resp = load_wire<ic_resp_pdu>(in.data());
  if (resp.ch.type == static_cast<uint8_t>(pdu_type::c2h_term_req))
    return error{errc::protocol_error, "the controller answered the ICReq with a C2HTermReq"};
  pdu_check_params p{pdu_role::host, false, false, false, 0, 0};
  if (auto e = check_common_header(resp.ch, p))
    return error{errc::protocol_error, fmt::format("malformed ICResp (FEI {})", e->fei)};
  auto asked = static_cast<uint8_t>((hdgst ? dgst_bits::hdgst : 0) | (ddgst ? dgst_bits::ddgst : 0));
  if (auto e = check_ic_resp(resp, asked))
    return error{errc::protocol_error, fmt::format("ICResp refused: field at offset {}", e->fei)};
  icresp_info info;
  info.hdgst = resp.dgst & dgst_bits::hdgst;
  info.ddgst = resp.dgst & dgst_bits::ddgst;
  if (info.hdgst != hdgst || info.ddgst != ddgst)
    return error{errc::protocol_error, "the controller did not grant the requested digests"};
  info.maxh2cdata = resp.maxh2cdata.get();
  info.cpda_bytes = resp.cpda ? (uint32_t{resp.cpda} + 1) * 4 : 0;
  return info;
}

result<icresp_info> icreq_exchange(int fd, bool hdgst, bool ddgst, int timeout_ms) {
  auto out = make_icreq(hdgst, ddgst);
  if (auto r = io_all(fd, out.data(), out.size(), true, timeout_ms); !r) return r.take_err();
  std::array<std::byte, sizeof(ic_resp_pdu)> in;
  if (auto r = io_all(fd, in.data(), in.size(), false, timeout_ms); !r) return r.take_err();
  return check_icresp(in, hdgst, ddgst);
}

}  // namespace nvmfd
