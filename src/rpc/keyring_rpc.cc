#include "rpc/keyring_rpc.h"

#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

// The keyring's errors carry SPDK's errno; rpc_error_code answers -errno only for codes it does
// not map itself (invalid_argument and not_found have fixed JSON-RPC codes), so those are
// re-coded here. The message stays the keyring's.
error with_spdk_code(error e) {
  if (e.sys_errno != 0 && (e.code == errc::invalid_argument || e.code == errc::not_found))
    e.code = errc::io_error;
  return e;
}

result<json> add_key(keys::keyring& ring, const json& params) {
  param_reader p(params);
  std::string name = p.required_string("name");
  std::string path = p.required_string("path");
  if (auto r = p.finish(); !r) return r.take_err();
  if (auto r = ring.add_file_key(std::move(name), std::move(path)); !r)
    return with_spdk_code(r.take_err());
  return json(true);
}

result<json> remove_key(keys::keyring& ring, const json& params) {
  param_reader p(params);
  std::string name = p.required_string("name");
  if (auto r = p.finish(); !r) return r.take_err();
  if (auto r = ring.remove(name); !r) return with_spdk_code(r.take_err());
  return json(true);
}

result<json> get_keys(const keys::keyring& ring, const json& params) {
  param_reader p(params);
  if (auto r = p.finish(); !r) return r.take_err();
  json out = json::array();
  for (const auto& k : ring.list())
    out.push_back({{"name", k.name}, {"module", k.module}, {"removed", k.removed},
                   {"probed", k.probed}, {"refcnt", k.refcnt}, {"path", k.path}});
  return out;
}

json keyring_config(const keys::keyring& ring) {
  json calls = json::array();
  for (const auto& k : ring.list()) {
    if (k.removed) continue;
    calls.push_back({{"method", "keyring_file_add_key"},
                     {"params", {{"name", k.name}, {"path", k.path}}}});
  }
  return calls;
}

}  // namespace

void add_keyring_methods(rpc_method_table& m, keys::keyring& ring) {
  m.add("keyring_file_add_key", [&ring](const json& params) { return add_key(ring, params); });
  m.add("keyring_file_remove_key", [&ring](const json& params) { return remove_key(ring, params); });
  m.add("keyring_get_keys", [&ring](const json& params) { return get_keys(ring, params); });
  m.add_config_section({"keyring", {}, [&ring] { return keyring_config(ring); }});
}

}  // namespace nvmfd
