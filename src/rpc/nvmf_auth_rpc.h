#pragma once
// The DH-HMAC-CHAP parts of the nvmf RPCs (SPDK's names): the key names of
// nvmf_subsystem_add_host / nvmf_subsystem_set_keys, nvmf_set_config's dhchap_digests and
// dhchap_dhgroups, and how hosts and the policy show in nvmf_get_subsystems and save_config.
// RPC thread.
#include <optional>

#include "keys/keyring.h"
#include "rpc/param_reader.h"
#include "rpc/rpc_method_table.h"
#include "target/nvmf_target.h"

namespace nvmfd {

// dhchap_key and dhchap_ctrlr_key, as given (empty when absent).
host_dhchap_keys read_host_keys(param_reader& p);
// dhchap_digests and dhchap_dhgroups ("sha256", "ffdhe2048", "null", ...): the policy with
// what is given replaced, or nullopt when neither is; an unknown name or an empty list fails p.
std::optional<dhchap_policy> read_dhchap_policy(param_reader& p, const dhchap_policy& current);
// The policy as nvmf_set_config params, or an empty object when it is the default.
json dhchap_policy_json(const dhchap_policy& p);
// A host of nvmf_get_subsystems / nvmf_subsystem_add_host params: {"nqn"/"host": hostnqn,
// "dhchap_key": name, "dhchap_ctrlr_key": name, "psk": name}, key names only where set.
json host_json(const subsystem& s, const std::string& hostnqn, const char* nqn_key);
// Key names resolved in the daemon's keyring: a key that is missing or removed is not_found,
// one that is not a DHHC-1 secret invalid_argument. The keyring must outlive the resolver.
dhchap_key_resolver keyring_dhchap_resolver(const keys::keyring& ring);
// nvmf_subsystem_set_keys.
void add_nvmf_auth_methods(rpc_method_table& methods, nvmf_target& target);

}  // namespace nvmfd
