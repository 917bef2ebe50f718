// fuzz_key_formats: the key interchange formats of src/keys on any text: DH-HMAC-CHAP secrets
// ("DHHC-1:hh:<base64>:"), TLS PSKs ("NVMeTLSkey-1:hh:<base64>:"), the shared interchange
// splitter and base64. No I/O.
//
// Besides ASan/UBSan, each parser is held to its contract: what it accepts has a key length
// and hash its format allows, formats back to a string that parses to the same key, and
// (for DH-HMAC-CHAP) transforms to the hash's length; base64 decodes what it encodes. The
// input bytes are also used as a key, formatted and parsed back.
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "keys/dhchap_secret.h"
#include "keys/interchange.h"
#include "keys/tls_psk.h"

namespace nvmfd::fuzz {
namespace {

using namespace nvmfd::keys;

bool dhchap_length_ok(uint8_t hmac, size_t len) {
  if (hmac > 3) return false;
  if (hmac == 0) return len == 32 || len == 48 || len == 64;
  return len == dhchap_hmac_length(hmac);
}

void dhchap(std::string_view text) {
  auto s = parse_dhchap_secret(text);
  if (!s) return;
  check(dhchap_length_ok(s->hmac, s->key.size()), "parse_dhchap_secret accepted a bad hash/length");
  auto again = parse_dhchap_secret(format_dhchap_secret(*s));
  check(again && again->hmac == s->hmac && again->key == s->key, "DHHC-1 format/parse round trip");
  auto t = transform_dhchap_key(*s, "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000000");
  check(t.size() == (s->hmac ? dhchap_hmac_length(s->hmac) : s->key.size()), "transformed key length");
}

void tls(std::string_view text) {
  auto p = parse_tls_psk(text);
  if (!p) return;
  check(p->hash <= 2 && (p->key.size() == 32 || p->key.size() == 48), "parse_tls_psk accepted a bad hash/length");
  check(p->hash == 0 || p->key.size() == (p->hash == 1 ? 32u : 48u), "PSK length does not match its hash");
  auto again = parse_tls_psk(format_tls_psk(*p));
  check(again && again->hash == p->hash && again->key == p->key, "NVMeTLSkey-1 format/parse round trip");
}

void interchange(std::string_view text) {
  for (std::string_view prefix : {dhchap_prefix, tls_psk_prefix}) {
    auto f = parse_interchange(text, prefix, "fuzzed key");
    if (!f) continue;
    check(!f->key.empty() && f->key.size() <= 64, "parse_interchange key length outside 1..64");
    auto again = parse_interchange(format_interchange(prefix, f->hash, f->key), prefix, "fuzzed key");
    check(again && again->hash == f->hash && again->key == f->key, "interchange round trip");
  }
}

void base64(std::string_view text, std::span<const uint8_t> raw) {
  if (auto d = base64_decode(text)) {
    auto again = base64_decode(base64_encode(*d));
    check(again && *again == *d, "base64 decode(encode(decode(x)))");
  }
  if (raw.empty()) return;  // base64_decode refuses empty text
  auto e = base64_encode(raw);
  check(e.size() == (raw.size() + 2) / 3 * 4, "base64 length");
  auto d = base64_decode(e);
  check(d && std::equal(d->begin(), d->end(), raw.begin(), raw.end()), "base64 decode(encode(x)) != x");
}

// The input as key material of every hash.
void as_key(std::span<const uint8_t> raw) {
  std::vector<uint8_t> key(raw.begin(), raw.end());
  for (uint8_t h = 0; h <= 3; ++h)
    if (dhchap_length_ok(h, key.size())) {
      auto p = parse_dhchap_secret(format_dhchap_secret(dhchap_secret{h, key}));
      check(p && p->key == key && p->hmac == h, "DHHC-1 round trip of a valid key");
    }
  for (uint8_t h = 0; h <= 2; ++h)
    if ((key.size() == 32 && h != 2) || (key.size() == 48 && h != 1)) {
      auto p = parse_tls_psk(format_tls_psk(tls_psk_key{h, key}));
      check(p && p->key == key && p->hash == h, "NVMeTLSkey-1 round trip of a valid key");
    }
}

}  // namespace
}  // namespace nvmfd::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nvmfd::fuzz;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::span<const uint8_t> raw(data, size);
  dhchap(text);
  tls(text);
  interchange(text);
  base64(text, raw.first(std::min<size_t>(raw.size(), 256)));
  as_key(raw);
  return 0;
}
