#pragma once
// tls_psk_resolver: what an RPC's "psk" parameter names, as a configured TLS PSK.
//
// For now the name is the path of a file holding an interchange key ("NVMeTLSkey-1:01:...:"),
// with the keyring's file rules (tls/psk_file.h), which is also what SPDK accepted before its
// keyring. Looking names up in the keyring (src/keys, keyring_file_add_key) is the next step.
// Threading: control thread (reads a file). Errors name the key, never its material.
#include <memory>
#include <string>

#include "base/result.h"
#include "tls/tls_psk.h"

namespace nvmfd {

result<std::shared_ptr<const tls::configured_psk>> resolve_tls_psk(const std::string& name);

}  // namespace nvmfd
