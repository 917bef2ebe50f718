#include "target/discovery_filter.h"

#include <fmt/format.h>

namespace nvmfd {

result<discovery_filter> discovery_filter::parse(std::string_view text) {
  discovery_filter f;
  bool any = false;
  size_t words = 0;
  for (size_t start = 0; start <= text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view w = text.substr(start, comma - start);
    start = comma + 1;
    ++words;
    if (w == "match_any") {
      any = true;
    } else if (w == "transport") {
      f.transport = true;
    } else if (w == "address") {
      f.address = true;
    } else if (w == "svcid") {
      f.svcid = true;
    } else {
      return error{errc::invalid_argument,
                   fmt::format("'{}' is not one of match_any, transport, address, svcid", w)};
    }
  }
  if (any && words > 1) return error{errc::invalid_argument, "match_any cannot be combined with other filters"};
  return f;
}

std::string discovery_filter::to_string() const {
  if (match_any()) return "match_any";
  std::string s;
  auto add = [&s](bool on, const char* w) {
    if (!on) return;
    if (!s.empty()) s += ',';
    s += w;
  };
  add(transport, "transport");
  add(address, "address");
  add(svcid, "svcid");
  return s;
}

bool discovery_filter::admits(const listen_address& l, const std::string& local_addr,
                              const std::string& local_svcid) const {
  // transport: the listener and the connection are both TCP.
  if (svcid && l.trsvcid != local_svcid) return false;
  if (!address) return true;
  if (l.traddr == local_addr) return true;
  // An IPv4 connection on a dual-stack IPv6 socket shows as ::ffff:a.b.c.d.
  if (local_addr.rfind("::ffff:", 0) == 0 && local_addr.substr(7) == l.traddr) return true;
  if (!is_wildcard_address(l.traddr)) return false;
  return (l.adrfam == "IPv6") == (local_addr.find(':') != std::string::npos);
}

}  // namespace nvmfd
