#include "bdev/bdev_registry.h"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>

namespace nvmfd {

result<void> bdev_registry::add(std::shared_ptr<bdev> b) {
  if (find(b->name())) return error{errc::already_exists, fmt::format("bdev {} already exists", b->name())};
  for (auto& a : b->aliases())
    if (find(a)) return error{errc::already_exists, fmt::format("bdev {} already exists", a)};
  bdevs_.push_back(b);
  for (auto& e : examiners_) e(b);
  return success();
}

result<void> bdev_registry::remove(const std::string& name) {
  auto b = find(name);
  if (!b) return error{errc::not_found, fmt::format("bdev {} not found", name)};
  if (b->claimed())
    return error{errc::busy, fmt::format("bdev {} is in use by {}", name, b->claimed_by()), EBUSY};
  // I/Os waiting for QoS budget are resubmitted now rather than when budget returns: the
  // bdev is going, and nobody is left to change its limits (bdev_qos.h).
  b->set_qos_limits({});
  std::erase(bdevs_, b);
  return success();
}

std::shared_ptr<bdev> bdev_registry::find(const std::string& name) const {
  for (auto& b : bdevs_)
    if (b->name() == name) return b;
  for (auto& b : bdevs_)
    for (auto& a : b->aliases())
      if (a == name) return b;
  return nullptr;
}

std::vector<std::shared_ptr<bdev>> bdev_registry::list() const { return bdevs_; }

}  // namespace nvmfd
