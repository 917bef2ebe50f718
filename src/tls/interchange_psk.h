#pragma once
// The PSK interchange format of NVMe/TCP (NVMe/TCP transport specification, "PSK
// interchange format"): "NVMeTLSkey-1:HH:<Base64 of the key and its CRC-32>:", HH 00 (the
// configured PSK is the retained one), 01 (SHA-256) or 02 (SHA-384); the key has 32 or 48
// bytes; the CRC-32 (IEEE 802.3) of the key follows it, little-endian.
//
// Interim: issue 15's keyring (src/keys, keys::parse_tls_psk) replaces this parser when it
// lands; the result type is the same configured PSK.
// Threading: pure function, any thread. Errors: errc::invalid_argument saying what is wrong
// (never echoing the key).
#include <string_view>

#include "base/result.h"
#include "tls/tls_psk.h"

namespace nvmfd::tls {

result<configured_psk> parse_interchange_psk(std::string_view text);

}  // namespace nvmfd::tls
