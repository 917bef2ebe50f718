#include "rpc/dhchap_params.h"

#include <fmt/format.h>

#include "keys/dhchap_secret.h"

namespace nvmfd {

std::optional<auth::dhchap_key> read_dhchap_key(param_reader& p, std::string_view param, const keys::keyring* ring,
                                                std::string& name) {
  auto n = p.optional_string(param);
  if (!n) return std::nullopt;
  name = *n;
  if (!ring) {
    p.fail(param, "this daemon has no keyring");
    return std::nullopt;
  }
  auto k = ring->find(*n);
  if (!k) {
    p.fail(param, fmt::format("no key named '{}' in the keyring (keyring_file_add_key)", *n));
    return std::nullopt;
  }
  auto s = keys::parse_dhchap_secret(k->material());
  if (!s) {
    p.fail(param, fmt::format("key '{}' is not a DH-HMAC-CHAP secret: {}", *n, s.err().message));
    return std::nullopt;
  }
  return auth::dhchap_key{s->hmac, auth::secret_bytes(s->key)};
}

namespace {

template <class Set, class Parse>
std::optional<Set> read_names(param_reader& p, std::string_view param, Parse parse, std::string_view allowed) {
  auto names = p.optional_string_array(param);
  if (!names) return std::nullopt;
  Set s;
  for (const auto& n : *names) {
    auto v = parse(n);
    if (!v) {
      p.fail(param, fmt::format("unknown '{}': expected {}", n, allowed));
      return std::nullopt;
    }
    s.add(*v);
  }
  if (s.empty()) {
    p.fail(param, "must name at least one");
    return std::nullopt;
  }
  return s;
}

}  // namespace

std::optional<auth::hash_set> read_dhchap_digests(param_reader& p, std::string_view param) {
  return read_names<auth::hash_set>(p, param, auth::parse_hash, "sha256, sha384 or sha512");
}

std::optional<auth::dh_group_set> read_dhchap_dhgroups(param_reader& p, std::string_view param) {
  return read_names<auth::dh_group_set>(p, param, auth::parse_dh_group,
                                        "null, ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144 or ffdhe8192");
}

json dhchap_digests_json(const auth::hash_set& s) {
  json a = json::array();
  for (auth::hash_id h : auth::all_hashes)
    if (s.contains(h)) a.push_back(std::string(auth::name(h)));
  return a;
}

json dhchap_dhgroups_json(const auth::dh_group_set& s) {
  json a = json::array();
  for (auth::dh_group g : auth::all_dh_groups)
    if (s.contains(g)) a.push_back(std::string(auth::name(g)));
  return a;
}

}  // namespace nvmfd
