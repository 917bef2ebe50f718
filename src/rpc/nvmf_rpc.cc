#include "rpc/nvmf_rpc.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <fmt/format.h>

#include "proto/ana_log.h"
#include "rpc/nvmf_auth_rpc.h"
#include "rpc/param_reader.h"
#include "rpc/tls_psk_params.h"
#include "rpc/transport_params.h"
#include "target/controller.h"
#include "target/ptpl_writer.h"

namespace nvmfd {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Reads an nvmf_listen_address object; records param errors on the reader.
listen_address read_listen_address(param_reader p) {
  listen_address a;
  auto trtype = p.required_string("trtype");
  auto adrfam = p.optional_string("adrfam").value_or("IPv4");
  a.traddr = p.required_string("traddr");
  a.trsvcid = p.optional_string("trsvcid").value_or("4420");
  if (!p.ok()) return a;
  if (lower(trtype) == "tcp")
    a.trtype = "TCP";
  else if (lower(trtype) == "rdma")
    a.trtype = "RDMA";
  else
    p.fail("trtype", fmt::format("'{}' is not supported; nvmfd serves TCP and RDMA", trtype));
  std::string fam = lower(adrfam);
  if (fam == "ipv4") {
    a.adrfam = "IPv4";
  } else if (fam == "ipv6") {
    a.adrfam = "IPv6";
  } else {
    p.fail("adrfam", "expected IPv4 or IPv6");
  }
  unsigned char buf[16];
  if (p.ok() && inet_pton(a.adrfam == "IPv4" ? AF_INET : AF_INET6, a.traddr.c_str(), buf) != 1)
    p.fail("traddr", fmt::format("'{}' is not a numeric {} address", a.traddr, a.adrfam));
  unsigned port = 0;
  bool digits = !a.trsvcid.empty() && a.trsvcid.size() <= 5 &&
                std::all_of(a.trsvcid.begin(), a.trsvcid.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) port = static_cast<unsigned>(std::stoul(a.trsvcid));
  if (p.ok() && (!digits || port == 0 || port > 65535)) p.fail("trsvcid", "expected a TCP port number 1..65535");
  return a;
}

json listen_address_json(const listen_address& a) {
  return {{"trtype", a.trtype}, {"adrfam", a.adrfam}, {"traddr", a.traddr}, {"trsvcid", a.trsvcid}};
}

template <size_t N>
std::optional<std::array<uint8_t, N>> parse_hex_id(const std::string& text) {
  std::string hex;
  for (char c : text)
    if (c != '-') hex.push_back(c);
  if (hex.size() != 2 * N) return std::nullopt;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    unsigned v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = hex[2 * i + k];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + static_cast<unsigned>(d);
    }
    out[i] = static_cast<uint8_t>(v);
  }
  return out;
}

std::string hex_upper(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += fmt::format("{:02X}", p[i]);
  return s;
}

// "hosts" of a referral or registration (nvmfd's): the host NQNs whose discovery log shows
// it; absent or empty: every host.
std::vector<std::string> read_entry_hosts(param_reader& p) {
  auto hosts = p.optional_string_array("hosts").value_or(std::vector<std::string>{});
  for (auto& h : hosts)
    if (auto v = validate_nqn(h); !v && p.ok()) p.fail("hosts", v.err().message);
  return hosts;
}

// Referral params (nvmf_discovery_add_referral / _remove_referral): "address" is an
// nvmf_listen_address whose trsvcid is required (as in SPDK), "subnqn" defaults to the
// discovery NQN.
discovery_referral read_referral(param_reader& p) {
  discovery_referral r;
  auto a = p.sub("address");
  bool has_svcid = a.has("trsvcid");
  r.address = read_listen_address(a);
  if (p.ok() && !has_svcid) a.fail("trsvcid", "required for a referral");
  if (auto n = p.optional_string("subnqn")) r.subnqn = *n;
  if (p.ok())
    if (auto v = validate_nqn(r.subnqn); !v) p.fail("subnqn", v.err().message);
  r.hosts = read_entry_hosts(p);
  p.ignore({"tgt_name"});
  return r;
}

// nvmf_discovery_register / _deregister: {subnqn*, listen_address*} (nvmfd's; a CDC's feed).
discovery_registration read_registration(param_reader& p) {
  discovery_registration r;
  r.subnqn = p.required_string("subnqn");
  auto a = p.sub("listen_address");
  bool has_svcid = a.has("trsvcid");
  r.address = read_listen_address(a);
  if (p.ok() && !has_svcid) a.fail("trsvcid", "required for a registration");
  if (p.ok())
    if (auto v = validate_nqn(r.subnqn); !v) p.fail("subnqn", v.err().message);
  if (p.ok() && is_discovery_nqn(r.subnqn))
    p.fail("subnqn", "a registration names an NVM subsystem (a discovery service is a referral)");
  r.hosts = read_entry_hosts(p);
  return r;
}

json registration_json(const discovery_registration& r) {
  json j = {{"subnqn", r.subnqn}, {"listen_address", listen_address_json(r.address)}, {"source", r.source}};
  if (!r.hosts.empty()) j["hosts"] = r.hosts;
  return j;
}

json referral_json(const discovery_referral& r) {
  json j = {{"address", listen_address_json(r.address)}, {"secure_channel", r.secure_channel}, {"subnqn", r.subnqn}};
  if (!r.hosts.empty()) j["hosts"] = r.hosts;
  return j;
}

// nvmf_set_config (SPDK: the target's options). nvmfd uses discovery_filter and the
// DH-HMAC-CHAP digests and DH groups the target accepts; it refuses admin command
// passthrough (it has no NVMe device behind a namespace) and accepts the others, which mean
// nothing here (reactors come from -m). dup_host_policy (SPDK v26.05): "allow" is what nvmfd
// does (one host NQN may connect through any listeners); "restrict_per_listener" is refused.
result<json> set_config(nvmf_target& t, const json& params) {
  param_reader p(params);
  std::optional<discovery_filter> filter;
  if (auto text = p.optional_string("discovery_filter")) {
    auto f = discovery_filter::parse(*text);
    if (!f) {
      p.fail("discovery_filter", f.err().message);
    } else {
      filter = *f;
    }
  }
  if (auto pt = p.optional_sub("admin_cmd_passthru")) {
    for (const char* k : {"identify_ctrlr", "identify_uuid_list", "get_log_page", "get_set_features", "sanitize", "security_send_recv",
                          "fw_update", "nvme_mi", "vendor_specific"})
      if (pt->optional_bool(k).value_or(false)) pt->fail(k, "admin command passthrough is not supported");
  }
  auto policy = read_dhchap_policy(p, t.current_dhchap_policy());
  if (auto dup = p.optional_string("dup_host_policy"); dup && *dup != "allow") {
    p.fail("dup_host_policy", "only \"allow\" is supported (a host may connect through any listener)");
  }
  p.ignore({"conn_sched", "poll_groups_mask"});
  if (auto f = p.finish(); !f) return f.take_err();
  if (filter) t.set_discovery_filter(*filter);
  if (policy) t.set_dhchap_policy(*policy);
  return json(true);
}

result<json> create_subsystem(nvmf_target& t, const json& params) {
  param_reader p(params);
  subsystem_params s;
  s.nqn = p.required_string("nqn");
  s.serial_number = p.optional_string("serial_number").value_or("00000000000000000000");
  s.model_number = p.optional_string("model_number").value_or("nvmfd Controller");
  s.max_namespaces = static_cast<uint32_t>(p.optional_uint("max_namespaces", UINT32_MAX).value_or(32));
  if (s.max_namespaces == 0) s.max_namespaces = 32;  // SPDK: 0 means the default
  s.allow_any_host = p.optional_bool("allow_any_host").value_or(false);
  s.ana_reporting = p.optional_bool("ana_reporting").value_or(false);
  s.min_cntlid = cntlid_t{static_cast<uint16_t>(p.optional_uint("min_cntlid", UINT16_MAX).value_or(1))};
  s.max_cntlid = cntlid_t{static_cast<uint16_t>(p.optional_uint("max_cntlid", UINT16_MAX).value_or(0xffef))};
  if (p.optional_bool("passthrough").value_or(false)) p.fail("passthrough", "not supported");
  p.ignore({"tgt_name", "max_discard_size_kib", "max_write_zeroes_size_kib", "dmrsl", "wzsl", "enable_nssr"});
  if (auto f = p.finish(); !f) return f.take_err();
  if (auto r = t.create_subsystem(s); !r) return r.take_err();
  return json(true);
}

result<json> add_ns(nvmf_target& t, bdev_registry& bdevs, const json& params) {
  param_reader p(params);
  auto nqn = p.required_string("nqn");
  p.ignore({"tgt_name"});
  auto ns = p.sub("namespace");
  namespace_params np;
  np.nsid = nsid_t{static_cast<uint32_t>(ns.optional_uint("nsid", UINT32_MAX).value_or(0))};
  auto bdev_name = ns.required_string("bdev_name");
  if (auto g = ns.optional_string("nguid")) {
    np.nguid = parse_hex_id<16>(*g);
    if (!np.nguid) ns.fail("nguid", "expected 32 hex digits");
  }
  if (auto e = ns.optional_string("eui64")) {
    np.eui64 = parse_hex_id<8>(*e);
    if (!np.eui64) ns.fail("eui64", "expected 16 hex digits");
  }
  if (auto u = ns.optional_string("uuid")) {
    np.id = uuid::parse(*u);
    if (!np.id) ns.fail("uuid", "expected a UUID");
  }
  np.anagrpid = static_cast<uint32_t>(ns.optional_uint("anagrpid", UINT32_MAX).value_or(0));
  if (auto f = ns.optional_string("ptpl_file")) {
    if (f->empty()) ns.fail("ptpl_file", "expected a file path");
    np.ptpl_file = *f;
  }
  np.no_auto_visible = ns.optional_bool("no_auto_visible").value_or(false);
  ns.ignore({"hide_metadata"});
  if (auto f = p.finish(); !f) return f.take_err();
  np.dev = bdevs.find(bdev_name);
  if (!np.dev) return error{errc::not_found, fmt::format("bdev {} not found", bdev_name)};
  auto r = t.add_namespace(nqn, np);
  if (!r) return r.take_err();
  return json(r->value);
}

// SPDK's shape (nvmf_subsystem_get_listeners): {"address": {trtype, adrfam, traddr,
// trsvcid}, "ana_states": [{"ana_group", "ana_state"}, ...]}; ana_states only with
// ana_reporting, one entry per ANA group 1..max_namespaces whether it has namespaces or not.
json listener_json(const subsystem& s, const listen_address& l) {
  json j = {{"address", listen_address_json(l)}};
  if (l.secure_channel) j["secure_channel"] = true;
  if (!s.ana_reporting) return j;
  json states = json::array();
  for (uint32_t g = 1; g <= s.max_namespaces(); ++g)
    states.push_back({{"ana_group", g}, {"ana_state", std::string(ana_state_rpc_name(l.state_of(g)))}});
  j["ana_states"] = states;
  return j;
}

json subsystem_json(const subsystem& s) {
  json j = {{"nqn", s.nqn()}, {"subtype", s.type() == subsystem_kind::discovery ? "Discovery" : "NVMe"}};
  json ls = json::array();
  for (auto& l : s.listeners) ls.push_back(listen_address_json(l));
  j["listen_addresses"] = ls;
  j["allow_any_host"] = s.allow_any_host;
  json hosts = json::array();
  for (auto& h : s.hosts) hosts.push_back(host_json(s, h, "nqn"));
  j["hosts"] = hosts;
  if (s.type() == subsystem_kind::discovery) return j;
  j["serial_number"] = s.serial_number;
  j["model_number"] = s.model_number;
  j["max_namespaces"] = s.max_namespaces();
  j["passthrough"] = false;
  j["min_cntlid"] = s.min_cntlid.value;
  j["max_cntlid"] = s.max_cntlid.value;
  if (s.ana_reporting) j["ana_reporting"] = true;
  json nss = json::array();
  for (auto& ns : s.namespaces_snapshot()->slots()) {
    if (!ns) continue;
    json n = {{"nsid", ns->nsid.value}, {"bdev_name", ns->dev->name()}, {"name", ns->dev->name()},
              {"nguid", hex_upper(ns->nguid.data(), 16)}, {"uuid", ns->id.to_string()}, {"anagrpid", ns->anagrpid}};
    if (ns->eui64) n["eui64"] = hex_upper(ns->eui64->data(), 8);
    if (!ns->auto_visible) {
      n["no_auto_visible"] = true;
      json hosts = json::array();
      for (auto& h : ns->visible_hosts) hosts.push_back({{"nqn", h}});
      n["hosts"] = hosts;
    }
    nss.push_back(n);
  }
  j["namespaces"] = nss;
  return j;
}

json nvmf_config(nvmf_target& t) {
  json calls = json::array();
  json config = dhchap_policy_json(t.current_dhchap_policy());
  if (auto f = t.current_discovery_filter(); !f.match_any()) config["discovery_filter"] = f.to_string();
  if (!config.empty()) calls.push_back({{"method", "nvmf_set_config"}, {"params", config}});
  for (auto* tr : t.transports())
    calls.push_back({{"method", "nvmf_create_transport"}, {"params", transport_json(*tr)}});
  std::lock_guard lk(t.mu());
  for (auto& s : t.subsystems_locked()) {
    if (s->type() == subsystem_kind::nvme) {
      calls.push_back({{"method", "nvmf_create_subsystem"},
                       {"params", {{"nqn", s->nqn()}, {"allow_any_host", s->allow_any_host},
                                   {"serial_number", s->serial_number}, {"model_number", s->model_number},
                                   {"max_namespaces", s->max_namespaces()}, {"min_cntlid", s->min_cntlid.value},
                                   {"max_cntlid", s->max_cntlid.value}, {"ana_reporting", s->ana_reporting}}}});
      for (auto& ns : s->namespaces_snapshot()->slots()) {
        if (!ns) continue;
        json n = {{"nsid", ns->nsid.value}, {"bdev_name", ns->dev->name()}, {"nguid", hex_upper(ns->nguid.data(), 16)},
                  {"uuid", ns->id.to_string()}, {"anagrpid", ns->anagrpid}};
        if (ns->eui64) n["eui64"] = hex_upper(ns->eui64->data(), 8);
        if (ns->ptpl) n["ptpl_file"] = ns->ptpl->path();
        if (!ns->auto_visible) n["no_auto_visible"] = true;
        calls.push_back({{"method", "nvmf_subsystem_add_ns"}, {"params", {{"nqn", s->nqn()}, {"namespace", n}}}});
        for (auto& h : ns->visible_hosts)
          calls.push_back({{"method", "nvmf_ns_add_host"}, {"params", {{"nqn", s->nqn()}, {"nsid", ns->nsid.value}, {"host", h}}}});
      }
    }
    for (auto& h : s->hosts) {
      json params = host_json(*s, h, "host");
      params["nqn"] = s->nqn();
      calls.push_back({{"method", "nvmf_subsystem_add_host"}, {"params", params}});
    }
    for (auto& l : s->listeners) {
      json params = {{"nqn", s->nqn()}, {"listen_address", listen_address_json(l)}};
      if (l.secure_channel) params["secure_channel"] = true;
      calls.push_back({{"method", "nvmf_subsystem_add_listener"}, {"params", params}});
    }
    // Non-default ANA states, after all the listeners they refer to.
    // One call without anagrpid when every group has the same state.
    for (auto& l : s->listeners) {
      auto call = [&](ana_state st, std::optional<uint32_t> g) {
        json params = {{"nqn", s->nqn()}, {"listen_address", listen_address_json(l)},
                       {"ana_state", std::string(ana_state_rpc_name(st))}};
        if (g) params["anagrpid"] = *g;
        calls.push_back({{"method", "nvmf_subsystem_listener_set_ana_state"}, {"params", params}});
      };
      // A managed group's state is the manager's (a gateway group decides it again at load).
      std::map<uint32_t, ana_state> states;
      for (auto& [g, st] : l.ana_states)
        if (!t.managed_ana_state_locked(s->nqn(), g)) states[g] = st;
      if (states.empty()) continue;
      ana_state first = states.begin()->second;
      bool uniform = states.size() == s->max_namespaces() &&
                     std::all_of(states.begin(), states.end(), [&](auto& e) { return e.second == first; });
      if (uniform) {
        call(first, std::nullopt);
        continue;
      }
      for (auto& [g, st] : states) call(st, g);
    }
  }
  // Referrals and explicit registrations after every subsystem and listener (a discovery
  // service's findings come back with the service).
  for (auto& r : t.referrals_locked())
    calls.push_back({{"method", "nvmf_discovery_add_referral"}, {"params", referral_json(r)}});
  for (auto& r : t.registrations_locked())
    if (r.source == "rpc")
    {
      json params = {{"subnqn", r.subnqn}, {"listen_address", listen_address_json(r.address)}};
      if (!r.hosts.empty()) params["hosts"] = r.hosts;
      calls.push_back({{"method", "nvmf_discovery_register"}, {"params", params}});
    }
  return calls;
}

// Handler for methods whose params are just an nqn plus one more field, to keep them short.
template <class Fn>
rpc_handler nqn_method(Fn fn) {
  return [fn](const json& params) -> result<json> {
    param_reader p(params);
    auto nqn = p.required_string("nqn");
    p.ignore({"tgt_name"});
    return fn(p, nqn);
  };
}

}  // namespace

void add_nvmf_methods(rpc_method_table& m, nvmf_target& t, bdev_registry& bdevs, const keys::keyring* keyring) {
  m.add("nvmf_create_transport", [&t](const json& params) { return create_transport(t, params); });
  m.add("nvmf_get_transports", [&t](const json& params) -> result<json> {
    param_reader p(params);
    auto trtype = p.optional_string("trtype");
    p.ignore({"tgt_name"});
    if (auto f = p.finish(); !f) return f.take_err();
    json out = json::array();
    for (auto* tr : t.transports())
      if (!trtype || lower(std::string(tr->name())) == lower(*trtype)) out.push_back(transport_json(*tr));
    if (trtype && out.empty()) return error{errc::not_found, fmt::format("transport {} not found", *trtype)};
    return out;
  });
  m.add("nvmf_create_subsystem", [&t](const json& params) { return create_subsystem(t, params); });
  m.add("nvmf_delete_subsystem", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.delete_subsystem(nqn); !r) return r.take_err();
          return json(true);
        }));
  m.add("nvmf_subsystem_add_listener", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          auto a = read_listen_address(p.sub("listen_address"));
          a.secure_channel = p.optional_bool("secure_channel").value_or(false);
          auto st = p.optional_enum("ana_state", {"optimized", "non_optimized", "inaccessible"});
          p.ignore({"sock_impl", "numa_id"});
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.add_listener(nqn, a); !r) return r.take_err();
          if (st && *st != "optimized")
            if (auto r = t.set_ana_state(nqn, a, *parse_ana_state(*st), std::nullopt); !r) return r.take_err();
          return json(true);
        }));
  m.add("nvmf_subsystem_listener_set_ana_state",
        nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          auto a = read_listen_address(p.sub("listen_address"));
          auto st = p.required_enum("ana_state",
                                    {"optimized", "non_optimized", "inaccessible", "persistent_loss", "change"});
          std::optional<uint32_t> grp;
          if (auto g = p.optional_uint("anagrpid", UINT32_MAX)) grp = static_cast<uint32_t>(*g);
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.set_ana_state(nqn, a, *parse_ana_state(st), grp); !r) return r.take_err();
          return json(true);
        }));
  m.add("nvmf_ns_add_host", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          nsid_t nsid{static_cast<uint32_t>(p.required_uint("nsid", UINT32_MAX))};
          auto host = p.required_string("host");
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.ns_add_host(nqn, nsid, host); !r) return r.take_err();
          return json(true);
        }));
  m.add("nvmf_ns_remove_host", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          nsid_t nsid{static_cast<uint32_t>(p.required_uint("nsid", UINT32_MAX))};
          auto host = p.required_string("host");
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.ns_remove_host(nqn, nsid, host); !r) return r.take_err();
          return json(true);
        }));
  m.add("nvmf_subsystem_set_ns_ana_group", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          nsid_t nsid{static_cast<uint32_t>(p.required_uint("nsid", UINT32_MAX))};
          auto grp = static_cast<uint32_t>(p.required_uint("anagrpid", UINT32_MAX));
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.set_ns_ana_group(nqn, nsid, grp); !r) return r.take_err();
          return json(true);
        }));
  m.add("nvmf_subsystem_get_listeners", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          if (auto f = p.finish(); !f) return f.take_err();
          std::lock_guard lk(t.mu());
          auto s = t.find_subsystem_locked(nqn);
          if (!s) return error{errc::not_found, fmt::format("subsystem {} not found", nqn)};
          json out = json::array();
          for (auto& l : s->listeners) out.push_back(listener_json(*s, l));
          return out;
        }));
  m.add("nvmf_subsystem_remove_listener", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          auto a = read_listen_address(p.sub("listen_address"));
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.remove_listener(nqn, a); !r) return r.take_err();
          return json(true);
        }));
  m.add("nvmf_subsystem_add_ns", [&t, &bdevs](const json& params) { return add_ns(t, bdevs, params); });
  m.add("nvmf_subsystem_remove_ns", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          nsid_t nsid{static_cast<uint32_t>(p.required_uint("nsid", UINT32_MAX))};
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.remove_namespace(nqn, nsid); !r) return r.take_err();
          return json(true);
        }));
  m.add("nvmf_subsystem_add_host", nqn_method([&t, keyring](param_reader& p, const std::string& nqn) -> result<json> {
          auto host = p.required_string("host");
          std::optional<subsystem::host_psk> psk;
          std::string psk_name;
          if (auto key = read_tls_psk(p, "psk", keyring, psk_name)) psk = subsystem::host_psk{psk_name, std::move(key)};
          auto keys = read_host_keys(p);
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.add_host(nqn, host, std::move(psk)); !r) return r.take_err();
          if (keys.empty()) return json(true);
          if (auto r = t.set_host_keys(nqn, host, keys); !r) {
            (void)t.remove_host(nqn, host);  // all or nothing, as SPDK
            return r.take_err();
          }
          return json(true);
        }));
  m.add("nvmf_subsystem_remove_host", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          auto host = p.required_string("host");
          p.optional_uint("timeout_ms");
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.remove_host(nqn, host); !r) return r.take_err();
          return json(true);
        }));
  m.add("nvmf_subsystem_allow_any_host", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          bool allow = p.required_bool("allow_any_host");
          if (auto f = p.finish(); !f) return f.take_err();
          if (auto r = t.set_allow_any_host(nqn, allow); !r) return r.take_err();
          return json(true);
        }));
  m.add("nvmf_get_subsystems", [&t](const json& params) -> result<json> {
    param_reader p(params);
    auto nqn = p.optional_string("nqn");
    p.ignore({"tgt_name"});
    if (auto f = p.finish(); !f) return f.take_err();
    json out = json::array();
    std::lock_guard lk(t.mu());
    for (auto& s : t.subsystems_locked())
      if (!nqn || s->nqn() == *nqn) out.push_back(subsystem_json(*s));
    if (nqn && out.empty()) return error{errc::not_found, fmt::format("subsystem {} not found", *nqn)};
    return out;
  });
  m.add("nvmf_subsystem_get_controllers", nqn_method([&t](param_reader& p, const std::string& nqn) -> result<json> {
          if (auto f = p.finish(); !f) return f.take_err();
          auto cs = t.controllers(nqn);
          if (!cs) return cs.take_err();
          json out = json::array();
          for (auto& c : *cs) {
            json j = {{"cntlid", c.cntlid.value}, {"hostnqn", c.hostnqn}, {"hostid", c.hostid.to_string()},
                      {"num_io_qpairs", c.num_io_qpairs}};
            // nvmfd's own field: the cipher suite and where the record crypto runs (kTLS or not).
            if (!c.secure_channel.empty()) j["secure_channel"] = c.secure_channel;
            out.push_back(j);
          }
          return out;
        }));
  m.add("nvmf_set_config", [&t](const json& params) { return set_config(t, params); });
  add_nvmf_auth_methods(m, t);
  m.add("nvmf_discovery_add_referral", [&t](const json& params) -> result<json> {
    param_reader p(params);
    auto r = read_referral(p);
    r.secure_channel = p.optional_bool("secure_channel").value_or(false);
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto a = t.add_referral(r); !a) return a.take_err();
    return json(true);
  });
  m.add("nvmf_discovery_remove_referral", [&t](const json& params) -> result<json> {
    param_reader p(params);
    auto r = read_referral(p);
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto a = t.remove_referral(r); !a) return a.take_err();
    return json(true);
  });
  m.add("nvmf_discovery_get_referrals", [&t](const json& params) -> result<json> {
    param_reader p(params);
    p.ignore({"tgt_name"});
    if (auto f = p.finish(); !f) return f.take_err();
    json out = json::array();
    for (auto& r : t.referrals()) out.push_back(referral_json(r));
    return out;
  });
  m.add("nvmf_discovery_register", [&t](const json& params) -> result<json> {
    param_reader p(params);
    auto r = read_registration(p);
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto a = t.add_registration(r); !a) return a.take_err();
    return json(true);
  });
  m.add("nvmf_discovery_deregister", [&t](const json& params) -> result<json> {
    param_reader p(params);
    auto r = read_registration(p);
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto a = t.remove_registration(r); !a) return a.take_err();
    return json(true);
  });
  m.add("nvmf_discovery_get_registrations", [&t](const json& params) -> result<json> {
    param_reader p(params);
    if (auto f = p.finish(); !f) return f.take_err();
    json out = json::array();
    for (auto& r : t.registrations()) out.push_back(registration_json(r));
    return out;
  });
  m.add_config_section({"nvmf", {"keyring", "bdev"}, [&t] { return nvmf_config(t); }});
}

}  // namespace nvmfd
