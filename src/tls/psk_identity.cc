#include "tls/psk_identity.h"

#include <fmt/format.h>

namespace nvmfd::tls {

namespace {

constexpr size_t max_nqn = 223;  // NVMe base specification, "NVMe Qualified Names"

error bad(std::string_view why) { return error{errc::invalid_argument, fmt::format("PSK identity: {}", why)}; }

// The next space-separated field of rest (moved past it and its separator).
std::string_view next_field(std::string_view& rest) {
  size_t sp = rest.find(' ');
  std::string_view f = rest.substr(0, sp);
  rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
  return f;
}

}  // namespace

std::string psk_identity::to_string() const {
  std::string s = fmt::format("NVMe{}R{:02} {} {}", version, static_cast<unsigned>(hash), hostnqn, subnqn);
  if (version == 1) s += fmt::format(" {}", digest);
  return s;
}

result<psk_identity> parse_psk_identity(std::string_view text) {
  // "NVMe" version type hash(2) ' '
  if (text.size() < 9 || text.substr(0, 4) != "NVMe" || text[8] != ' ') return bad("not NVMe<v><t><hh> ...");
  psk_identity id;
  if (text[4] != '0' && text[4] != '1') return bad("unknown version");
  id.version = static_cast<uint8_t>(text[4] - '0');
  if (text[5] == 'G') return bad("generated PSKs (secure concatenation) are not supported");
  if (text[5] != 'R') return bad("unknown PSK type");
  std::string_view hh = text.substr(6, 2);
  if (hh == "01") {
    id.hash = tls_hash::sha256;
  } else if (hh == "02") {
    id.hash = tls_hash::sha384;
  } else {
    return bad("unknown hash specifier");
  }
  std::string_view rest = text.substr(9);
  std::string_view host = next_field(rest);
  std::string_view sub = next_field(rest);
  if (host.empty() || sub.empty() || host.size() > max_nqn || sub.size() > max_nqn)
    return bad("host or subsystem NQN missing or too long");
  id.hostnqn = host;
  id.subnqn = sub;
  if (id.version == 1) {
    std::string_view digest = next_field(rest);
    if (digest.size() != (id.hash == tls_hash::sha384 ? 64u : 44u)) return bad("PSK digest of the wrong length");
    id.digest = digest;
  }
  if (!rest.empty()) return bad("trailing fields");
  return id;
}

}  // namespace nvmfd::tls
