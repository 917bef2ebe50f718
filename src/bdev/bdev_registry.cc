#include "bdev/bdev_registry.h"

#include <algorithm>
#include <fmt/format.h>

namespace nvmfd {

result<void> bdev_registry::add(std::shared_ptr<bdev> b) {
  if (find(b->name())) return error{errc::already_exists, fmt::format("bdev {} already exists", b->name())};
  bdevs_.push_back(std::move(b));
  return success();
}

result<void> bdev_registry::remove(const std::string& name) {
  auto it = std::find_if(bdevs_.begin(), bdevs_.end(), [&](auto& b) { return b->name() == name; });
  if (it == bdevs_.end()) return error{errc::not_found, fmt::format("bdev {} not found", name)};
  if ((*it)->claimed())
    return error{errc::busy, fmt::format("bdev {} is in use by {}", name, (*it)->claimed_by())};
  bdevs_.erase(it);
  return success();
}

std::shared_ptr<bdev> bdev_registry::find(const std::string& name) const {
  for (auto& b : bdevs_)
    if (b->name() == name) return b;
  return nullptr;
}

std::vector<std::shared_ptr<bdev>> bdev_registry::list() const { return bdevs_; }

}  // namespace nvmfd
