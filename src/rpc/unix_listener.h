#pragma once
// unix_listener: a listening, non-blocking AF_UNIX stream socket bound to a path, mode 0600.
//
// open() refuses a path where something answers a connect ("another nvmfd is listening on
// PATH": errc::already_exists) and a path that exists but is not a socket (already_exists);
// a socket file nobody answers on is stale and is replaced. A file there that belongs to
// another user is never used or replaced (errc::busy, naming its uid). Other failures are io_error with
// the errno. The destructor closes the socket and unlinks the path if the file there is
// still the one it bound (a successor that replaced it keeps its socket).
#include <string>
#include <sys/types.h>

#include "base/result.h"

namespace nvmfd {

class unix_listener {
 public:
  static result<unix_listener> open(const std::string& path, int backlog = 128);

  unix_listener(unix_listener&& o) noexcept;
  unix_listener& operator=(unix_listener&& o) noexcept;
  unix_listener(const unix_listener&) = delete;
  unix_listener& operator=(const unix_listener&) = delete;
  ~unix_listener();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Closes and unlinks now (idempotent).
  void close();

 private:
  unix_listener(int fd, std::string path, dev_t dev, ino_t ino)
      : fd_(fd), path_(std::move(path)), dev_(dev), ino_(ino) {}

  int fd_ = -1;
  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace nvmfd
