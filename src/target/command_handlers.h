#pragma once
// The command handlers of the target, split by command group (fabrics_commands.cc,
// admin_commands.cc, admin_log_pages.cc, io_commands.cc). All run on the queue's reactor.
//
// prepare_*: validates a command before any of its data moves and sets req.dir and
//   req.xfer_len. Returns the status to complete with at once, or success to go on.
// execute_*: runs a prepared command whose host-to-controller data (if any) is in req.buf.
//   Returns the completion status, or nullopt when the command completes later
//   (bdev I/O, a parked Asynchronous Event Request). Controller-to-host data goes in
//   req.buf with req.c2h_len set; result dwords in req.cqe.
#include <optional>

#include "proto/nvme_command.h"

namespace nvmfd {

class tcp_qpair;
struct target_request;

nvme_status prepare_command(tcp_qpair& qp, target_request& req);
std::optional<nvme_status> execute_fabrics(tcp_qpair& qp, target_request& req);
std::optional<nvme_status> execute_admin(tcp_qpair& qp, target_request& req);
std::optional<nvme_status> execute_get_log_page(tcp_qpair& qp, target_request& req);
nvme_status prepare_io(tcp_qpair& qp, target_request& req);
std::optional<nvme_status> execute_io(tcp_qpair& qp, target_request& req);
// A bdev I/O of req finished: the command's status, or nullopt if it goes on (DSM ranges).
std::optional<nvme_status> io_step_done(tcp_qpair& qp, target_request& req);

}  // namespace nvmfd
