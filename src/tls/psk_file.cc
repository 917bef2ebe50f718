#include "tls/psk_file.h"

#include <fmt/format.h>

#include "keys/key_file.h"
#include "keys/tls_psk.h"

namespace nvmfd::tls {

result<configured_psk> read_psk_file(const std::string& path) {
  auto text = keys::read_key_file(path);
  if (!text) return text.take_err();
  auto psk = keys::parse_tls_psk(*text);
  std::fill(text->begin(), text->end(), '\0');
  if (!psk) return error{psk.err().code, fmt::format("key file {}: {}", path, psk.err().message)};
  configured_psk out;
  out.key = secret_bytes(std::span<const uint8_t>(psk->key));
  out.hash = static_cast<retained_hash>(psk->hash);
  return out;
}

}  // namespace nvmfd::tls
