#pragma once
// tcp_listener: a listening socket of the TCP transport, on reactor 0, that accepts NVMe/TCP
// connections and hands them to the transport (tcp_transport::adopt_connection). Created
// and destroyed on the control thread (it registers and unregisters itself on reactor 0
// synchronously); destroying it stops listening.
#include <memory>
#include <string>

#include "base/result.h"
#include "reactor/reactor.h"
#include "target/target_transport.h"

namespace nvmfd {

class tcp_transport;

class tcp_listener final : public transport_listener, public event_handler {
 public:
  // secure: a secure_channel listener, whose connections start with a TLS handshake.
  static result<std::unique_ptr<tcp_listener>> open(tcp_transport& t, reactor_pool& pool, const std::string& addr,
                                                    uint16_t port, bool secure);
  ~tcp_listener() override;
  void on_events(uint32_t events) override;

 private:
  tcp_listener(tcp_transport& t, reactor_pool& pool, int fd, bool secure)
      : transport_(t), pool_(pool), fd_(fd), secure_(secure) {}
  tcp_transport& transport_;
  reactor_pool& pool_;
  int fd_;
  bool secure_;
};

}  // namespace nvmfd
