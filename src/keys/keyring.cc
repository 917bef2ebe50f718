#include "keys/keyring.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>

#include "keys/key_file.h"

namespace nvmfd::keys {

namespace {

key_info info_of(const key& k, long holders) {
  return key_info{k.name(), "keyring_file", k.removed(), false, holders, k.path()};
}

error no_such_key(std::string_view name) {
  return error{errc::not_found, fmt::format("Key '{}' does not exist", name), ENOKEY};
}

}  // namespace

result<void> keyring::add_file_key(std::string name, std::string path) {
  if (name.empty()) return error{errc::invalid_argument, "a key needs a non-empty name"};
  {
    std::lock_guard lock(mu_);
    if (keys_.contains(name))
      return error{errc::already_exists, fmt::format("Key '{}' already exists", name), EEXIST};
  }
  auto text = read_key_file(path);
  if (!text) return text.take_err();
  auto k = std::make_shared<key>(name, std::move(path), std::move(*text));
  std::lock_guard lock(mu_);
  // Checked again: another add of the same name may have won while the file was read.
  auto [it, inserted] = keys_.try_emplace(std::move(name), std::move(k));
  if (!inserted)
    return error{errc::already_exists, fmt::format("Key '{}' already exists", it->first), EEXIST};
  return success();
}

result<void> keyring::remove(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(name);
  if (it == keys_.end())
    return no_such_key(name);
  it->second->mark_removed();
  removed_.push_back(it->second);
  keys_.erase(it);
  return success();
}

std::shared_ptr<const key> keyring::find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = keys_.find(name);
  return it == keys_.end() ? nullptr : it->second;
}

result<std::shared_ptr<const key>> keyring::get(std::string_view name) const {
  if (auto k = find(name)) return k;
  return no_such_key(name);
}

std::vector<key_info> keyring::list() const {
  std::lock_guard lock(mu_);
  std::vector<key_info> out;
  out.reserve(keys_.size());
  // use_count counts the keyring's own reference, as SPDK's refcnt does.
  for (const auto& [name, k] : keys_) out.push_back(info_of(*k, k.use_count()));
  std::erase_if(removed_, [](const std::weak_ptr<key>& w) { return w.expired(); });
  for (const auto& w : removed_)
    if (auto k = w.lock()) out.push_back(info_of(*k, k.use_count() - 1));  // minus our lock()
  return out;
}

}  // namespace nvmfd::keys
