#pragma once
// Which admin and fabrics commands a controller serves, and how much data each may move:
// checked in prepare_command (step 1 of command_handlers.h), before the transport reserves
// a buffer or sends an R2T, so that a host without credentials (any host may connect to the
// discovery controller) cannot make the target hold data buffers for commands it will
// refuse anyway. Linux nvmet parses an admin command the same way: opcode first, then the
// transfer length against the command's own limit.
#include <cstdint>
#include <optional>

#include "proto/nvme_command.h"

namespace nvmfd {

class target_queue;
struct target_request;

// The largest data transfer (bytes, SGL length) the admin command opc may carry on queue q
// (its controller kind and MDTS), or nullopt if the controller does not serve opc.
std::optional<uint32_t> admin_data_limit(const target_queue& q, uint8_t opc);
// The same for a fabrics command of type fctype (Connect: its 1024 bytes of data).
std::optional<uint32_t> fabrics_data_limit(const target_queue& q, uint8_t fctype);

// Invalid Command Opcode for a command the controller does not serve; Data SGL Length
// Invalid for a command with data whose SGL length is above its limit; success otherwise.
nvme_status check_admin_data(const target_queue& q, const target_request& req);

}  // namespace nvmfd
