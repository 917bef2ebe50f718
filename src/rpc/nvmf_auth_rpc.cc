#include "rpc/nvmf_auth_rpc.h"

#include <fmt/format.h>

#include "keys/dhchap_secret.h"

namespace nvmfd {

namespace {

template <class E, class Parse>
std::optional<auth::id_set<E>> read_names(param_reader& p, std::string_view key, Parse parse) {
  auto names = p.optional_string_array(key);
  if (!names) return std::nullopt;
  auth::id_set<E> set;
  for (auto& n : *names) {
    auto e = parse(n);
    if (!e) {
      p.fail(key, fmt::format("unknown name '{}'", n));
      return std::nullopt;
    }
    set.add(*e);
  }
  if (set.empty()) p.fail(key, "the list is empty");
  return set;
}

}  // namespace

host_dhchap_keys read_host_keys(param_reader& p) {
  return {p.optional_string("dhchap_key").value_or(""), p.optional_string("dhchap_ctrlr_key").value_or("")};
}

std::optional<dhchap_policy> read_dhchap_policy(param_reader& p, const dhchap_policy& current) {
  auto digests = read_names<auth::hash_id>(p, "dhchap_digests", auth::parse_hash);
  auto groups = read_names<auth::dh_group>(p, "dhchap_dhgroups", auth::parse_dh_group);
  if (!digests && !groups) return std::nullopt;
  dhchap_policy out = current;
  if (digests) out.digests = *digests;
  if (groups) out.dhgroups = *groups;
  return out;
}

json dhchap_policy_json(const dhchap_policy& p) {
  json j = json::object();
  if (p.digests != auth::every_hash()) {
    json a = json::array();
    for (auto h : auth::all_hashes)
      if (p.digests.contains(h)) a.push_back(auth::name(h));
    j["dhchap_digests"] = a;
  }
  if (p.dhgroups != auth::every_dh_group()) {
    json a = json::array();
    for (auto g : auth::all_dh_groups)
      if (p.dhgroups.contains(g)) a.push_back(auth::name(g));
    j["dhchap_dhgroups"] = a;
  }
  return j;
}

json host_json(const subsystem& s, const std::string& hostnqn, const char* nqn_key) {
  json j = {{nqn_key, hostnqn}};
  if (auto it = s.host_keys.find(hostnqn); it != s.host_keys.end()) {
    if (!it->second.key.empty()) j["dhchap_key"] = it->second.key;
    if (!it->second.ctrlr_key.empty()) j["dhchap_ctrlr_key"] = it->second.ctrlr_key;
  }
  if (auto it = s.host_psks.find(hostnqn); it != s.host_psks.end()) j["psk"] = it->second.key_name;
  return j;
}

dhchap_key_resolver keyring_dhchap_resolver(const keys::keyring& ring) {
  return [&ring](std::string_view name) -> result<auth::dhchap_key> {
    auto k = ring.find(name);
    if (!k || k->removed()) return error{errc::not_found, fmt::format("no key {} in the keyring", name)};
    auto s = keys::parse_dhchap_secret(k->material());
    if (!s) return error{errc::invalid_argument, fmt::format("key {} is not a DH-HMAC-CHAP secret: {}", name, s.err().message)};
    return auth::dhchap_key{s->hmac, auth::secret_bytes(s->key)};
  };
}

void add_nvmf_auth_methods(rpc_method_table& m, nvmf_target& t) {
  m.add("nvmf_subsystem_set_keys", [&t](const json& params) -> result<json> {
    param_reader p(params);
    auto nqn = p.required_string("nqn");
    auto host = p.required_string("host");
    auto keys = read_host_keys(p);
    p.ignore({"tgt_name"});
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto r = t.set_host_keys(nqn, host, keys); !r) return r.take_err();
    return json(true);
  });
}

}  // namespace nvmfd
