#pragma once
// read_psk_file: a configured TLS PSK from a file holding its interchange key
// ("NVMeTLSkey-1:01:...:", interchange_psk.h), as spdk_nvme_perf --psk-path and SPDK's
// keyring_file_add_key read one. The file must be a regular file that neither group nor
// others may access (mode 0600 or stricter), as SPDK demands, or it is refused.
// Threading: any thread; blocking file I/O (control thread, tools). Errors name the file,
// never the key.
#include <string>

#include "base/result.h"
#include "tls/tls_psk.h"

namespace nvmfd::tls {

result<configured_psk> read_psk_file(const std::string& path);

}  // namespace nvmfd::tls
