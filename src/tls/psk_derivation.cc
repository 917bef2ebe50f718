#include "tls/psk_derivation.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <fmt/format.h>

namespace nvmfd::tls {

namespace {

const char* digest_name(size_t len) { return len == 48 ? "SHA384" : "SHA256"; }

error ssl_failed(std::string_view what) { return error{errc::io_error, fmt::format("OpenSSL: {} failed", what)}; }

// HKDF-Extract(0, key) then HKDF-Expand-Label(PRK, label, context) into out_len bytes, with
// the label's length field set to length_field (RFC 8446 7.1: HkdfLabel).
result<secret_bytes> hkdf_expand_label(size_t hash_len, std::span<const uint8_t> key, std::string_view label,
                                       std::string_view context, size_t length_field, size_t out_len) {
  std::string full_label = fmt::format("tls13 {}", label);
  if (full_label.size() > 255 || context.size() > 255 || length_field > 0xffff)
    return error{errc::invalid_argument, fmt::format("HKDF label context of {} bytes is too long", context.size())};
  std::vector<uint8_t> info;
  info.reserve(4 + full_label.size() + context.size());
  info.push_back(static_cast<uint8_t>(length_field >> 8));
  info.push_back(static_cast<uint8_t>(length_field));
  info.push_back(static_cast<uint8_t>(full_label.size()));
  info.insert(info.end(), full_label.begin(), full_label.end());
  info.push_back(static_cast<uint8_t>(context.size()));
  info.insert(info.end(), context.begin(), context.end());

  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr);
  if (kdf == nullptr) return ssl_failed("EVP_KDF_fetch(HKDF)");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return ssl_failed("EVP_KDF_CTX_new");
  int mode = EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND;
  // No salt: HKDF-Extract with a salt of hash_len zero bytes, the same as an empty one.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest_name(hash_len)), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(key.data()), key.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_end(),
  };
  secret_bytes out(out_len);
  int rc = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (rc != 1) return ssl_failed("HKDF");
  return out;
}

std::string base64(std::span<const uint8_t> b) {
  std::string s(4 * ((b.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(s.data()), b.data(), static_cast<int>(b.size()));
  s.resize(static_cast<size_t>(n));
  return s;
}

}  // namespace

result<tls_hash> suite_hash(const configured_psk& psk) {
  if (psk.key.size() == 32) return tls_hash::sha256;
  if (psk.key.size() == 48) return tls_hash::sha384;
  return error{errc::invalid_argument, fmt::format("a configured PSK has 32 or 48 bytes, not {}", psk.key.size())};
}

result<secret_bytes> derive_retained_psk(const configured_psk& psk, std::string_view hostnqn) {
  if (auto h = suite_hash(psk); !h) return h.take_err();
  switch (psk.hash) {
    case retained_hash::none: return psk.key;
    case retained_hash::sha256: return hkdf_expand_label(32, psk.key.view(), "HostNQN", hostnqn, psk.key.size(), 32);
    case retained_hash::sha384: return hkdf_expand_label(48, psk.key.view(), "HostNQN", hostnqn, psk.key.size(), 48);
  }
  return error{errc::invalid_argument, "unknown PSK hash"};
}

result<std::string> psk_digest(tls_hash hash, std::span<const uint8_t> retained, std::string_view hostnqn,
                               std::string_view subnqn) {
  std::string msg = fmt::format("{} {} NVMe-over-Fabrics", hostnqn, subnqn);
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  const EVP_MD* md = hash == tls_hash::sha384 ? EVP_sha384() : EVP_sha256();
  if (HMAC(md, retained.data(), static_cast<int>(retained.size()), reinterpret_cast<const uint8_t*>(msg.data()),
           msg.size(), mac, &mac_len) == nullptr)
    return ssl_failed("HMAC");
  std::string d = base64({mac, mac_len});
  OPENSSL_cleanse(mac, sizeof(mac));
  return d;
}

result<secret_bytes> derive_tls_psk(tls_hash hash, std::span<const uint8_t> retained, std::string_view context) {
  return hkdf_expand_label(hash_length(hash), retained, "nvme-tls-psk", context, retained.size(), hash_length(hash));
}

namespace {

// The TLS PSK for an identity whose fields are set (the digest too, for version 1).
result<tls_psk> finish(const psk_identity& id, std::span<const uint8_t> retained) {
  tls_psk out;
  out.identity = id.to_string();
  out.hash = id.hash;
  std::string context =
      id.version == 0 ? out.identity : fmt::format("{:02} {}", static_cast<unsigned>(id.hash), id.digest);
  auto key = derive_tls_psk(id.hash, retained, context);
  if (!key) return key.take_err();
  out.key = std::move(*key);
  return out;
}

}  // namespace

result<tls_psk> host_tls_psk(const configured_psk& psk, std::string_view hostnqn, std::string_view subnqn,
                             uint8_t version) {
  auto hash = suite_hash(psk);
  if (!hash) return hash.take_err();
  if (version > 1) return error{errc::invalid_argument, "PSK identity version is 0 or 1"};
  auto retained = derive_retained_psk(psk, hostnqn);
  if (!retained) return retained.take_err();
  psk_identity id{version, *hash, std::string(hostnqn), std::string(subnqn), {}};
  if (version == 1) {
    auto d = psk_digest(*hash, retained->view(), hostnqn, subnqn);
    if (!d) return d.take_err();
    id.digest = std::move(*d);
  }
  return finish(id, retained->view());
}

result<tls_psk> target_tls_psk(const configured_psk& psk, const psk_identity& id) {
  auto hash = suite_hash(psk);
  if (!hash) return hash.take_err();
  if (*hash != id.hash)
    return error{errc::invalid_argument,
                 fmt::format("the identity asks for {}, the host's key is for {}", hash_name(id.hash), hash_name(*hash))};
  auto retained = derive_retained_psk(psk, id.hostnqn);
  if (!retained) return retained.take_err();
  if (id.version == 1) {
    auto d = psk_digest(id.hash, retained->view(), id.hostnqn, id.subnqn);
    if (!d) return d.take_err();
    if (d->size() != id.digest.size() || CRYPTO_memcmp(d->data(), id.digest.data(), d->size()) != 0)
      return error{errc::invalid_argument, "the identity's PSK digest does not match the host's key"};
  }
  return finish(id, retained->view());
}

}  // namespace nvmfd::tls
