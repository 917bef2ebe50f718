#pragma once
// tls_psk_resolver: what an RPC's "psk" parameter names, as a configured TLS PSK.
//
// Interim, until issue 15's keyring (src/keys: keyring_file_add_key) lands: the name is the
// path of a file holding an interchange key ("NVMeTLSkey-1:01:...:"), readable by its owner
// only (mode 0600 or stricter, as SPDK's keyring demands), which is also what SPDK accepted
// before its keyring. With the keyring, a key's name is looked up there.
// Threading: control thread (reads a file). Errors name the key, never its material.
#include <memory>
#include <string>

#include "base/result.h"
#include "tls/tls_psk.h"

namespace nvmfd {

result<std::shared_ptr<const tls::configured_psk>> resolve_tls_psk(const std::string& name);

}  // namespace nvmfd
