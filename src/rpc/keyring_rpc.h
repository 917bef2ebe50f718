#pragma once
// JSON-RPC methods of the daemon's keyring (keys/keyring.h), with SPDK's names, params, results
// and error codes (lib/keyring, module/keyring/file):
//
//   keyring_file_add_key {name, path} -> true
//       Reads the key file now (an absolute path to a regular file with no access for group or
//       others). Errors: -1 (EPERM) for a relative path, a file that is not regular or bad
//       permissions ("Invalid permissions for key file '<path>': 0644, ..."); -2 (ENOENT) for a
//       missing file; -17 (EEXIST) for a name in use; -32602 for bad params.
//   keyring_file_remove_key {name} -> true; -126 (ENOKEY) for an unknown name. Holders of the key
//       (a host entry, a controller) keep it alive but see it removed.
//   keyring_get_keys -> [{name, module: "keyring_file", removed, probed: false, refcnt, path}]
//       Keys in name order, then removed keys still held. refcnt counts the keyring's own
//       reference, as SPDK's does (an unused key shows 1).
//
// Config section "keyring" (no dependencies; "nvmf" and "bdev_nvme" depend on it, so keys are
// added before anything names them): one keyring_file_add_key {name, path} per key. The key
// material is never saved, only where it is read from.
//
// Handlers run on the RPC (control) thread; the keyring must outlive the table.
#include "keys/keyring.h"
#include "rpc/rpc_method_table.h"

namespace nvmfd {

void add_keyring_methods(rpc_method_table& methods, keys::keyring& ring);

}  // namespace nvmfd
