#pragma once
// DH-HMAC-CHAP parameters of the host RPCs, in SPDK's forms: a key is the name of a keyring
// key holding a DHHC-1 secret ("dhchap_key": "key0"), digests and DH groups are arrays of
// SPDK's names (["sha256", "sha384"], ["null", "ffdhe2048"]). Failures are recorded in the
// param_reader (-32602) and never show key material. RPC thread.
#include <optional>
#include <string>
#include <string_view>

#include "auth/dhchap_ids.h"
#include "auth/secret_bytes.h"
#include "keys/keyring.h"
#include "rpc/param_reader.h"

namespace nvmfd {

// A key named by param `param`, read from ring and parsed: nullopt when the param is absent
// or bad (recorded). *name gets the name given.
std::optional<auth::dhchap_key> read_dhchap_key(param_reader& p, std::string_view param, const keys::keyring* ring,
                                                std::string& name);
// An array of digest or DH group names; nullopt when absent or bad (recorded). Empty arrays
// are refused: nothing could be negotiated.
std::optional<auth::hash_set> read_dhchap_digests(param_reader& p, std::string_view param);
std::optional<auth::dh_group_set> read_dhchap_dhgroups(param_reader& p, std::string_view param);
// The names of a set, in identifier order.
json dhchap_digests_json(const auth::hash_set& s);
json dhchap_dhgroups_json(const auth::dh_group_set& s);

}  // namespace nvmfd
