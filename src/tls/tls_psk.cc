#include "tls/tls_psk.h"

#include <openssl/crypto.h>

namespace nvmfd::tls {

secret_bytes& secret_bytes::operator=(const secret_bytes& o) {
  if (this != &o) {
    wipe();
    bytes_ = o.bytes_;
  }
  return *this;
}

secret_bytes& secret_bytes::operator=(secret_bytes&& o) noexcept {
  if (this != &o) {
    wipe();
    bytes_ = std::move(o.bytes_);
  }
  return *this;
}

void secret_bytes::resize(size_t n) {
  if (n < bytes_.size()) OPENSSL_cleanse(bytes_.data() + n, bytes_.size() - n);
  bytes_.resize(n);
}

void secret_bytes::wipe() {
  if (!bytes_.empty()) OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

size_t hash_length(tls_hash h) { return h == tls_hash::sha384 ? 48 : 32; }

std::string_view cipher_suite(tls_hash h) {
  return h == tls_hash::sha384 ? "TLS_AES_256_GCM_SHA384" : "TLS_AES_128_GCM_SHA256";
}

std::string_view hash_name(tls_hash h) { return h == tls_hash::sha384 ? "SHA-384" : "SHA-256"; }

}  // namespace nvmfd::tls
