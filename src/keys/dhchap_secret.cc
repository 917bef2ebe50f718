#include "keys/dhchap_secret.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cassert>

#include "keys/interchange.h"
#include "keys/trim.h"

namespace nvmfd::keys {

namespace {

constexpr std::string_view what = "DH-HMAC-CHAP secret";

const EVP_MD* hmac_digest(uint8_t hmac) {
  switch (hmac) {
    case 1: return EVP_sha256();
    case 2: return EVP_sha384();
    case 3: return EVP_sha512();
    default: return nullptr;
  }
}

// Empty when the combination is allowed, else the reason.
std::string check_lengths(uint8_t hmac, size_t key_len) {
  if (hmac > 3)
    return fmt::format("{}: unknown hash identifier {:02x} (00 none, 01 SHA-256, 02 SHA-384, "
                       "03 SHA-512)", what, hmac);
  if (key_len != 32 && key_len != 48 && key_len != 64)
    return fmt::format("{}: key of {} bytes (32, 48 or 64 allowed)", what, key_len);
  if (hmac != 0 && key_len != dhchap_hmac_length(hmac))
    return fmt::format("{}: a key of {} bytes cannot go with hash {:02x}, which needs {} bytes",
                       what, key_len, hmac, dhchap_hmac_length(hmac));
  return {};
}

}  // namespace

size_t dhchap_hmac_length(uint8_t hmac) {
  switch (hmac) {
    case 1: return 32;
    case 2: return 48;
    case 3: return 64;
    default: return 0;
  }
}

dhchap_secret::~dhchap_secret() { wipe(key.data(), key.size()); }

result<void> validate_dhchap_secret(const dhchap_secret& secret) {
  if (std::string why = check_lengths(secret.hmac, secret.key.size()); !why.empty())
    return error{errc::invalid_argument, std::move(why)};
  return success();
}

result<dhchap_secret> parse_dhchap_secret(std::string_view text) {
  auto f = parse_interchange(trim_view(text), dhchap_prefix, what);
  if (!f) return f.take_err();
  dhchap_secret s{f->hash, std::move(f->key)};
  if (auto v = validate_dhchap_secret(s); !v) return v.take_err();
  return s;
}

std::string format_dhchap_secret(const dhchap_secret& secret) {
  assert(check_lengths(secret.hmac, secret.key.size()).empty());
  return format_interchange(dhchap_prefix, secret.hmac, secret.key);
}

result<dhchap_secret> generate_dhchap_secret(uint8_t hmac, size_t key_len) {
  if (key_len == 0) key_len = hmac == 0 ? 32 : dhchap_hmac_length(hmac);
  if (std::string why = check_lengths(hmac, key_len); !why.empty())
    return error{errc::invalid_argument, std::move(why)};
  return dhchap_secret{hmac, random_bytes(key_len)};
}

std::vector<uint8_t> transform_dhchap_key(const dhchap_secret& secret, std::string_view nqn) {
  const EVP_MD* md = hmac_digest(secret.hmac);
  if (md == nullptr) return secret.key;
  constexpr std::string_view label = "NVMe-over-Fabrics";
  std::vector<uint8_t> msg(nqn.begin(), nqn.end());
  msg.insert(msg.end(), label.begin(), label.end());
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  unsigned char* ok = HMAC(md, secret.key.data(), static_cast<int>(secret.key.size()), msg.data(),
                           msg.size(), out.data(), &len);
  assert(ok != nullptr);
  (void)ok;
  out.resize(len);
  return out;
}

}  // namespace nvmfd::keys
