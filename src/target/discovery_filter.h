#pragma once
// discovery_filter: which listeners the discovery log shows a host, by what the host
// connected to (SPDK's nvmf_set_config "discovery_filter"). match_any (the default) shows
// every listener of every subsystem the host may use; each criterion keeps only the
// listeners that match the discovery connection's local side:
//   transport  same transport type (always true here: nvmfd serves TCP only);
//   address    same address (a wildcard listener, 0.0.0.0 or ::, matches every address
//              of its family: the host can reach it there, and the entry shows that address);
//   svcid      same port.
// Referrals are never filtered (SPDK does the same). Pure value type; any thread.
#include <string>
#include <string_view>

#include "base/result.h"
#include "target/subsystem.h"

namespace nvmfd {

struct discovery_filter {
  bool transport = false;
  bool address = false;
  bool svcid = false;

  // "match_any", or a comma-separated list of transport, address, svcid (SPDK's syntax).
  // invalid_argument names the bad word.
  static result<discovery_filter> parse(std::string_view text);
  // The text parse() reads back: "match_any" or e.g. "transport,svcid".
  std::string to_string() const;
  bool match_any() const { return !transport && !address && !svcid; }

  // Listener l is shown to a host whose discovery connection arrived on local_addr:local_svcid.
  bool admits(const listen_address& l, const std::string& local_addr, const std::string& local_svcid) const;

  bool operator==(const discovery_filter&) const = default;
};

}  // namespace nvmfd
