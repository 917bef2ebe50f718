#include "metrics/metrics_rpc.h"

#include "rpc/param_reader.h"

namespace nvmfd::metrics {

result<void> metrics_service::set_address(const std::string& address) {
  if (address.empty()) {
    server_.reset();
    requested_.clear();
    return success();
  }
  if (auto a = parse_listen_address(address); !a) return a.take_err();
  // The old socket closes first, so that the same address can be asked for again.
  std::unique_ptr<metrics_server> old = std::move(server_);
  std::string old_address = requested_;
  old.reset();
  auto s = metrics_server::start(address, collector_, rpc_loop_);
  if (!s) {
    if (!old_address.empty())
      if (auto back = metrics_server::start(old_address, collector_, rpc_loop_)) server_ = std::move(back.value());
    return s.take_err();
  }
  server_ = std::move(s.value());
  requested_ = address;
  return success();
}

void add_metrics_methods(rpc_method_table& m, metrics_service& service) {
  m.add("metrics_set_address", [&service](const json& params) -> result<json> {
    param_reader p(params);
    auto address = p.required_string("address");
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto r = service.set_address(address); !r) return r.take_err();
    return json(true);
  });
  m.add("metrics_get_address", [&service](const json& params) -> result<json> {
    param_reader p(params);
    if (auto f = p.finish(); !f) return f.take_err();
    return json{{"address", service.bound_address()}};
  });
  m.add_config_section({"metrics", {"nvmf"}, [&service] {
                          json calls = json::array();
                          if (!service.requested_address().empty())
                            calls.push_back({{"method", "metrics_set_address"},
                                             {"params", {{"address", service.requested_address()}}}});
                          return calls;
                        }});
}

}  // namespace nvmfd::metrics
