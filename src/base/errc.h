#pragma once
// Local failure codes (error kind 3 of docs/architecture.md): errno results, bad RPC params,
// bad config, missing objects. NVMe command outcomes are NOT errc: they are nvme_status.
#include <cstdint>
#include <string>
#include <string_view>

namespace nvmfd {

enum class errc : uint8_t {
  ok = 0,
  invalid_argument,  // a parameter is malformed or out of range (JSON-RPC -32602)
  not_found,         // a named object does not exist
  already_exists,    // a named object exists already
  busy,              // an object is in use and cannot be changed or removed
  io_error,          // the OS or a device failed (see error::sys_errno)
  no_memory,
  not_supported,
  protocol_error,    // a peer broke the protocol
  timed_out,
  closed,            // the connection or object went away
};

std::string_view to_string(errc e);

// An error: a code plus a human-readable message for logs and RPC replies.
// Allocates only on the error path.
struct error {
  errc code = errc::ok;
  std::string message;
  int sys_errno = 0;

  static error from_errno(int e, std::string_view what);
};

}  // namespace nvmfd
