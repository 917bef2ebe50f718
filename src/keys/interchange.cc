#include "keys/interchange.h"

#include <fmt/format.h>
#include <isa-l/crc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>

namespace nvmfd::keys {

namespace {

// The largest key any interchange format carries (SHA-512 sized DH-HMAC-CHAP secrets).
constexpr size_t max_key_len = 64;
constexpr size_t crc_len = 4;

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

uint32_t crc32_ieee(std::span<const uint8_t> data) {
  // ISA-L's gzip CRC is the reflected CRC-32 with the pre- and post-inversion built in.
  return crc32_gzip_refl(0, data.data(), data.size());
}

std::string base64_encode(std::span<const uint8_t> data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

result<std::vector<uint8_t>> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0)
    return error{errc::invalid_argument,
                 fmt::format("base64 text of {} characters is not a multiple of 4", text.size())};
  size_t pad = 0;
  while (pad < 2 && text[text.size() - 1 - pad] == '=') ++pad;
  for (size_t i = 0; i < text.size() - pad; ++i)
    if (!is_base64_char(text[i]))
      return error{errc::invalid_argument,
                   fmt::format("character {} of the base64 text is not base64", i + 1)};
  std::vector<uint8_t> out(text.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0 || static_cast<size_t>(n) < pad) {
    wipe(out.data(), out.size());
    return error{errc::invalid_argument, "the base64 text does not decode"};
  }
  // EVP_DecodeBlock counts the padding as zero bytes.
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

result<interchange_fields> parse_interchange(std::string_view text, std::string_view prefix,
                                             std::string_view what) {
  if (text.size() < prefix.size() + 1 || text.substr(0, prefix.size()) != prefix ||
      text[prefix.size()] != ':')
    return error{errc::invalid_argument,
                 fmt::format("{} must start with \"{}:\"", what, prefix)};
  std::string_view rest = text.substr(prefix.size() + 1);
  if (rest.size() < 3 || rest[2] != ':' || hex_digit(rest[0]) < 0 || hex_digit(rest[1]) < 0)
    return error{errc::invalid_argument,
                 fmt::format("{}: \"{}:\" must be followed by two hexadecimal digits and ':'",
                             what, prefix)};
  uint8_t hash = static_cast<uint8_t>(hex_digit(rest[0]) * 16 + hex_digit(rest[1]));
  rest.remove_prefix(3);
  if (rest.empty() || rest.back() != ':')
    return error{errc::invalid_argument, fmt::format("{} must end with ':'", what)};
  rest.remove_suffix(1);
  if (rest.find(':') != std::string_view::npos)
    return error{errc::invalid_argument, fmt::format("{} has too many ':' fields", what)};
  auto bytes = base64_decode(rest);
  if (!bytes) return error{errc::invalid_argument, fmt::format("{}: {}", what, bytes.err().message)};
  std::vector<uint8_t>& b = *bytes;
  auto fail = [&](std::string msg) -> result<interchange_fields> {
    wipe(b.data(), b.size());
    return error{errc::invalid_argument, std::move(msg)};
  };
  if (b.size() <= crc_len || b.size() > max_key_len + crc_len)
    return fail(fmt::format("{}: {} decoded bytes cannot be a key and its CRC-32", what, b.size()));
  size_t key_len = b.size() - crc_len;
  uint32_t stored = uint32_t(b[key_len]) | uint32_t(b[key_len + 1]) << 8 |
                    uint32_t(b[key_len + 2]) << 16 | uint32_t(b[key_len + 3]) << 24;
  if (stored != crc32_ieee({b.data(), key_len}))
    return fail(fmt::format("{}: CRC-32 mismatch (the key is corrupt or mistyped)", what));
  interchange_fields f;
  f.hash = hash;
  f.key.assign(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(key_len));
  wipe(b.data(), b.size());
  return f;
}

std::string format_interchange(std::string_view prefix, uint8_t hash, std::span<const uint8_t> key) {
  std::vector<uint8_t> framed(key.begin(), key.end());
  uint32_t crc = crc32_ieee(key);
  for (int i = 0; i < 4; ++i) framed.push_back(static_cast<uint8_t>(crc >> (8 * i)));
  std::string out = fmt::format("{}:{:02x}:{}:", prefix, hash, base64_encode(framed));
  wipe(framed.data(), framed.size());
  return out;
}

std::vector<uint8_t> random_bytes(size_t n) {
  std::vector<uint8_t> out(n);
  if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    fmt::print(stderr, "nvmfd: OpenSSL's random generator failed\n");
    std::abort();
  }
  return out;
}

void wipe(void* p, size_t n) {
  if (n > 0) OPENSSL_cleanse(p, n);
}

}  // namespace nvmfd::keys
