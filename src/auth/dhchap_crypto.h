#pragma once
// The DH-HMAC-CHAP computations (NVMe Base 2.1 8.3.4.5.3-8.3.4.5.7), on OpenSSL 3's EVP
// interfaces. Host and controller share them. Control path only (they allocate); callable
// from any thread. Every function fails only when OpenSSL does (errc::io_error) or on a hash
// length that does not fit (errc::invalid_argument).
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "auth/dhchap_ids.h"
#include "auth/secret_bytes.h"
#include "base/result.h"

namespace nvmfd::auth {

// HMAC(key, part1 || part2 || ...) with hash h: digest_length(h) bytes.
result<secret_bytes> hmac(hash_id h, std::span<const uint8_t> key,
                          std::initializer_list<std::span<const uint8_t>> parts);
// H(data).
result<secret_bytes> digest(hash_id h, std::span<const uint8_t> data);

// The secret transformation (8.3.4.5.7): with the key's own transform hash T (not the
// negotiated one), HMAC_T(secret, NQN || "NVMe-over-Fabrics"); the secret itself for T = 0.
// The host's secret goes with the host NQN, the controller's with the subsystem NQN.
result<secret_bytes> transform_secret(const dhchap_key& key, std::string_view nqn);

// The augmented challenge with a DH shared secret: HMAC_H(H(session_key), challenge).
result<secret_bytes> augmented_challenge(hash_id h, std::span<const uint8_t> session_key,
                                         std::span<const uint8_t> challenge);

// The responses. challenge: C1 or C2, augmented when a DH group is in use; key: the
// transformed secret.
//   host (R1):       HMAC(Kh', C1 || S1 || T_ID || 00h || "HostHost" || NQNh || 00h || NQNc)
//   controller (R2): HMAC(Kc', C2 || S2 || T_ID || 00h || "Controller" || NQNc || 00h || NQNh)
// with S as 4 and T_ID as 2 little-endian bytes.
result<secret_bytes> host_response(hash_id h, std::span<const uint8_t> key, std::span<const uint8_t> challenge,
                                   uint32_t seqnum, uint16_t tid, std::string_view hostnqn,
                                   std::string_view subnqn);
result<secret_bytes> controller_response(hash_id h, std::span<const uint8_t> key,
                                         std::span<const uint8_t> challenge, uint32_t seqnum, uint16_t tid,
                                         std::string_view hostnqn, std::string_view subnqn);

// n random bytes from OpenSSL's CSPRNG.
result<std::vector<uint8_t>> random_bytes(size_t n);
// A fresh sequence number: one process-wide counter, started at random, never 0 (0 means
// "no controller authentication" in a Reply).
uint32_t next_seqnum();
// Constant-time comparison of two byte strings (false if the sizes differ).
bool equal_secret(std::span<const uint8_t> a, std::span<const uint8_t> b);

}  // namespace nvmfd::auth
