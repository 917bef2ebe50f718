#include "base/errc.h"

#include <cstring>
#include <fmt/format.h>

namespace nvmfd {

std::string_view to_string(errc e) {
  switch (e) {
    case errc::ok: return "ok";
    case errc::invalid_argument: return "invalid argument";
    case errc::not_found: return "not found";
    case errc::already_exists: return "already exists";
    case errc::busy: return "busy";
    case errc::io_error: return "I/O error";
    case errc::no_memory: return "out of memory";
    case errc::not_supported: return "not supported";
    case errc::protocol_error: return "protocol error";
    case errc::timed_out: return "timed out";
    case errc::closed: return "closed";
  }
  return "unknown";
}

error error::from_errno(int e, std::string_view what) {
  return error{errc::io_error, fmt::format("{}: {}", what, std::strerror(e)), e};
}

}  // namespace nvmfd
