#pragma once
// queue_socket_opener: opens the socket of one NVMe/TCP queue on a reactor without blocking
// it: a non-blocking TCP connect, with a PSK a TLS 1.3 handshake (TP 8011), then the
// ICReq/ICResp exchange (over TLS then), watched by the reactor and bounded by one deadline
// on the reactor's clock (reactor::now(), so a manual_time drives it).
//
// Threads: open() and cancel() on the reactor r only; done runs there, never inside open().
// Errors: those of tcp_connect_start/finish, "connect <addr>:<port>: timed out" (timed_out)
// when the deadline passes before the connect, those of check_icresp, "ICReq/ICResp exchange
// timed out", "TLS handshake: ..." (protocol_error: a refused PSK, a clear-text port)
// and "TLS handshake timed out", closed when the controller hangs up, closed ("cancelled") after cancel(). On success the
// caller owns the socket; on failure it is closed.
#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "host/icreq_exchange.h"
#include "reactor/completion.h"
#include "reactor/reactor.h"
#include "reactor/reactor_timer.h"
#include "tls/tls_session.h"

namespace nvmfd {

struct opened_socket {
  int fd = -1;
  icresp_info ic;
  std::shared_ptr<tls::tls_session> tls;  // the session over fd, with a PSK
};

class queue_socket_opener final : public event_handler, public std::enable_shared_from_this<queue_socket_opener> {
 public:
  // Starts opening; the returned handle may be dropped (the opener keeps itself alive
  // until done has run) or kept to cancel().
  // psk: the identity and TLS PSK to offer (null: clear text).
  static std::shared_ptr<queue_socket_opener> open(reactor& r, std::string addr, uint16_t port, bool hdgst,
                                                   bool ddgst, std::shared_ptr<const tls::tls_psk> psk,
                                                   std::chrono::milliseconds timeout, completion<opened_socket> done);
  queue_socket_opener(reactor& r, std::string addr, uint16_t port, bool hdgst, bool ddgst,
                      std::shared_ptr<const tls::tls_psk> psk, completion<opened_socket> done);
  ~queue_socket_opener();
  // Fails the open now with closed ("cancelled") (nothing if it is over).
  void cancel();

  void on_events(uint32_t events) override;

 private:
  enum class step { connecting, handshaking, sending, receiving, over };
  void start(std::chrono::milliseconds timeout);
  void fail(error e);
  void advance();
  bool transfer();  // false when it failed (fail() has run)
  void handshake();

  reactor& r_;
  std::string addr_;
  uint16_t port_;
  bool hdgst_;
  bool ddgst_;
  std::shared_ptr<const tls::tls_psk> psk_;
  std::shared_ptr<tls::tls_session> tls_;
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
