#pragma once
// The daemon's keyring: named keys read from files (SPDK's keyring_file module). One per nvmfd,
// owned by the RPC layer's daemon state and reached by target and host code through find().
//
// Threads: add_file_key and remove are called on the RPC thread (add_file_key reads the file
// there, outside the lock). find() and list() may be called from any thread, reactors included:
// they take a mutex held only for a map lookup or copy, never across I/O. What find() returns is a
// snapshot: the key stays valid while held even if it is removed meanwhile (key::removed() then
// says so).
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "keys/key.h"

namespace nvmfd::keys {

// What keyring_get_keys reports about one key (SPDK's result shape).
struct key_info {
  std::string name;
  std::string module;  // "keyring_file"
  bool removed = false;
  bool probed = false;  // always false: file keys are added, never probed
  long refcnt = 0;      // the keyring's own reference (while not removed) plus every holder's
  std::string path;
};

class keyring {
 public:
  keyring() = default;
  keyring(const keyring&) = delete;
  keyring& operator=(const keyring&) = delete;

  // Reads `path` (key_file.h rules) and adds it as `name`. Errors: errc::invalid_argument for an
  // empty name, or read_key_file's errors; errc::already_exists (EEXIST) for a name in use.
  result<void> add_file_key(std::string name, std::string path);

  // Removes `name`: it is no longer found, and holders see removed(). Its material is wiped when
  // the last holder lets go. errc::not_found (ENOKEY, SPDK's answer) if there is no such key.
  result<void> remove(std::string_view name);

  // The key named `name`, or null if there is none (or it was removed).
  std::shared_ptr<const key> find(std::string_view name) const;
  // As find(), for RPC handlers that take a key name: errc::not_found "Key '<name>' does not
  // exist" (sys_errno ENOKEY) instead of null.
  result<std::shared_ptr<const key>> get(std::string_view name) const;

  // Every key in name order, then the removed keys still held by someone (SPDK lists those too).
  std::vector<key_info> list() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<key>, std::less<>> keys_;
  mutable std::vector<std::weak_ptr<key>> removed_;  // pruned of expired entries by list()
};

}  // namespace nvmfd::keys
