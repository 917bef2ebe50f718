#pragma once
// One named key of the keyring: its name, the file it was read from and the file's text
// (trimmed of surrounding whitespace), which is wiped when the last reference goes away.
//
// Immutable once made except for the `removed` flag, so any thread may read a key it holds a
// shared_ptr to. A removed key (keyring_file_remove_key) stays alive while someone holds it but
// must not be used for new authentications or connections: check removed() at the time of use,
// as SPDK refuses a removed key.
#include <atomic>
#include <string>
#include <string_view>

namespace nvmfd::keys {

class key {
 public:
  key(std::string name, std::string path, std::string material);
  ~key();
  key(const key&) = delete;
  key& operator=(const key&) = delete;

  const std::string& name() const { return name_; }
  const std::string& path() const { return path_; }
  // The key file's text, e.g. "DHHC-1:01:...:" or "NVMeTLSkey-1:01:...:"; the keyring does not
  // interpret it (parse_dhchap_secret / parse_tls_psk do).
  std::string_view material() const { return material_; }
  bool removed() const { return removed_.load(std::memory_order_acquire); }

 private:
  friend class keyring;
  void mark_removed() { removed_.store(true, std::memory_order_release); }

  const std::string name_;
  const std::string path_;
  std::string material_;
  std::atomic<bool> removed_{false};
};

}  // namespace nvmfd::keys
