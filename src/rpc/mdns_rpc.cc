#include "rpc/mdns_rpc.h"

#include <memory>

#include "discovery/mdns_advertisement.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

result<json> publish(mdns_advertisement& ad, const json& params) {
  param_reader p(params);
  p.ignore({"tgt_name"});
  if (auto r = p.finish(); !r) return r.take_err();
  if (auto r = ad.publish(); !r) return r.take_err();
  return json(true);
}

result<json> stop(mdns_advertisement& ad, const json& params) {
  param_reader p(params);
  p.ignore({"tgt_name"});
  if (auto r = p.finish(); !r) return r.take_err();
  ad.stop();
  return json(true);
}

}  // namespace

void add_mdns_methods(rpc_method_table& m, nvmf_target& t, reactor* mdns_loop) {
  auto ad = std::make_shared<mdns_advertisement>(t, mdns_loop);
  m.add("nvmf_publish_mdns_prr", [ad](const json& params) { return publish(*ad, params); });
  m.add("nvmf_stop_mdns_prr", [ad](const json& params) { return stop(*ad, params); });
  t.add_discovery_listener_observer([ad] { ad->listeners_changed(); });
  m.add_config_section({"nvmf_mdns", {"nvmf"}, [ad] {
                          json calls = json::array();
                          if (ad->published()) calls.push_back({{"method", "nvmf_publish_mdns_prr"}, {"params", json::object()}});
                          return calls;
                        }});
}

}  // namespace nvmfd
