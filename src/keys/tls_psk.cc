#include "keys/tls_psk.h"

#include <fmt/format.h>

#include <cassert>

#include "keys/interchange.h"
#include "keys/trim.h"

namespace nvmfd::keys {

namespace {

constexpr std::string_view what = "TLS PSK";

std::string check_lengths(uint8_t hash, size_t key_len) {
  if (hash > 2)
    return fmt::format("{}: unknown hash identifier {:02x} (00 none, 01 SHA-256, 02 SHA-384)",
                       what, hash);
  if (key_len != 32 && key_len != 48)
    return fmt::format("{}: key of {} bytes (32 or 48 allowed)", what, key_len);
  if ((hash == 1 && key_len != 32) || (hash == 2 && key_len != 48))
    return fmt::format("{}: a key of {} bytes cannot go with hash {:02x}, which needs {} bytes",
                       what, key_len, hash, hash == 1 ? 32 : 48);
  return {};
}

}  // namespace

tls_psk_key::~tls_psk_key() { wipe(key.data(), key.size()); }

result<void> validate_tls_psk(const tls_psk_key& psk) {
  if (std::string why = check_lengths(psk.hash, psk.key.size()); !why.empty())
    return error{errc::invalid_argument, std::move(why)};
  return success();
}

result<tls_psk_key> parse_tls_psk(std::string_view text) {
  auto f = parse_interchange(trim_view(text), tls_psk_prefix, what);
  if (!f) return f.take_err();
  tls_psk_key k{f->hash, std::move(f->key)};
  if (auto v = validate_tls_psk(k); !v) return v.take_err();
  return k;
}

std::string format_tls_psk(const tls_psk_key& psk) {
  assert(check_lengths(psk.hash, psk.key.size()).empty());
  return format_interchange(tls_psk_prefix, psk.hash, psk.key);
}

result<tls_psk_key> generate_tls_psk(uint8_t hash) {
  if (hash != 1 && hash != 2)
    return error{errc::invalid_argument,
                 fmt::format("{}: hash must be 1 (SHA-256) or 2 (SHA-384), not {}", what, hash)};
  return tls_psk_key{hash, random_bytes(hash == 1 ? 32 : 48)};
}

}  // namespace nvmfd::keys
