#pragma once
// rados_lease_store: lease_store (lease_store.h) on RADOS, through librados' advisory object
// locks (the OSDs' "lock" class: a lock has a holder = client + cookie, and a duration after
// which it expires unless renewed by that same holder). In pool `pool`:
//   nvmfd.gateway.<group>.members    shared lock "member", one holder per gateway
//                                    (cookie = gateway_id), duration = the lease
//   nvmfd.gateway.<group>.ana.<g>    exclusive lock "owner" (cookie = gateway_id, duration =
//                                    the lease); xattrs "owner" (the owner record as JSON)
//                                    and "requested" (a pending hand move)
// Fencing is the cluster's blocklist (rados_blocklist_add, the default expiry), then
// rados_wait_for_latest_osdmap, so that this client's later writes carry an OSD map that
// refuses the fenced clients.
//
// The connection should be the group's own, with operation timeouts of lease/4
// (gateway_runner.h does so), so that no call blocks longer than that.
#include <memory>
#include <string>

#include "bdev/rbd/rbd_cluster.h"
#include "gateway/lease_store.h"

typedef void* rados_ioctx_t;

namespace nvmfd::gateway {

class rados_lease_store final : public lease_store {
 public:
  // not_found when the pool does not exist; io_error otherwise.
  static result<std::unique_ptr<rados_lease_store>> open(std::shared_ptr<rbd_cluster> cluster, const std::string& pool,
                                                         std::string group, std::string gateway_id);
  ~rados_lease_store() override;

  result<void> join(std::chrono::milliseconds lease) override;
  result<std::vector<member>> members() override;
  result<void> leave() override;
  result<bool> acquire(uint32_t g, std::chrono::milliseconds lease) override;
  result<bool> renew(uint32_t g, std::chrono::milliseconds lease) override;
  result<void> release(uint32_t g) override;
  result<std::string> holder(uint32_t g) override;
  result<std::optional<owner_record>> read_owner(uint32_t g) override;
  result<void> write_owner(uint32_t g, const owner_record& r) override;
  result<std::string> requested_owner(uint32_t g) override;
  result<void> request_owner(uint32_t g, const std::string& gateway_id) override;
  result<void> fence(const std::vector<std::string>& addresses) override;
  std::string own_address() const override { return address_; }

 private:
  rados_lease_store(std::shared_ptr<rbd_cluster> c, rados_ioctx_t io, std::string group, std::string gw);
  std::string ana_object(uint32_t g) const;
  result<std::string> get_xattr(const std::string& oid, const char* name);
  result<void> set_xattr(const std::string& oid, const char* name, const std::string& value);

  std::shared_ptr<rbd_cluster> cluster_;
  rados_ioctx_t io_;
  std::string group_, gateway_id_, members_oid_, address_;
};

}  // namespace nvmfd::gateway
