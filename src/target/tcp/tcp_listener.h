#pragma once
// tcp_listener: a listening socket of the TCP transport, on reactor 0, that accepts NVMe/TCP
// connections and hands them to the transport (tcp_transport::adopt_connection). Created
// and destroyed on the control thread (it registers and unregisters itself on reactor 0
// synchronously); destroying it stops listening. It counts the connections it accepted that
// are still open (each holds a connection_slot): beyond max_connections_per_listener a new
// one is closed at once, with a warning (the first, then every 1000th).
#include <atomic>
#include <cstdint>
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
  tcp_listener(tcp_transport& t, reactor_pool& pool, int fd, std::string name, bool secure)
      : transport_(t), pool_(pool), fd_(fd), name_(std::move(name)), secure_(secure) {}
  tcp_transport& transport_;
  reactor_pool& pool_;
  int fd_;
  std::string name_;  // "addr:port", for log lines
  bool secure_;       // TLS 1.3 (PSK) only
  std::shared_ptr<std::atomic<uint32_t>> open_ = std::make_shared<std::atomic<uint32_t>>(0);
  uint64_t refused_ = 0;  // reactor 0 only
};

}  // namespace nvmfd
