#include "reactor/io_backend.h"

#include <liburing.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <mutex>

#include "base/log.h"
#include "reactor/uring_engine.h"

namespace nvmfd {

std::string_view to_string(io_backend b) {
  switch (b) {
    case io_backend::automatic: return "auto";
    case io_backend::epoll: return "epoll";
    case io_backend::uring: return "uring";
  }
  return "auto";
}

std::optional<io_backend> parse_io_backend(std::string_view s) {
  if (s == "auto") return io_backend::automatic;
  if (s == "epoll") return io_backend::epoll;
  if (s == "uring") return io_backend::uring;
  return std::nullopt;
}

namespace {

// What the probe sets up, released in reverse order whatever happens.
struct probe_state {
  io_uring ring{};
  bool ring_ok = false;
  int fds[2] = {-1, -1};
  void* mem = MAP_FAILED;
  size_t mem_len = 0;
  bool armed = false;

  ~probe_state() {
    if (fds[0] >= 0) {
      // End the armed receive (EOF) and collect its last completion before the buffers go.
      ::shutdown(fds[0], SHUT_RDWR);
      if (armed && ring_ok) {
        __kernel_timespec ts{1, 0};
        io_uring_cqe* cqe = nullptr;
        while (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) == 0) {
          bool more = cqe->flags & IORING_CQE_F_MORE;
          io_uring_cqe_seen(&ring, cqe);
          if (!more) break;
        }
      }
      ::close(fds[0]);
    }
    if (fds[1] >= 0) ::close(fds[1]);
    if (ring_ok) io_uring_queue_exit(&ring);
    if (mem != MAP_FAILED) munmap(mem, mem_len);
  }
};

constexpr unsigned probe_buffers = 2;
constexpr unsigned probe_buffer_size = 64;
constexpr uint16_t probe_group = 0;

}  // namespace

result<void> probe_uring_sockets() {
  probe_state s;
  int rc = uring_engine::init_ring(s.ring, 8, true);
  if (rc < 0) return error::from_errno(-rc, "io_uring_queue_init");
  s.ring_ok = true;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s.fds) != 0)
    return error::from_errno(errno, "socketpair");

  s.mem_len = probe_buffers * sizeof(io_uring_buf) + probe_buffers * probe_buffer_size;
  s.mem = mmap(nullptr, s.mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (s.mem == MAP_FAILED) return error::from_errno(errno, "mmap");
  auto* br = static_cast<io_uring_buf_ring*>(s.mem);
  auto* data = static_cast<std::byte*>(s.mem) + probe_buffers * sizeof(io_uring_buf);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(br);
  reg.ring_entries = probe_buffers;
  reg.bgid = probe_group;
  rc = io_uring_register_buf_ring(&s.ring, &reg, 0);
  if (rc < 0) return error::from_errno(-rc, "io_uring_register_buf_ring");
  io_uring_buf_ring_init(br);
  for (unsigned i = 0; i < probe_buffers; ++i)
    io_uring_buf_ring_add(br, data + i * probe_buffer_size, probe_buffer_size, static_cast<uint16_t>(i),
                          io_uring_buf_ring_mask(probe_buffers), static_cast<int>(i));
  io_uring_buf_ring_advance(br, probe_buffers);

  io_uring_sqe* sqe = io_uring_get_sqe(&s.ring);
  io_uring_prep_recv_multishot(sqe, s.fds[0], nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = probe_group;
  io_uring_sqe_set_data64(sqe, 1);
  rc = io_uring_submit(&s.ring);
  if (rc != 1) return error::from_errno(rc < 0 ? -rc : EIO, "io_uring_submit (multishot recv)");
  s.armed = true;
  char one = 'x';
  if (::send(s.fds[1], &one, 1, MSG_NOSIGNAL) != 1) return error::from_errno(errno, "send");

  __kernel_timespec ts{1, 0};
  io_uring_cqe* cqe = nullptr;
  rc = io_uring_wait_cqe_timeout(&s.ring, &cqe, &ts);
  if (rc < 0) return error::from_errno(-rc, "waiting for the multishot recv completion");
  int res = cqe->res;
  uint32_t flags = cqe->flags;
  io_uring_cqe_seen(&s.ring, cqe);
  if (!(flags & IORING_CQE_F_MORE)) s.armed = false;
  if (res < 0) return error::from_errno(-res, "multishot recv");
  if (res != 1 || !(flags & IORING_CQE_F_BUFFER) || !(flags & IORING_CQE_F_MORE))
    return error{errc::not_supported, "multishot recv did not deliver one byte and stay armed"};
  uint16_t bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
  if (bid >= probe_buffers || static_cast<char>(data[bid * probe_buffer_size]) != 'x')
    return error{errc::not_supported, "multishot recv put the byte in no provided buffer"};
  return success();
}

bool uring_sockets_supported() {
  static std::once_flag once;
  static bool supported = false;
  std::call_once(once, [] {
    auto r = probe_uring_sockets();
    supported = r.ok();
    if (!supported) NVMFD_LOG_WARN("io_uring sockets unavailable ({}): using epoll", r.err().message);
  });
  return supported;
}

io_backend resolve_io_backend(io_backend requested) {
  if (requested == io_backend::automatic) {
    if (const char* env = std::getenv("NVMFD_IO_BACKEND"); env && *env) {
      if (auto b = parse_io_backend(env))
        requested = *b;
      else
        NVMFD_LOG_WARN("NVMFD_IO_BACKEND={}: not auto, epoll or uring; ignored", env);
    }
  }
  if (requested == io_backend::epoll) return io_backend::epoll;
  return uring_sockets_supported() ? io_backend::uring : io_backend::epoll;
}

}  // namespace nvmfd
