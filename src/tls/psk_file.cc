#include "tls/psk_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "tls/interchange_psk.h"

namespace nvmfd::tls {

result<configured_psk> read_psk_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error::from_errno(errno, fmt::format("key file {}", path));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return error{errc::invalid_argument, fmt::format("key file {} is not a regular file", path)};
  }
  if ((st.st_mode & 077) != 0) {
    ::close(fd);
    return error{errc::invalid_argument,
                 fmt::format("key file {} may be read by group or others (mode {:o}): chmod 0600", path, st.st_mode & 0777)};
  }
  char buf[256];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  ::close(fd);
  if (n < 0) return error::from_errno(errno, fmt::format("key file {}", path));
  auto psk = parse_interchange_psk({buf, static_cast<size_t>(n)});
  OPENSSL_cleanse(buf, sizeof(buf));
  if (!psk) return error{psk.err().code, fmt::format("key file {}: {}", path, psk.err().message)};
  return psk;
}

}  // namespace nvmfd::tls
