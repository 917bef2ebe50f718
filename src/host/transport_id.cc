#include "host/transport_id.h"

#include <algorithm>
#include <fmt/format.h>
#include <sstream>

namespace nvmfd {

namespace {
std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}
}  // namespace

result<transport_id> transport_id::parse(const std::string& text) {
  transport_id t;
  std::istringstream in(text);
  std::string tok;
  while (in >> tok) {
    auto pos = tok.find_first_of(":=");
    if (pos == std::string::npos) return error{errc::invalid_argument, fmt::format("'{}': expected key:value", tok)};
    std::string key = lower(tok.substr(0, pos)), value = tok.substr(pos + 1);
    if (key == "trtype") {
      t.trtype = lower(value);
      if (t.trtype != "tcp" && t.trtype != "rdma")
        return error{errc::invalid_argument, fmt::format("trtype '{}': expected tcp or rdma", value)};
    } else if (key == "adrfam") {
      t.adrfam = lower(value);
      if (t.adrfam != "ipv4" && t.adrfam != "ipv6")
        return error{errc::invalid_argument, fmt::format("adrfam '{}': expected ipv4 or ipv6", value)};
    } else if (key == "traddr") {
      t.traddr = value;
    } else if (key == "trsvcid") {
      t.trsvcid = value;
    } else if (key == "subnqn") {
      t.subnqn = value;
    } else {
      return error{errc::invalid_argument, fmt::format("unknown transport ID key '{}'", key)};
    }
  }
  if (t.traddr.empty()) return error{errc::invalid_argument, "transport ID lacks traddr"};
  return t;
}

std::string transport_id::to_string() const {
  return fmt::format("trtype:{} adrfam:{} traddr:{} trsvcid:{} subnqn:{}", trtype, adrfam, traddr, trsvcid, subnqn);
}

}  // namespace nvmfd
