#include "rpc/unix_listener.h"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

namespace nvmfd {

namespace {

result<sockaddr_un> make_addr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return error{errc::invalid_argument,
                 fmt::format("socket path '{}' must be 1 to {} bytes", path,
                             sizeof(addr.sun_path) - 1)};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

// The errno of a connect to `addr`: 0 when a process accepts connections there.
// A Unix-domain connect completes or fails at once: ECONNREFUSED when nobody listens.
int probe_connect(const sockaddr_un& addr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int e = rc == 0 ? 0 : errno;
  ::close(fd);
  return e == EAGAIN ? 0 : e;  // EAGAIN: a listener with a full backlog
}

}  // namespace

result<unix_listener> unix_listener::open(const std::string& path, int backlog) {
  auto addr = make_addr(path);
  if (!addr) return addr.take_err();

  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    // Another user's file (a socket planted for us to unlink and reuse, or theirs): never
    // touch it, whatever it is.
    if (st.st_uid != ::geteuid()) {
      return error{errc::busy, fmt::format("{} exists and belongs to uid {}, not to this user (uid {}): refusing to "
                                           "use or replace it",
                                           path, st.st_uid, ::geteuid())};
    }
    if (!S_ISSOCK(st.st_mode)) {
      return error{errc::already_exists, fmt::format("{} exists and is not a socket", path)};
    }
    int e = probe_connect(*addr);
    if (e == 0) {
      return error{errc::already_exists, fmt::format("another nvmfd is listening on {}", path)};
    }
    if (e != ECONNREFUSED && e != ENOENT) {
      return error::from_errno(e, fmt::format("cannot probe existing socket {}", path));
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return error::from_errno(errno, fmt::format("cannot remove stale socket {}", path));
    }
  }

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return error::from_errno(errno, "socket(AF_UNIX)");
  auto fail = [&](const char* what) {
    error e = error::from_errno(errno, fmt::format("{} {}", what, path));
    ::close(fd);
    return e;
  };
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr)) != 0) {
    return fail("cannot bind");
  }
  // The file exists with the umask's mode from bind() on, but nobody can connect before
  // listen(): restricting it here leaves no window.
  if (::chmod(path.c_str(), 0600) != 0 || ::stat(path.c_str(), &st) != 0) {
    error e = fail("cannot chmod");
    ::unlink(path.c_str());
    return e;
  }
  if (::listen(fd, backlog) != 0) {
    error e = fail("cannot listen on");
    ::unlink(path.c_str());
    return e;
  }
  return unix_listener(fd, path, st.st_dev, st.st_ino);
}

unix_listener::unix_listener(unix_listener&& o) noexcept
    : fd_(o.fd_), path_(std::move(o.path_)), dev_(o.dev_), ino_(o.ino_) {
  o.fd_ = -1;
}

unix_listener& unix_listener::operator=(unix_listener&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    dev_ = o.dev_;
    ino_ = o.ino_;
    o.fd_ = -1;
  }
  return *this;
}

unix_listener::~unix_listener() { close(); }

void unix_listener::close() {
  if (fd_ < 0) return;
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
  ::close(fd_);
  fd_ = -1;
}

}  // namespace nvmfd
