#include "rpc/tls_psk_params.h"

#include <fmt/format.h>

#include "keys/tls_psk.h"

namespace nvmfd {

std::shared_ptr<const tls::configured_psk> read_tls_psk(param_reader& p, std::string_view param,
                                                        const keys::keyring* ring, std::string& name) {
  auto n = p.optional_string(param);
  if (!n || n->empty()) return nullptr;
  name = *n;
  if (!ring) {
    p.fail(param, "this daemon has no keyring");
    return nullptr;
  }
  auto k = ring->find(*n);
  if (!k) {
    p.fail(param, fmt::format("no key named '{}' in the keyring (keyring_file_add_key)", *n));
    return nullptr;
  }
  auto parsed = keys::parse_tls_psk(k->material());
  if (!parsed) {
    p.fail(param, fmt::format("key '{}' is not a TLS PSK: {}", *n, parsed.err().message));
    return nullptr;
  }
  auto psk = std::make_shared<tls::configured_psk>();
  psk->key = tls::secret_bytes(parsed->key);
  psk->hash = static_cast<tls::retained_hash>(parsed->hash);  // 0..2, checked by parse_tls_psk
  return psk;
}

}  // namespace nvmfd
