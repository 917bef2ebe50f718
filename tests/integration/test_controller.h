#pragma once
// test_controller: an NVM controller as a test host sets it up, the way the Linux host
// does: admin queue Connect (dynamic controller), CC.EN = 1 and CSTS.RDY, Set Features
// Number of Queues, then I/O queue 1 Connect on a second TCP connection.
// Not thread-safe; one test thread drives it. (Not named host_controller: the tests link
// src/host through src/rpc, and two classes of one name break the one-definition rule.)
#include <cstdint>
#include <string>

#include "base/result.h"
#include "test_client.h"

namespace nvmfd {

struct test_controller_params {
  std::string addr;
  uint16_t port = 0;
  std::string subnqn;
  client_options opts;            // both queues
  uint16_t admin_sqsize = 31;     // zero-based
  uint16_t io_sqsize = 127;       // zero-based
  uint16_t io_queues = 1;         // Number of Queues to ask for; only qid 1 is connected
  uint32_t kato_ms = 0;
};

class test_controller {
 public:
  // Fails with the first error (transport, or errc::protocol_error naming the command
  // whose status was not success).
  static result<test_controller> connect(const test_controller_params& p);

  test_client admin;
  test_client io;
  uint16_t cntlid = 0;

 private:
  explicit test_controller(const client_options& o) : admin(o), io(o) {}
};

// Connects the admin queue (Connect qid 0) and, unless !enable, enables the controller (CC.EN
// = 1, CSTS.RDY: admin commands other than fabrics ones need it). Returns the cntlid.
result<uint16_t> connect_admin_queue(test_client& c, const std::string& addr, uint16_t port,
                                     const std::string& subnqn, uint32_t kato_ms = 0, uint16_t sqsize = 31,
                                     bool enable = true);

}  // namespace nvmfd
