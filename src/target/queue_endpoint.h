#pragma once
// queue_endpoint: the local side of a queue's connection (where the host reached the
// target), spelled as subsystem listeners are (listen_address::traddr / trsvcid), so that
// Connect, ANA and the discovery log match listeners by comparing strings.
#include <string>

namespace nvmfd {

struct queue_endpoint {
  std::string traddr;   // numeric address: "127.0.0.1", "::1"
  std::string trsvcid;  // service: the port number, "4420"
};

}  // namespace nvmfd
