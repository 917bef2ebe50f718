#pragma once
// The TLS PSK of NVMe/TCP (NVMe/TCP transport specification, "TLS PSK and PSK identity
// derivation", from TP 8011): a configured PSK (the interchange key's bytes) becomes a
// retained PSK bound to the host NQN, and then the TLS PSK offered under a PSK identity that
// names the host, the subsystem and the cipher suite's hash.
//
// Threading: plain values and pure functions, any thread.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nvmfd::tls {

// Bytes that are a secret: wiped when destroyed.
class secret_bytes {
 public:
  secret_bytes() = default;
  explicit secret_bytes(std::span<const uint8_t> b) : bytes_(b.begin(), b.end()) {}
  explicit secret_bytes(size_t n) : bytes_(n) {}
  secret_bytes(const secret_bytes&) = default;
  secret_bytes& operator=(const secret_bytes& o);
  secret_bytes(secret_bytes&& o) noexcept : bytes_(std::move(o.bytes_)) {}
  secret_bytes& operator=(secret_bytes&& o) noexcept;
  ~secret_bytes() { wipe(); }

  std::span<const uint8_t> view() const { return bytes_; }
  uint8_t* data() { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  void resize(size_t n);  // shrinking wipes the dropped tail first
  friend bool operator==(const secret_bytes& a, const secret_bytes& b) { return a.bytes_ == b.bytes_; }

 private:
  void wipe();
  std::vector<uint8_t> bytes_;
};

// The hash of a PSK identity and of its cipher suite (the identity's two-digit hash
// specifier): 01 SHA-256 with TLS_AES_128_GCM_SHA256, 02 SHA-384 with TLS_AES_256_GCM_SHA384.
enum class tls_hash : uint8_t { sha256 = 1, sha384 = 2 };
// The interchange key's hash field: how the retained PSK is made from the configured one
// (00: it is the configured PSK; 01/02: HKDF with SHA-256/SHA-384 and the host NQN).
enum class retained_hash : uint8_t { none = 0, sha256 = 1, sha384 = 2 };

size_t hash_length(tls_hash h);               // 32 or 48
std::string_view cipher_suite(tls_hash h);    // the TLS 1.3 suite's OpenSSL name
std::string_view hash_name(tls_hash h);       // "SHA-256", "SHA-384"

// A configured PSK as an interchange key holds it ("NVMeTLSkey-1:HH:base64:"): 32 or 48
// bytes, and the hash field.
struct configured_psk {
  secret_bytes key;
  retained_hash hash = retained_hash::none;
};

// What one side of a connection offers or accepts in the handshake.
struct tls_psk {
  std::string identity;  // the PSK identity, sent in clear in the ClientHello
  secret_bytes key;      // the TLS PSK
  tls_hash hash = tls_hash::sha256;
};

}  // namespace nvmfd::tls
