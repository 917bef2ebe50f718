#pragma once
// read_psk_file: a configured TLS PSK from a file holding its interchange key
// ("NVMeTLSkey-1:01:...:", keys/tls_psk.h), as spdk_nvme_perf --psk-path and SPDK's
// keyring_file_add_key read one, with the keyring's file rules (keys/key_file.h: an absolute
// path, a regular file that neither group nor others may access).
// Threading: any thread; blocking file I/O (control thread, tools). Errors name the file,
// never the key.
#include <string>

#include "base/result.h"
#include "tls/tls_psk.h"

namespace nvmfd::tls {

result<configured_psk> read_psk_file(const std::string& path);

}  // namespace nvmfd::tls
