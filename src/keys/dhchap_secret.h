#pragma once
// DH-HMAC-CHAP secrets in the NVMe interchange form (NVMe base specification 8.3.5.5.8):
//
//     DHHC-1:<hh>:<base64 of key || CRC-32 LE>:
//
// hh is the hash the secret is transformed with before use (00: none, 01: SHA-256, 02: SHA-384,
// 03: SHA-512): transformed = HMAC-hh(key, host NQN || "NVMe-over-Fabrics"). A key is 32, 48 or
// 64 bytes; with hh 01/02/03 it must be the hash's length (32/48/64), as Linux and nvme-cli
// check. Pure functions, any thread. Failures are errc::invalid_argument with a message that
// never contains key material.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nvmfd::keys {

inline constexpr std::string_view dhchap_prefix = "DHHC-1";

// Identifiers of the transform hash (the "hh" field); also the DH-HMAC-CHAP hash identifiers.
enum class dhchap_hmac : uint8_t { none = 0, sha256 = 1, sha384 = 2, sha512 = 3 };

// Length of the hash's output in bytes (32/48/64), 0 for none or an unknown identifier.
size_t dhchap_hmac_length(uint8_t hmac);

// A DH-HMAC-CHAP secret. The key bytes are wiped when the object is destroyed.
struct dhchap_secret {
  uint8_t hmac = 0;  // 0 none, 1 SHA-256, 2 SHA-384, 3 SHA-512
  std::vector<uint8_t> key;

  dhchap_secret() = default;
  dhchap_secret(uint8_t h, std::vector<uint8_t> k) : hmac(h), key(std::move(k)) {}
  dhchap_secret(const dhchap_secret&) = default;
  dhchap_secret(dhchap_secret&&) = default;
  dhchap_secret& operator=(const dhchap_secret&) = default;
  dhchap_secret& operator=(dhchap_secret&&) = default;
  ~dhchap_secret();
};

// Success if hmac is 0..3 and the key length is allowed with it; else invalid_argument saying why.
result<void> validate_dhchap_secret(const dhchap_secret& secret);

// Parses "DHHC-1:hh:<base64>:"; leading and trailing whitespace (a key file's newline) is ignored.
result<dhchap_secret> parse_dhchap_secret(std::string_view text);

// The interchange string of a secret. The secret must be valid (hmac 0..3, key 32/48/64 bytes
// matching the hmac); an invalid one is a programming error (assert).
std::string format_dhchap_secret(const dhchap_secret& secret);

// A random secret from OpenSSL's CSPRNG. key_len 0 means the hash's length (32 for none).
// Returns errc::invalid_argument for an hmac above 3 or a length not allowed with it.
result<dhchap_secret> generate_dhchap_secret(uint8_t hmac, size_t key_len = 0);

// The secret as DH-HMAC-CHAP uses it for `nqn`: HMAC-hh(key, nqn || "NVMe-over-Fabrics"), or the
// key unchanged for hmac 0. (nvme-cli's gen-dhchap-key --hmac N prints a key transformed this
// way with the NQN of --nqn.) The secret must be valid.
std::vector<uint8_t> transform_dhchap_key(const dhchap_secret& secret, std::string_view nqn);

}  // namespace nvmfd::keys
