// fuzz_key_formats: the key interchange formats of src/keys (DHHC-1 DH-HMAC-CHAP secrets,
// NVMeTLSkey-1 TLS PSKs, their shared framing and base64); pure functions, no I/O.
//
// Besides ASan/UBSan, each is held to its contract:
//  - whatever parse_dhchap_secret / parse_tls_psk accept is valid (validate_*), and formatting
//    it parses back to the same hash and key;
//  - parse_interchange accepts only keys of 1..64 bytes, and format_interchange of any such key
//    and hash parses back to the same;
//  - base64_decode accepts only text of a multiple of 4, and its bytes encode to text that
//    decodes to the same bytes.
#include <string_view>

#include "fuzz_support.h"
#include "keys/dhchap_secret.h"
#include "keys/interchange.h"
#include "keys/tls_psk.h"

namespace nvmfd::fuzz {
namespace {

void dhchap_rules(std::string_view text) {
  auto s = keys::parse_dhchap_secret(text);
  if (!s) return;
  check(keys::validate_dhchap_secret(*s).ok(), "parse_dhchap_secret accepted an invalid secret");
  auto back = keys::parse_dhchap_secret(keys::format_dhchap_secret(*s));
  check(back.ok() && back->hmac == s->hmac && back->key == s->key, "DHHC-1 round trip broken");
}

void tls_rules(std::string_view text) {
  auto k = keys::parse_tls_psk(text);
  if (!k) return;
  check(keys::validate_tls_psk(*k).ok(), "parse_tls_psk accepted an invalid key");
  auto back = keys::parse_tls_psk(keys::format_tls_psk(*k));
  check(back.ok() && back->hash == k->hash && back->key == k->key, "NVMeTLSkey-1 round trip broken");
}

void framing_rules(std::string_view text, std::span<const uint8_t> bytes) {
  auto f = keys::parse_interchange(text, "X-1", "fuzz key");
  if (f) check(!f->key.empty() && f->key.size() <= 64, "parse_interchange key length out of range");
  if (bytes.size() >= 2 && bytes.size() <= 65) {
    uint8_t hash = bytes[0];
    auto key = bytes.subspan(1);
    auto back = keys::parse_interchange(keys::format_interchange("X-1", hash, key), "X-1", "fuzz key");
    check(back.ok() && back->hash == hash &&
              std::equal(back->key.begin(), back->key.end(), key.begin(), key.end()),
          "format_interchange round trip broken");
  }
}

void base64_rules(std::string_view text) {
  auto b = keys::base64_decode(text);
  if (!b) return;
  check(text.size() % 4 == 0, "base64_decode accepted a length not a multiple of 4");
  auto again = keys::base64_decode(keys::base64_encode(*b));
  check(b->empty() ? !again.ok() : (again.ok() && *again == *b), "base64 round trip broken");
}

}  // namespace
}  // namespace nvmfd::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nvmfd::fuzz;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  dhchap_rules(text);
  tls_rules(text);
  framing_rules(text, {data, size});
  base64_rules(text);
  return 0;
}
