#pragma once
// queue_socket_opener: opens the socket of one NVMe/TCP queue on a reactor without blocking
// it: a non-blocking TCP connect, then the ICReq/ICResp exchange, watched by the reactor and
// bounded by one deadline on the reactor's clock (reactor::now(), so a manual_time drives it).
//
// Threads: open() and cancel() on the reactor r only; done runs there, never inside open().
// Errors: those of tcp_connect_start/finish, "connect <addr>:<port>: timed out" (timed_out)
// when the deadline passes before the connect, those of check_icresp, "ICReq/ICResp exchange
// timed out", closed when the controller hangs up, closed ("cancelled") after cancel(). On success the
// caller owns the socket; on failure it is closed.
#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "host/icreq_exchange.h"
#include "reactor/completion.h"
#include "reactor/reactor.h"
#include "reactor/reactor_timer.h"

namespace nvmfd {

struct opened_socket {
  int fd = -1;
  icresp_info ic;
};

class queue_socket_opener final : public event_handler, public std::enable_shared_from_this<queue_socket_opener> {
 public:
  // Starts opening; the returned handle may be dropped (the opener keeps itself alive
  // until done has run) or kept to cancel().
  static std::shared_ptr<queue_socket_opener> open(reactor& r, std::string addr, uint16_t port, bool hdgst,
                                                   bool ddgst, std::chrono::milliseconds timeout,
                                                   completion<opened_socket> done);
  queue_socket_opener(reactor& r, std::string addr, uint16_t port, bool hdgst, bool ddgst,
                      completion<opened_socket> done);
  ~queue_socket_opener();
  // Fails the open now with closed ("cancelled") (nothing if it is over).
  void cancel();

  void on_events(uint32_t events) override;

 private:
  enum class step { connecting, sending, receiving, over };
  void start(std::chrono::milliseconds timeout);
  void fail(error e);
  void advance();
  bool transfer();  // false when it failed (fail() has run)

  reactor& r_;
  std::string addr_;
  uint16_t port_;
  bool hdgst_;
  bool ddgst_;
  completion<opened_socket> done_;
  reactor_timer deadline_;
  int fd_ = -1;
  bool watched_ = false;
  step step_ = step::connecting;
  std::array<std::byte, sizeof(ic_req_pdu)> out_{};
  std::array<std::byte, sizeof(ic_resp_pdu)> in_{};
  size_t done_bytes_ = 0;
  std::shared_ptr<queue_socket_opener> self_;  // until done has run
};

}  // namespace nvmfd
