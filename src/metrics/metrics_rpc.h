#pragma once
// The metrics endpoint's RPCs and config section (nvmfd's own; SPDK has no such method):
//   metrics_set_address {"address": "IP:PORT" | "[IPv6]:PORT" | ""} -> true
//       Serves GET /metrics there (metrics_server.h), replacing any earlier address; "" stops
//       serving. Bad address or a port in use: -32602 / the OS error, and what was served
//       before stays served.
//   metrics_get_address {} -> {"address": "127.0.0.1:9464"} ("" when off; the bound port
//       when the request asked for port 0).
// Config section "metrics" (after "nvmf"): metrics_set_address with the address as it was
// asked for, when one is set. nvmfd --metrics-address calls metrics_set_address after the
// config is loaded.
#include <memory>
#include <string>

#include "metrics/metrics_server.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd::metrics {

class metrics_service {
 public:
  metrics_service(std::shared_ptr<metrics_collector> collector, reactor& rpc_loop)
      : collector_(std::move(collector)), rpc_loop_(rpc_loop) {}
  result<void> set_address(const std::string& address);
  std::string bound_address() const { return server_ ? server_->address() : ""; }
  const std::string& requested_address() const { return requested_; }
  void stop() { server_.reset(); }

 private:
  std::shared_ptr<metrics_collector> collector_;
  reactor& rpc_loop_;
  std::unique_ptr<metrics_server> server_;
  std::string requested_;
};

void add_metrics_methods(rpc_method_table& m, metrics_service& service);

}  // namespace nvmfd::metrics
