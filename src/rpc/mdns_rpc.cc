#include "rpc/mdns_rpc.h"

#include <errno.h>

#include <memory>
#include <mutex>

#include "base/log.h"
#include "mdns/mdns_publisher.h"
#include "proto/nqn.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

// The target's mDNS advertisement: on while publisher is set. Guarded by mu (the RPC thread
// and the listener observer, which is the RPC thread too, or the config loader before it).
struct mdns_advertisement {
  std::mutex mu;
  std::unique_ptr<mdns_publisher> publisher;
};

std::vector<mdns_listener> discovery_listeners(nvmf_target& t) {
  std::vector<mdns_listener> out;
  auto ls = t.listeners(std::string(discovery_nqn));
  if (!ls) return out;
  for (auto& a : ls.value()) {
    unsigned long port = std::strtoul(a.trsvcid.c_str(), nullptr, 10);
    if (port > 0 && port <= 65535) out.push_back({a.traddr, static_cast<uint16_t>(port)});
  }
  return out;
}

result<json> publish(mdns_advertisement& ad, nvmf_target& t, const json& params) {
  param_reader p(params);
  p.ignore({"tgt_name"});
  if (auto r = p.finish(); !r) return r.take_err();
  std::lock_guard lk(ad.mu);
  if (ad.publisher) return error{errc::already_exists, "mDNS is already published", EEXIST};
  auto ls = discovery_listeners(t);
  if (ls.empty()) return error{errc::not_supported, "Discovery subsystem has no listeners", EINVAL};
  auto pub = mdns_publisher::start();
  if (!pub) return pub.take_err();
  pub.value()->publish(ls);
  ad.publisher = std::move(pub.value());
  return json(true);
}

result<json> stop(mdns_advertisement& ad, const json& params) {
  param_reader p(params);
  p.ignore({"tgt_name"});
  if (auto r = p.finish(); !r) return r.take_err();
  std::unique_ptr<mdns_publisher> victim;
  {
    std::lock_guard lk(ad.mu);
    victim = std::move(ad.publisher);
  }
  victim.reset();  // withdraws every service
  return json(true);
}

}  // namespace

void add_mdns_methods(rpc_method_table& m, nvmf_target& t) {
  auto ad = std::make_shared<mdns_advertisement>();
  m.add("nvmf_publish_mdns_prr", [ad, &t](const json& params) { return publish(*ad, t, params); });
  m.add("nvmf_stop_mdns_prr", [ad](const json& params) { return stop(*ad, params); });
  t.add_discovery_listener_observer([ad, &t] {
    std::lock_guard lk(ad->mu);
    if (ad->publisher) ad->publisher->publish(discovery_listeners(t));
  });
  m.add_config_section({"nvmf_mdns", {"nvmf"}, [ad] {
                          std::lock_guard lk(ad->mu);
                          json calls = json::array();
                          if (ad->publisher) calls.push_back({{"method", "nvmf_publish_mdns_prr"}, {"params", json::object()}});
                          return calls;
                        }});
}

}  // namespace nvmfd
