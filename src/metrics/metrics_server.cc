#include "metrics/metrics_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <httplib.h>

#include <cstring>

#include "base/log.h"
#include "reactor/blocking_call.h"

namespace nvmfd::metrics {

result<std::pair<std::string, int>> parse_listen_address(const std::string& address) {
  auto bad = [&](const char* why) {
    return error{errc::invalid_argument, fmt::format("metrics address '{}': {} (expected IP:PORT or [IPv6]:PORT)", address, why)};
  };
  std::string host, port;
  if (!address.empty() && address[0] == '[') {
    auto close = address.find("]:");
    if (close == std::string::npos) return bad("no ]:PORT");
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) return bad("no port");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (host.find(':') != std::string::npos) return bad("an IPv6 address needs brackets");
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) != 1 && inet_pton(AF_INET6, host.c_str(), buf) != 1)
    return bad("not an IP address");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return bad("bad port");
  int p = std::stoi(port);
  if (p > 65535) return bad("port out of range");
  return std::pair{host, p};
}

result<std::unique_ptr<metrics_server>> metrics_server::start(const std::string& address,
                                                              std::shared_ptr<metrics_collector> collector,
                                                              reactor& rpc_loop) {
  auto hp = parse_listen_address(address);
  if (!hp) return hp.take_err();
  auto [host, port] = hp.value();
  std::unique_ptr<metrics_server> s(new metrics_server);
  s->http_ = std::make_unique<httplib::Server>();
  s->http_->Get("/metrics", [collector, &rpc_loop](const httplib::Request&, httplib::Response& res) {
    auto text = blocking_call<std::string>(
        rpc_loop, [collector](completion<std::string> done) { done(collector->render()); },
        std::chrono::duration_cast<std::chrono::milliseconds>(render_timeout), "metrics render");
    if (!text) {
      res.status = 503;
      res.set_content("the RPC thread is busy; try again\n", "text/plain");
      return;
    }
    res.set_content(std::move(text.value()), "text/plain; version=0.0.4; charset=utf-8");
  });
  int bound = port == 0 ? s->http_->bind_to_any_port(host) : (s->http_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0)
    return error{errc::io_error, fmt::format("metrics address {}: cannot listen ({})", address, std::strerror(errno))};
  s->address_ = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, bound) : fmt::format("{}:{}", host, bound);
  s->thread_ = std::thread([http = s->http_.get()] { http->listen_after_bind(); });
  // stop() is a no-op until the loop runs: wait for it, so that a stop right away still stops.
  while (!s->http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  NVMFD_LOG_INFO("metrics: serving http://{}/metrics", s->address_);
  return s;
}

metrics_server::~metrics_server() { stop(); }

void metrics_server::stop() {
  if (!thread_.joinable()) return;
  http_->stop();
  thread_.join();
  NVMFD_LOG_INFO("metrics: stopped serving {}", address_);
}

}  // namespace nvmfd::metrics
