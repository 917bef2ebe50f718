#pragma once
// io_backend: how the reactors of a process do socket I/O.
//  - epoll: the reactor blocks in epoll_wait; a connection recv()s and sendmsg()s itself on
//    readiness (level-triggered).
//  - uring: the reactor blocks on its io_uring (uring_engine, driving mode). Connections
//    receive with one multishot recv each into the reactor's provided buffers and send with
//    IORING_OP_SENDMSG on the same ring; completions are reaped from user space while the
//    reactor polls. Listeners and the wake eventfd stay on epoll, whose fd the ring polls.
// `automatic` picks uring when uring_sockets_supported() (a probe run once per process:
// a multishot recv with buffer select on a socketpair must deliver a byte and stay armed),
// else epoll. The environment variable NVMFD_IO_BACKEND (auto|epoll|uring) replaces
// `automatic` (for tests); uring asked for where the probe fails falls back to epoll, logged
// once.
//
// Threading: every function here may be called from any thread.
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/result.h"

namespace nvmfd {

enum class io_backend : uint8_t { automatic, epoll, uring };

std::string_view to_string(io_backend b);  // "auto", "epoll", "uring"
std::optional<io_backend> parse_io_backend(std::string_view s);

// Per-process socket I/O settings, given to reactor_pool.
struct io_settings {
  io_backend backend = io_backend::automatic;
  // The uring backend's receive buffers per reactor (a power of two) and their size.
  uint16_t recv_buffers = 64;
  uint32_t recv_buffer_size = 64 * 1024;
};

// Runs the io_uring socket probe now (not cached): success, or why it failed.
result<void> probe_uring_sockets();
// The probe's verdict, computed on the first call and kept for the life of the process.
bool uring_sockets_supported();
// epoll or uring: `automatic` resolved as described above.
io_backend resolve_io_backend(io_backend requested);

}  // namespace nvmfd
