#pragma once
// reservation_request: our host's NVMe reservation commands (NVMe Base 2.0 7.3-7.6):
// Register, Acquire, Release and Report, built from their fields, sent through a caller's
// runner (one controller's I/O queue, or an nvme bdev's paths), their NVMe status turned into
// a clear error and the Report's Reservation Status data structure decoded.
//
// Keys and host IDs are the spec's: a registrant is a Host Identifier, so every controller
// and path of one host (one Host ID) shares its registration.
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/result.h"
#include "base/strong_id.h"
#include "host/sync_command.h"
#include "proto/reservations.h"

namespace nvmfd {

struct reservation_register_request {
  register_action action = register_action::register_key;
  uint64_t crkey = 0;  // the current key (unregister, replace; ignored with iekey)
  uint64_t nrkey = 0;  // the new key (register, replace)
  bool iekey = false;
  ptpl_change cptpl = ptpl_change::no_change;
};

struct reservation_acquire_request {
  acquire_action action = acquire_action::acquire;
  reservation_type rtype = reservation_type::write_exclusive;
  uint64_t crkey = 0;
  uint64_t prkey = 0;  // preempt, preempt and abort: whose registration goes
  bool iekey = false;
};

struct reservation_release_request {
  release_action action = release_action::release;
  reservation_type rtype = reservation_type::write_exclusive;
  uint64_t crkey = 0;
  bool iekey = false;
};

struct reported_registrant {
  uint16_t cntlid = 0;        // FFFFh: a registrant of the dynamic controller model
  bool holds = false;         // RCSTS bit 0
  std::array<uint8_t, 16> hostid{};  // a 64-bit host ID (report without EDS) fills the first 8
  uint64_t rkey = 0;
};

struct reservation_report {
  uint32_t generation = 0;
  reservation_type rtype = reservation_type::none;
  bool ptpl = false;          // PTPLS
  bool extended = false;      // read with EDS: 128-bit host IDs
  uint16_t regctl = 0;        // registrants the controller counted
  std::vector<reported_registrant> registrants;  // those that fit in what was read
};

// One NVM command and its data as a runner sends it.
struct nvm_command {
  nvme_sqe cmd{};
  std::vector<std::byte> data;
  bool host_to_controller = false;
};
// Sends one command and waits for it (a control thread): the completion, whatever its
// status, or an error when it could not be sent or did not complete.
using nvm_command_runner = std::function<result<sync_result>(const nvm_command&)>;

nvm_command make_reservation_register(nsid_t nsid, const reservation_register_request& r);
nvm_command make_reservation_acquire(nsid_t nsid, const reservation_acquire_request& r);
nvm_command make_reservation_release(nsid_t nsid, const reservation_release_request& r);
// A Report of `bytes` (a multiple of 4, at least the header).
nvm_command make_reservation_report(nsid_t nsid, bool eds, uint32_t bytes);

// The Reservation Status data structure of a Report read with or without EDS. io_error when
// the data is shorter than its header.
result<reservation_report> parse_reservation_report(std::span<const std::byte> data, bool eds);

// The error a completion's failed status means: io_error (EIO) "<what>: <name> (NVMe status
// SCT x SC y)", the name for the statuses reservation commands get (Reservation Conflict,
// Invalid Field in Command, ...); EACCES for Reservation Conflict.
error reservation_status_error(const char* what, const nvme_status& s);

// Each one sent through `run`; errors: the runner's, or reservation_status_error. report
// reads again, larger, when more registrants are counted than the first read held.
result<void> reservation_register(const nvm_command_runner& run, nsid_t nsid, const reservation_register_request& r);
result<void> reservation_acquire(const nvm_command_runner& run, nsid_t nsid, const reservation_acquire_request& r);
result<void> reservation_release(const nvm_command_runner& run, nsid_t nsid, const reservation_release_request& r);
result<reservation_report> reservation_report_of(const nvm_command_runner& run, nsid_t nsid, bool eds);

}  // namespace nvmfd
