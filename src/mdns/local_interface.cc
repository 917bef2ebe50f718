#include "mdns/local_interface.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>

namespace nvmfd {

unsigned local_interface_of(const std::string& address) {
  in_addr v4{};
  in6_addr v6{};
  bool is_v4 = inet_pton(AF_INET, address.c_str(), &v4) == 1;
  bool is_v6 = !is_v4 && inet_pton(AF_INET6, address.c_str(), &v6) == 1;
  if (!is_v4 && !is_v6) return 0;
  if (is_v4 && v4.s_addr == htonl(INADDR_ANY)) return 0;
  if (is_v6 && IN6_IS_ADDR_UNSPECIFIED(&v6)) return 0;
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0) return 0;
  unsigned index = 0;
  for (ifaddrs* i = all; i && index == 0; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    bool match = false;
    if (is_v4 && i->ifa_addr->sa_family == AF_INET)
      match = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr == v4.s_addr;
    if (is_v6 && i->ifa_addr->sa_family == AF_INET6)
      match = std::memcmp(&reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr, &v6, sizeof v6) == 0;
    if (match) index = if_nametoindex(i->ifa_name);
  }
  freeifaddrs(all);
  return index;
}

}  // namespace nvmfd
