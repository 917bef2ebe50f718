#pragma once
// The framing shared by the NVMe key interchange formats (DH-HMAC-CHAP secrets, NVMe base
// specification 8.3.5.5.8 "Secret representation"; TLS PSKs, NVMe/TCP transport specification
// 3.6.1.5 "PSK interchange format"):
//
//     <prefix>:<xx>:<base64 of key || CRC-32 of key, little-endian>:
//
// <xx> is two hexadecimal digits (the hash identifier), the CRC-32 is the one of zlib and
// Ethernet (reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF).
// Pure functions, no I/O; callable from any thread. Errors are errc::invalid_argument with a
// message that names what is wrong, never the key bytes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nvmfd::keys {

// CRC-32 as zlib's crc32(0, data, len) computes it.
uint32_t crc32_ieee(std::span<const uint8_t> data);

// Standard base64 (RFC 4648, with '=' padding) of bytes.
std::string base64_encode(std::span<const uint8_t> data);
// Strict decode: the length must be a multiple of 4, only the alphabet and trailing padding.
result<std::vector<uint8_t>> base64_decode(std::string_view text);

// An interchange string taken apart: the hash identifier and the key with its CRC checked.
struct interchange_fields {
  uint8_t hash = 0;
  std::vector<uint8_t> key;  // the CRC stripped
};

// Splits "<prefix>:<xx>:<base64>:" and checks the CRC. `what` names the format in messages
// ("DH-HMAC-CHAP secret", "TLS PSK"). A key length outside [1, 64] is refused here; callers
// check the lengths their format allows.
result<interchange_fields> parse_interchange(std::string_view text, std::string_view prefix,
                                             std::string_view what);
// Builds "<prefix>:<xx>:<base64 of key||crc>:".
std::string format_interchange(std::string_view prefix, uint8_t hash, std::span<const uint8_t> key);

// Random bytes from OpenSSL's CSPRNG; aborts if the generator fails (it cannot be seeded).
std::vector<uint8_t> random_bytes(size_t n);

// Overwrites memory that held key material (OPENSSL_cleanse: not optimised away).
void wipe(void* p, size_t n);

}  // namespace nvmfd::keys
