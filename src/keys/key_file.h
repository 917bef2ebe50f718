#pragma once
// Reading a key file with the rules of SPDK's keyring_file module: the path must be absolute and
// the file a regular file that neither group nor others may read, write or execute (mode & 077
// == 0), else it is refused. Blocking file I/O: call it on the RPC thread, never on a reactor.
#include <string>
#include <string_view>

#include "base/result.h"

namespace nvmfd::keys {

// The file's text without surrounding whitespace. Errors name the path and never contain the
// file's text: errc::invalid_argument for a relative path, a file that is not regular or has bad
// permissions (sys_errno EPERM, SPDK's answer) or holds more than 64 KiB; errc::not_found for a
// missing file (ENOENT); errc::io_error with the errno otherwise.
result<std::string> read_key_file(std::string_view path);

}  // namespace nvmfd::keys
