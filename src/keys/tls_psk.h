#pragma once
// TLS pre-shared keys in the NVMe PSK interchange format (NVMe/TCP transport specification
// 3.6.1.5):
//
//     NVMeTLSkey-1:<hh>:<base64 of configured PSK || CRC-32 LE>:
//
// hh names the hash of the retained-PSK derivation: 01 SHA-256 with a 32-byte key, 02 SHA-384
// with a 48-byte key; 00 (no hash given) is accepted with 32 or 48 bytes, as SPDK does (nvme-cli
// 2.3 refuses 00). Pure functions, any thread; failures are errc::invalid_argument with a
// message that never contains key material.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nvmfd::keys {

inline constexpr std::string_view tls_psk_prefix = "NVMeTLSkey-1";

// A configured TLS PSK. The key bytes are wiped when the object is destroyed.
struct tls_psk_key {
  uint8_t hash = 1;  // 0 none given, 1 SHA-256, 2 SHA-384
  std::vector<uint8_t> key;

  tls_psk_key() = default;
  tls_psk_key(uint8_t h, std::vector<uint8_t> k) : hash(h), key(std::move(k)) {}
  tls_psk_key(const tls_psk_key&) = default;
  tls_psk_key(tls_psk_key&&) = default;
  tls_psk_key& operator=(const tls_psk_key&) = default;
  tls_psk_key& operator=(tls_psk_key&&) = default;
  ~tls_psk_key();
};

// Success if the hash is 0..2 and the key length is allowed with it; else invalid_argument.
result<void> validate_tls_psk(const tls_psk_key& psk);

// Parses "NVMeTLSkey-1:hh:<base64>:"; leading and trailing whitespace is ignored.
result<tls_psk_key> parse_tls_psk(std::string_view text);

// The interchange string; the key must be valid (assert).
std::string format_tls_psk(const tls_psk_key& psk);

// A random PSK for hash 1 (32 bytes) or 2 (48 bytes); errc::invalid_argument otherwise.
result<tls_psk_key> generate_tls_psk(uint8_t hash);

}  // namespace nvmfd::keys
