#pragma once
// queue_endpoint: the local side of a queue's connection (where the host reached the
// target), spelled as subsystem listeners are (listen_address::trtype / traddr / trsvcid),
// so that Connect, ANA and the discovery log match listeners by comparing strings.
#include <string>

namespace nvmfd {

struct queue_endpoint {
  std::string traddr;   // numeric address: "127.0.0.1", "::1"
  std::string trsvcid;  // service: the port number, "4420"
  std::string trtype = "TCP";  // the transport's name (target_transport::name); as listen_address
};

}  // namespace nvmfd
