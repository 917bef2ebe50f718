#include "target/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace nvmfd {

namespace {

class posix_calls final : public file_calls {
 public:
  int open(const char* path, int flags, mode_t mode) override { return ::open(path, flags, mode); }
  ssize_t write(int fd, const void* data, size_t len) override { return ::write(fd, data, len); }
  int fsync(int fd) override { return ::fsync(fd); }
  int close(int fd) override { return ::close(fd); }
  int rename(const char* from, const char* to) override { return ::rename(from, to); }
  int unlink(const char* path) override { return ::unlink(path); }
};

// The directory holding path, to fsync after the rename.
std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

file_calls& posix_file_calls() {
  static posix_calls calls;
  return calls;
}

result<void> write_file_durably(const std::string& path, const std::string& text, file_calls& calls) {
  const std::string tmp = path + ".tmp";
  // Undoes step 1 on a failure before the rename; path keeps its old contents.
  auto fail = [&](int fd, const char* step) {
    const int e = errno;
    calls.close(fd);
    calls.unlink(tmp.c_str());
    return error::from_errno(e, fmt::format("{} {}", step, tmp));
  };
  int fd = calls.open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return error::from_errno(errno, fmt::format("create {}", tmp));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = calls.write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(fd, "write");
    done += static_cast<size_t>(n);
  }
  if (calls.fsync(fd) != 0) return fail(fd, "fsync");
  calls.close(fd);
  if (calls.rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    calls.unlink(tmp.c_str());
    return error::from_errno(e, fmt::format("rename {} to {}", tmp, path));
  }
  const std::string dir = directory_of(path);
  int dfd = calls.open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (dfd < 0) return error::from_errno(errno, fmt::format("open directory {}", dir));
  const int rc = calls.fsync(dfd);
  const int e = errno;
  calls.close(dfd);
  if (rc != 0) return error::from_errno(e, fmt::format("fsync directory {}", dir));
  return success();
}

}  // namespace nvmfd
