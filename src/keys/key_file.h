#pragma once
// Reading a key file with the rules of SPDK's keyring_file module: the path must be absolute and
// the file a regular file that neither group nor others may read, write or execute (mode & 077
// == 0), else it is refused. Blocking file I/O: call it on the RPC thread, never on a reactor.
#include <string>
#include <string_view>

#include "base/result.h"

namespace nvmfd::keys {

// The file's text without surrounding whitespace. Errors (errc::invalid_argument for a relative
// path, a file that is not regular, bad permissions or more than 64 KiB; errc::not_found for a
// missing file; errc::io_error otherwise) name the path and never contain the file's text.
result<std::string> read_key_file(std::string_view path);

}  // namespace nvmfd::keys
