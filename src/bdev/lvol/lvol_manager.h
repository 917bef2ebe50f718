#pragma once
// lvol_manager: the lvol stores of one nvmfd process, and their volumes' bdevs in the bdev
// registry. It examines every bdev added to the registry: one holding an lvol store is
// loaded with its volumes (so after a restart they are back as soon as the base bdev is
// created from the config). Control thread only (never a reactor: it waits for them).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "bdev/bdev_registry.h"
#include "bdev/lvol/long_operation_job.h"
#include "bdev/lvol/lvol_store.h"
#include "reactor/reactor.h"

namespace nvmfd::lvol {

class lvol_manager {
 public:
  // Registers itself as an examiner of bdevs; bdevs must outlive the manager's use.
  lvol_manager(reactor_pool& pool, bdev_registry& bdevs);
  // Cancels the long operations still running and waits until they have stopped.
  ~lvol_manager();

  // Loads the store on b, if any, and registers its volumes. Errors are logged.
  void examine(const std::shared_ptr<bdev>& b);

  result<lvol_store*> create_store(const std::string& bdev_name, const std::string& name, uint64_t cluster_size);
  // Deletes every volume (none may be in use) and erases the store.
  result<void> delete_store(lvol_store& s);
  result<void> rename_store(lvol_store& s, const std::string& name);
  // By UUID or name; exactly one of them given (invalid_argument otherwise), not_found.
  result<lvol_store*> find_store(const std::optional<std::string>& uuid, const std::optional<std::string>& name) const;
  std::vector<lvol_store*> stores() const;

  // A volume by its bdev name (UUID) or alias "lvs/lvol". not_found.
  result<volume*> find_volume(const std::string& name) const;
  lvol_store& store_of(const volume& v) const;
  result<volume*> create_volume(lvol_store& s, const std::string& name, uint64_t size_bytes, bool thin,
                                std::optional<uuid> id);
  result<void> delete_volume(volume& v);
  result<volume*> snapshot(volume& v, const std::string& name);
  result<volume*> clone(volume& snapshot, const std::string& name);
  // inflate / decouple_parent as a job on the store's home reactor (long_operation_job.h);
  // wait: return when it is done (with its result), else at once (progress:
  // lvol_store::operation_of). busy if one runs on v.
  result<void> run_long_operation(volume& v, long_operation op, bool wait);

 private:
  result<void> register_volume(volume& v);

  reactor_pool& pool_;
  bdev_registry& bdevs_;
  std::vector<std::unique_ptr<lvol_store>> stores_;
  std::vector<std::shared_ptr<long_operation_job>> jobs_;  // in the background; ended ones reaped
};

}  // namespace nvmfd::lvol
