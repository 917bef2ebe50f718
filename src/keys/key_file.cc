#include "keys/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "keys/interchange.h"
#include "keys/trim.h"

namespace nvmfd::keys {

namespace {

// Interchange keys are under 200 characters; anything this large is not a key file.
constexpr size_t max_key_file = 64 * 1024;

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

result<std::string> read_key_file(std::string_view path_view) {
  std::string path(path_view);
  if (path.empty() || path[0] != '/')
    return error{errc::invalid_argument,
                 fmt::format("Non-absolute paths are not allowed for key files: '{}'", path), EPERM};
  fd_guard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    int e = errno;
    error err = error::from_errno(e, fmt::format("Could not open key file '{}'", path));
    if (e == ENOENT) err.code = errc::not_found;
    return err;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return error::from_errno(errno, fmt::format("Could not stat key file '{}'", path));
  if (!S_ISREG(st.st_mode))
    return error{errc::invalid_argument, fmt::format("Key file '{}' is not a regular file", path),
                 EPERM};
  if ((st.st_mode & 077) != 0)
    return error{errc::invalid_argument,
                 fmt::format("Invalid permissions for key file '{}': {:04o}, required: no access "
                             "for group and others (e.g. 0600)",
                             path, st.st_mode & 07777),
                 EPERM};
  if (static_cast<size_t>(st.st_size) > max_key_file)
    return error{errc::invalid_argument,
                 fmt::format("Key file '{}' is {} bytes, larger than a key file can be", path,
                             st.st_size)};
  std::string buf(max_key_file + 1, '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::read(fd.get(), buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      wipe(buf.data(), got);
      return error::from_errno(e, fmt::format("Could not read key file '{}'", path));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_key_file) {
    wipe(buf.data(), got);
    return error{errc::invalid_argument,
                 fmt::format("Key file '{}' is larger than a key file can be", path)};
  }
  std::string text(trim_view({buf.data(), got}));
  wipe(buf.data(), got);
  return text;
}

}  // namespace nvmfd::keys
