#pragma once
// local_interface_of: the index of the local network interface that holds a numeric IPv4 or
// IPv6 address (getifaddrs), so that a listener on that address is published only there.
// 0 when the address is a wildcard (0.0.0.0, ::), not numeric, or on no local interface.
// Any thread.
#include <string>

namespace nvmfd {

unsigned local_interface_of(const std::string& address);

}  // namespace nvmfd
