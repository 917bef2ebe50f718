// The steps every transport runs for a command (command_handlers.h): begin_command before
// any data moves, execute_command once it has.
#include "proto/nvme_command.h"
#include "target/command_handlers.h"
#include "target/target_queue.h"

namespace nvmfd {

nvme_status begin_command(target_queue& q, target_request& req) {
  bool is_connect = req.cmd.opcode == static_cast<uint8_t>(admin_opcode::fabrics) &&
                    req.cmd.fctype() == static_cast<uint8_t>(fabrics_type::connect);
  if (!q.connected() && !is_connect) return nvme_status::generic(sc_generic::command_sequence_error);
  // Base 2.1 8.3.4.3: until the queue's authentication succeeds, only the authentication
  // commands run (Connect is refused later, the queue being connected).
  if (q.awaiting_authentication() && !is_connect && !is_authentication_command(req.cmd))
    return nvme_status::specific(sc_command_specific::authentication_required);
  // NVMe-oF 1.1 2.2: fabrics commands use SGLs only (PSDT 01b or 10b).
  if (req.cmd.psdt() == 0 || req.cmd.psdt() == 3) return nvme_status::generic(sc_generic::invalid_field);
  return prepare_command(q, req);
}

std::optional<nvme_status> execute_command(target_queue& q, target_request& req) {
  if (req.cmd.opcode == static_cast<uint8_t>(admin_opcode::fabrics)) return execute_fabrics(q, req);
  if (q.is_admin()) return execute_admin(q, req);
  return execute_io(q, req);
}

}  // namespace nvmfd
