#pragma once
// metrics_server: serves GET /metrics (Prometheus text format) over HTTP with cpp-httplib
// (Debian's libcpp-httplib-dev) on threads of its own, never a reactor. Each request has the
// page rendered on the RPC thread (where RPC handlers run; collector.render()) and waits up to
// render_timeout for it: 503 when the RPC thread is busy for longer (a long handler), 404 for
// any other path. Nothing is cached: each scrape reads the counters afresh.
//
// Address: "IP:PORT" or "[IPv6]:PORT"; port 0 picks a free one (address() then says which).
// start() returns once the socket listens; stop() (also the destructor) closes it and waits
// for requests under way. Any thread, including the RPC thread.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "base/result.h"
#include "metrics/metrics_collector.h"
#include "reactor/reactor.h"

namespace httplib {
class Server;
}

namespace nvmfd::metrics {

inline constexpr std::chrono::seconds render_timeout{5};

// host and port of "IP:PORT" / "[IPv6]:PORT"; an error that says what is wrong otherwise.
result<std::pair<std::string, int>> parse_listen_address(const std::string& address);

class metrics_server {
 public:
  static result<std::unique_ptr<metrics_server>> start(const std::string& address,
                                                       std::shared_ptr<metrics_collector> collector,
                                                       reactor& rpc_loop);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  void stop();
  const std::string& address() const { return address_; }  // with the port actually bound

 private:
  metrics_server() = default;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::string address_;
};

}  // namespace nvmfd::metrics
