#include "auth/dhchap_crypto.h"

#include <atomic>
#include <memory>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace nvmfd::auth {

void secret_bytes::wipe() {
  if (!v_.empty()) OPENSSL_cleanse(v_.data(), v_.size());
}

namespace {

const char* openssl_digest_name(hash_id h) {
  switch (h) {
    case hash_id::sha256: return "SHA256";
    case hash_id::sha384: return "SHA384";
    case hash_id::sha512: return "SHA512";
  }
  return "";
}

error openssl_failed(const char* what) { return error{errc::io_error, std::string("OpenSSL: ") + what + " failed"}; }

std::span<const uint8_t> text(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

struct mac_deleter {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// The response of either side: HMAC(key, challenge || S || T_ID || 00h || role || nqn1 || 00h || nqn2).
result<secret_bytes> response(hash_id h, std::span<const uint8_t> key, std::span<const uint8_t> challenge,
                              uint32_t seqnum, uint16_t tid, std::string_view role, std::string_view nqn1,
                              std::string_view nqn2) {
  if (challenge.size() != digest_length(h))
    return error{errc::invalid_argument, "challenge length does not match the hash"};
  const uint8_t s[4] = {uint8_t(seqnum), uint8_t(seqnum >> 8), uint8_t(seqnum >> 16), uint8_t(seqnum >> 24)};
  const uint8_t t[2] = {uint8_t(tid), uint8_t(tid >> 8)};
  const uint8_t zero[1] = {0};
  return hmac(h, key, {challenge, s, t, zero, text(role), text(nqn1), zero, text(nqn2)});
}

}  // namespace

result<secret_bytes> hmac(hash_id h, std::span<const uint8_t> key,
                          std::initializer_list<std::span<const uint8_t>> parts) {
  std::unique_ptr<EVP_MAC, mac_deleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return openssl_failed("EVP_MAC_fetch(HMAC)");
  std::unique_ptr<EVP_MAC_CTX, mac_deleter> ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx) return openssl_failed("EVP_MAC_CTX_new");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(openssl_digest_name(h)), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) return openssl_failed("EVP_MAC_init");
  for (auto p : parts)
    if (!p.empty() && EVP_MAC_update(ctx.get(), p.data(), p.size()) != 1) return openssl_failed("EVP_MAC_update");
  secret_bytes out(digest_length(h));
  size_t n = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &n, out.size()) != 1 || n != out.size())
    return openssl_failed("EVP_MAC_final");
  return out;
}

result<secret_bytes> digest(hash_id h, std::span<const uint8_t> data) {
  secret_bytes out(digest_length(h));
  unsigned int n = 0;
  const EVP_MD* md = h == hash_id::sha256 ? EVP_sha256() : h == hash_id::sha384 ? EVP_sha384() : EVP_sha512();
  if (EVP_Digest(data.data(), data.size(), out.data(), &n, md, nullptr) != 1 || n != out.size())
    return openssl_failed("EVP_Digest");
  return out;
}

result<secret_bytes> transform_secret(const dhchap_key& key, std::string_view nqn) {
  if (key.transform == 0) return key.secret;
  auto t = hash_from_wire(key.transform);
  if (!t) return error{errc::invalid_argument, "unknown secret transformation hash " + std::to_string(key.transform)};
  return hmac(*t, key.secret.view(), {text(nqn), text("NVMe-over-Fabrics")});
}

result<secret_bytes> augmented_challenge(hash_id h, std::span<const uint8_t> session_key,
                                         std::span<const uint8_t> challenge) {
  auto hashed = digest(h, session_key);
  if (!hashed) return hashed.take_err();
  return hmac(h, hashed->view(), {challenge});
}

result<secret_bytes> host_response(hash_id h, std::span<const uint8_t> key, std::span<const uint8_t> challenge,
                                   uint32_t seqnum, uint16_t tid, std::string_view hostnqn,
                                   std::string_view subnqn) {
  return response(h, key, challenge, seqnum, tid, "HostHost", hostnqn, subnqn);
}

result<secret_bytes> controller_response(hash_id h, std::span<const uint8_t> key,
                                         std::span<const uint8_t> challenge, uint32_t seqnum, uint16_t tid,
                                         std::string_view hostnqn, std::string_view subnqn) {
  return response(h, key, challenge, seqnum, tid, "Controller", subnqn, hostnqn);
}

result<std::vector<uint8_t>> random_bytes(size_t n) {
  std::vector<uint8_t> out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) return openssl_failed("RAND_bytes");
  return out;
}

uint32_t next_seqnum() {
  static std::atomic<uint32_t> counter = [] {
    uint32_t start = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&start), sizeof(start)) != 1) start = 1;
    return start;
  }();
  for (;;) {
    uint32_t v = counter.fetch_add(1, std::memory_order_relaxed) + 1;
    if (v != 0) return v;
  }
}

bool equal_secret(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace nvmfd::auth
