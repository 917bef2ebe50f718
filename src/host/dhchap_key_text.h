#pragma once
// DH-HMAC-CHAP secrets in their interchange text ("DHHC-1:01:<base64>:", keys/dhchap_secret.h)
// as the host takes them. Errors: invalid_argument, naming what is wrong, never the key.
// Any thread.
#include <string_view>

#include "auth/secret_bytes.h"
#include "base/result.h"
#include "host/host_controller.h"

namespace nvmfd {

result<auth::dhchap_key> parse_dhchap_key(std::string_view text);

// The command-line form (nvme-cli's --dhchap-secret / --dhchap-ctrl-secret): each non-empty
// text parsed into o.dhchap_key / o.dhchap_ctrl_key. A controller secret needs a host secret.
result<void> set_dhchap_secrets(controller_options& o, std::string_view secret, std::string_view ctrl_secret);

}  // namespace nvmfd
