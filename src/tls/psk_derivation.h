#pragma once
// The NVMe/TCP PSK derivations (NVMe/TCP transport specification, "TLS PSK and PSK identity
// derivation"), with HKDF (RFC 5869) and HKDF-Expand-Label (RFC 8446 7.1) through OpenSSL 3's
// EVP_KDF, as SPDK and Linux compute them so that the keys match theirs:
//   retained PSK = HKDF-Expand-Label(HKDF-Extract(0, configured PSK), "HostNQN", host NQN, L)
//   TLS PSK      = HKDF-Expand-Label(HKDF-Extract(0, retained PSK), "nvme-tls-psk", context, L)
// The context of the TLS PSK is the whole identity for version 0 (SPDK) and "<hh> <digest>"
// for version 1 (TP 8018, Linux). The length field of the label is the input key's length;
// the output is the hash's length (SPDK's choice; the same whenever the lengths agree).
//
// Threading: pure functions, any thread. Failures: errc::invalid_argument for keys of the
// wrong size or NQNs too long; errc::io_error when OpenSSL fails.
#include <string>
#include <string_view>

#include "base/result.h"
#include "tls/psk_identity.h"
#include "tls/tls_psk.h"

namespace nvmfd::tls {

// The cipher suite's hash a configured PSK calls for: 32 bytes SHA-256, 48 bytes SHA-384.
result<tls_hash> suite_hash(const configured_psk& psk);

result<secret_bytes> derive_retained_psk(const configured_psk& psk, std::string_view hostnqn);
// Base64(HMAC-hash(retained, hostnqn " " subnqn " NVMe-over-Fabrics")): the version 1 digest.
result<std::string> psk_digest(tls_hash hash, std::span<const uint8_t> retained, std::string_view hostnqn,
                               std::string_view subnqn);
result<secret_bytes> derive_tls_psk(tls_hash hash, std::span<const uint8_t> retained, std::string_view context);

// The host's identity and TLS PSK for a connection to subnqn (version 0 by default, which
// SPDK's target expects; version 1 carries the digest).
result<tls_psk> host_tls_psk(const configured_psk& psk, std::string_view hostnqn, std::string_view subnqn,
                             uint8_t version = 0);
// The target's TLS PSK for an identity a host offered, with the configured PSK it holds
// for that host and subsystem. The identity's hash must be the one the key calls for, and a
// version 1 digest must match (errc::invalid_argument otherwise).
result<tls_psk> target_tls_psk(const configured_psk& psk, const psk_identity& id);

}  // namespace nvmfd::tls
