#pragma once
// tls_psk_params: an RPC's "psk" parameter, as a configured TLS PSK. As in SPDK (whose
// keyring replaced PSK file paths), the value names a keyring key (keyring_file_add_key)
// whose file holds an interchange key ("NVMeTLSkey-1:01:...:"). The material is read when
// the RPC runs and held from then on, so removing the key later does not change this use.
// Threading: RPC thread. Failures are recorded in the param_reader (-32602) and name the
// key, never its material.
#include <memory>
#include <string>
#include <string_view>

#include "keys/keyring.h"
#include "rpc/param_reader.h"
#include "tls/tls_psk.h"

namespace nvmfd {

// The key named by param `param` in ring: null when the param is absent or empty (no TLS), or
// when it is bad (recorded: no keyring, no such key, not a TLS PSK). *name gets the name given.
std::shared_ptr<const tls::configured_psk> read_tls_psk(param_reader& p, std::string_view param,
                                                        const keys::keyring* ring, std::string& name);

}  // namespace nvmfd
