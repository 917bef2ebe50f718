#pragma once
// The command handlers of the target, transport-neutral: they work on a target_queue and a
// target_request only (target_queue.h, target_request.h), so that any transport can carry
// them. Split by command group: fabrics_commands.cc, admin_commands.cc,
// admin_log_pages.cc, io_commands.cc; the order of the steps in command_dispatch.cc.
// All run on the queue's reactor.
//
// What a transport does for each command, in order:
//   1. begin_command: validates the command before any of its data moves, and sets req.dir
//      and req.xfer_len. Anything but success: complete with that status at once.
//   2. moves the data (host-to-controller into req.buf; a buffer for controller-to-host
//      unless req.in_place), after checks of its own (SGL descriptors, transfer limits);
//   3. execute_command: the completion status, or nullopt when the command completes later;
//   4. for each bdev completion (req.io.done): q.bdev_io_finished(req), then io_step_done:
//      the status, or nullopt while the command goes on (Dataset Management ranges);
//   5. completes the command (target_queue::complete) with the status.
// A parked Asynchronous Event Request is completed by its controller, through
// target_queue::complete.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/strong_id.h"
#include "proto/nvme_command.h"

namespace nvmfd {

class ptpl_writer;
class subsystem;
class target_queue;
struct reservation_effects;
struct target_namespace;
struct target_request;

// Step 1: Connect first (else Command Sequence Error), PSDT 01b/10b (else Invalid Field),
// then prepare_command.
nvme_status begin_command(target_queue& q, target_request& req);
// Step 3: fabrics, admin (qid 0) or I/O.
std::optional<nvme_status> execute_command(target_queue& q, target_request& req);
// Step 4: a bdev I/O of req finished.
std::optional<nvme_status> io_step_done(target_queue& q, target_request& req);

// Per command group. prepare_*: sets req.dir and req.xfer_len, or returns the status to
// complete with. execute_*: controller-to-host data goes in req.buf with req.c2h_len set,
// result dwords in req.cqe.
nvme_status prepare_command(target_queue& q, target_request& req);
std::optional<nvme_status> execute_fabrics(target_queue& q, target_request& req);
// AUTH_Send / AUTH_Receive (auth_commands.cc).
bool is_authentication_command(const nvme_sqe& cmd);
// AUTH_Send completes later: its step runs on the authentication worker.
std::optional<nvme_status> execute_auth_send(target_queue& q, target_request& req);
nvme_status execute_auth_receive(target_queue& q, target_request& req);
std::optional<nvme_status> execute_admin(target_queue& q, target_request& req);
std::optional<nvme_status> execute_get_log_page(target_queue& q, target_request& req);
nvme_status prepare_io(target_queue& q, target_request& req);
std::optional<nvme_status> execute_io(target_queue& q, target_request& req);

// Reservations (reservation_commands.cc). A change of a namespace's reservation (a command,
// or Set Features Reservation Persistence), applied under the target mutex, is followed by:
// the new view published, notices posted to the hosts' controllers, then (outside the
// mutex) a wait for the I/O of preempted-and-aborted hosts' queues and the durable write of
// the ptpl file, before the command completes.
struct reservation_change {
  uint64_t generation = 0;  // of the table with the new view
  std::vector<std::pair<unsigned, std::weak_ptr<target_queue>>> drain;  // queues (and reactors) to wait for
  // When the reservation persists (or stopped persisting): its file, and the change
  // (ptpl_writer::stage) to make durable.
  std::shared_ptr<ptpl_writer> ptpl;
  uint64_t ptpl_change = 0;
};
bool is_reservation_command(uint8_t opcode);
nvme_status prepare_reservation(target_queue& q, target_request& req);
std::optional<nvme_status> execute_reservation(target_queue& q, target_request& req);
// Under the target mutex, after the state of ns (active as nsid in sub) changed with fx.
reservation_change reservation_changed_locked(subsystem& sub, nsid_t nsid, const target_namespace& ns,
                                              const reservation_effects& fx, bool ptpl_was_on);
// Without the mutex: st at once when nothing waits, else nullopt and st once the waits are over.
std::optional<nvme_status> complete_after_reservation_change(target_queue& q, target_request& req, nvme_status st,
                                                             reservation_change change);

}  // namespace nvmfd
