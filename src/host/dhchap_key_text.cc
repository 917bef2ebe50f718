#include "host/dhchap_key_text.h"

#include <string>

#include "keys/dhchap_secret.h"

namespace nvmfd {

result<auth::dhchap_key> parse_dhchap_key(std::string_view text) {
  auto s = keys::parse_dhchap_secret(text);
  if (!s) return s.take_err();
  return auth::dhchap_key{s->hmac, auth::secret_bytes(s->key)};
}

result<void> set_dhchap_secrets(controller_options& o, std::string_view secret, std::string_view ctrl_secret) {
  if (!ctrl_secret.empty() && secret.empty())
    return error{errc::invalid_argument, "a DH-HMAC-CHAP controller secret needs a host secret"};
  for (auto [text, key, what] : {std::tuple{secret, &o.dhchap_key, "DH-HMAC-CHAP secret"},
                                 std::tuple{ctrl_secret, &o.dhchap_ctrl_key, "DH-HMAC-CHAP controller secret"}}) {
    if (text.empty()) continue;
    auto k = parse_dhchap_key(text);
    if (!k) return error{errc::invalid_argument, std::string(what) + ": " + k.err().message};
    *key = std::move(*k);
  }
  return success();
}

}  // namespace nvmfd
