#pragma once
// What the target knows of DH-HMAC-CHAP (in-band authentication, src/auth): per host of a
// subsystem, the names of its keys in the daemon's keyring (nvmf_subsystem_add_host
// --dhchap-key/--dhchap-ctrlr-key, nvmf_subsystem_set_keys); the hash functions and DH
// groups the target accepts (nvmf_set_config --dhchap-digests/--dhchap-dhgroups); and the
// resolver that turns a key name into key material, set by whoever owns the keyring.
// Pure data.
#include <functional>
#include <string>
#include <string_view>

#include "auth/dhchap_ids.h"
#include "auth/secret_bytes.h"
#include "base/result.h"

namespace nvmfd {

// Key names of one host. A host with a key must authenticate; with a controller key too, it
// may ask the controller to authenticate (bidirectional).
struct host_dhchap_keys {
  std::string key;        // keyring name of the host's secret; empty: no authentication
  std::string ctrlr_key;  // keyring name of the controller's secret; empty: unidirectional only
  bool empty() const { return key.empty() && ctrlr_key.empty(); }
  bool operator==(const host_dhchap_keys&) const = default;
};

struct dhchap_policy {
  auth::hash_set digests = auth::every_hash();
  auth::dh_group_set dhgroups = auth::every_dh_group();
};

// Key material by keyring name: errc::not_found when there is no such key, invalid_argument
// when it is not a DH-HMAC-CHAP secret. Called on the control thread and on reactors
// (Connect, re-authentication); it must not block on I/O.
using dhchap_key_resolver = std::function<result<auth::dhchap_key>(std::string_view name)>;

}  // namespace nvmfd
