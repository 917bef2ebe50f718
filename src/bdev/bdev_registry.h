#pragma once
// bdev_registry: the named block devices of one nvmfd process. Control thread only
// (RPC handlers and config loading); the I/O path holds shared_ptrs and never looks here.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "bdev/bdev.h"

namespace nvmfd {

class bdev_registry {
 public:
  // Fails with already_exists if the name is taken.
  result<void> add(std::shared_ptr<bdev> b);
  // Fails with not_found, or busy if the bdev is claimed (a namespace uses it).
  result<void> remove(const std::string& name);
  std::shared_ptr<bdev> find(const std::string& name) const;
  // In creation order.
  std::vector<std::shared_ptr<bdev>> list() const;

 private:
  std::vector<std::shared_ptr<bdev>> bdevs_;
};

}  // namespace nvmfd
