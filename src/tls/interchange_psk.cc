#include "tls/interchange_psk.h"

#include <openssl/evp.h>

namespace nvmfd::tls {

namespace {

error bad(std::string_view why) { return error{errc::invalid_argument, std::string("TLS PSK interchange key: ") + std::string(why)}; }

uint32_t crc32_ieee(std::span<const uint8_t> b) {
  uint32_t c = 0xffffffffu;
  for (uint8_t x : b) {
    c ^= x;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

}  // namespace

result<configured_psk> parse_interchange_psk(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  constexpr std::string_view prefix = "NVMeTLSkey-1:";
  if (text.substr(0, prefix.size()) != prefix) return bad("does not start with NVMeTLSkey-1:");
  text.remove_prefix(prefix.size());
  if (text.size() < 4 || text[2] != ':' || text.back() != ':') return bad("not NVMeTLSkey-1:HH:<base64>:");
  configured_psk out;
  std::string_view hh = text.substr(0, 2);
  if (hh == "00") {
    out.hash = retained_hash::none;
  } else if (hh == "01") {
    out.hash = retained_hash::sha256;
  } else if (hh == "02") {
    out.hash = retained_hash::sha384;
  } else {
    return bad("hash is 00, 01 or 02");
  }
  std::string_view b64 = text.substr(3, text.size() - 4);
  if (b64.size() != 48 && b64.size() != 72) return bad("the key is 32 or 48 bytes with its CRC (48 or 72 Base64 characters)");
  secret_bytes raw(b64.size() / 4 * 3);
  int n = EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n != static_cast<int>(raw.size())) return bad("bad Base64");
  size_t pad = b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0;  // EVP_DecodeBlock counts it
  size_t key_len = raw.size() - pad - 4;
  if (key_len != 32 && key_len != 48) return bad("the key is 32 or 48 bytes");
  const uint8_t* crc = raw.view().data() + key_len;
  uint32_t want = crc[0] | crc[1] << 8 | crc[2] << 16 | static_cast<uint32_t>(crc[3]) << 24;
  if (crc32_ieee(raw.view().first(key_len)) != want) return bad("CRC mismatch");
  raw.resize(key_len);
  out.key = std::move(raw);
  return out;
}

}  // namespace nvmfd::tls
