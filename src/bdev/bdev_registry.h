#pragma once
// bdev_registry: the named block devices of one nvmfd process. Control thread only
// (RPC handlers and config loading); the I/O path holds shared_ptrs and never looks here.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "bdev/bdev.h"

namespace nvmfd {

class bdev_registry {
 public:
  // Called with every bdev added from then on, after it is in the registry (SPDK's
  // examine: the lvol module looks for an lvol store on it). An examiner may add bdevs.
  using examiner = std::function<void(const std::shared_ptr<bdev>&)>;
  void add_examiner(examiner e) { examiners_.push_back(std::move(e)); }

  // Fails with already_exists if the name (or one of its aliases) is taken.
  result<void> add(std::shared_ptr<bdev> b);
  // Fails with not_found, or busy if the bdev is claimed (a namespace uses it). Clears the
  // bdev's QoS limits, so that I/Os waiting for budget complete soon.
  result<void> remove(const std::string& name);
  // By name or alias.
  std::shared_ptr<bdev> find(const std::string& name) const;
  // In creation order.
  std::vector<std::shared_ptr<bdev>> list() const;

 private:
  std::vector<std::shared_ptr<bdev>> bdevs_;
  std::vector<examiner> examiners_;
};

}  // namespace nvmfd
