#include "bdev/lvol/lvol_manager.h"

#include <algorithm>
#include <fmt/format.h>

#include "base/log.h"
#include "bdev/lvol/lvol_bdev.h"
#include "reactor/blocking_call.h"

namespace nvmfd::lvol {

namespace {
// Remote namespaces are not examined (a read could wait on the network), nor volumes.
bool examinable(const bdev& b) {
  auto p = b.product_name();
  return p != "Logical Volume" && p != "NVMe disk" && p != "Null disk";
}
}  // namespace

lvol_manager::lvol_manager(reactor_pool& pool, bdev_registry& bdevs) : pool_(pool), bdevs_(bdevs) {
  bdevs_.add_examiner([this](const std::shared_ptr<bdev>& b) { examine(b); });
}

lvol_manager::~lvol_manager() {
  for (auto& job : jobs_) {
    if (job->ended()) continue;
    (void)blocking_call<void>(job->home(), [job](completion<void> done) {
      job->cancel();
      job->when_ended([done]() mutable { done(success()); });
    }, std::nullopt, "~lvol_manager");
  }
}

void lvol_manager::examine(const std::shared_ptr<bdev>& b) {
  if (!examinable(*b) || b->claimed()) return;
  auto s = lvol_store::load(pool_, b);
  if (!s) {
    if (s.err().code != errc::not_found) NVMFD_LOG_ERROR("bdev {}: {}", b->name(), s.err().message);
    return;
  }
  auto info = s.value()->info();
  for (auto& o : stores_)
    if (o->name() == info.name || o->info().id == info.id) {
      NVMFD_LOG_ERROR("bdev {}: lvol store {} ({}) clashes with the store already loaded from {}: not loaded",
                      b->name(), info.name, info.id.to_string(), o->base()->name());
      return;
    }
  stores_.push_back(std::move(s.value()));
  lvol_store& st = *stores_.back();
  for (volume* v : st.volumes())
    if (auto r = register_volume(*v); !r) NVMFD_LOG_ERROR("lvol store {}: {}", info.name, r.err().message);
  NVMFD_LOG_INFO("lvol store {} loaded from {}: {} volumes, {} of {} clusters free", info.name, b->name(),
                 st.volumes().size(), info.free_clusters, info.total_data_clusters);
}

result<void> lvol_manager::register_volume(volume& v) { return bdevs_.add(v.bdev); }

result<lvol_store*> lvol_manager::create_store(const std::string& bdev_name, const std::string& name,
                                                uint64_t cluster_size) {
  auto b = bdevs_.find(bdev_name);
  if (!b) return error{errc::not_found, fmt::format("bdev {} not found", bdev_name)};
  for (auto& o : stores_)
    if (o->name() == name) return error{errc::already_exists, fmt::format("lvol store {} already exists", name), EEXIST};
  auto s = lvol_store::create(pool_, b, name, cluster_size);
  if (!s) return s.take_err();
  stores_.push_back(std::move(s.value()));
  return stores_.back().get();
}

result<void> lvol_manager::delete_store(lvol_store& s) {
  for (volume* v : s.volumes())
    if (v->bdev->claimed())
      return error{errc::busy, fmt::format("lvol {} is in use by {}", v->name, v->bdev->claimed_by()), EBUSY};
  // Clones before their snapshots.
  for (bool again = true; again;) {
    again = false;
    for (volume* v : s.volumes()) {
      bool has_clone = false;
      for (volume* o : s.volumes()) has_clone |= o->parent.load() == v;
      if (has_clone) continue;
      if (auto r = delete_volume(*v); !r) return r;
      again = true;
      break;
    }
  }
  if (auto r = s.destroy(); !r) return r;
  std::erase_if(stores_, [&](auto& o) { return o.get() == &s; });
  return success();
}

result<void> lvol_manager::rename_store(lvol_store& s, const std::string& name) {
  for (auto& o : stores_)
    if (o.get() != &s && o->name() == name)
      return error{errc::already_exists, fmt::format("lvol store {} already exists", name), EEXIST};
  return s.rename(name);
}

result<lvol_store*> lvol_manager::find_store(const std::optional<std::string>& id,
                                              const std::optional<std::string>& name) const {
  if (id.has_value() == name.has_value())
    return error{errc::invalid_argument, "give exactly one of uuid and lvs_name"};
  for (auto& s : stores_) {
    auto i = s->info();
    if ((id && i.id.to_string() == *id) || (name && i.name == *name)) return s.get();
  }
  return error{errc::not_found, fmt::format("lvol store {} not found", id ? *id : *name), ENODEV};
}

std::vector<lvol_store*> lvol_manager::stores() const {
  std::vector<lvol_store*> out;
  for (auto& s : stores_) out.push_back(s.get());
  return out;
}

result<volume*> lvol_manager::find_volume(const std::string& name) const {
  if (auto* l = dynamic_cast<lvol_bdev*>(bdevs_.find(name).get())) return &l->vol();  // by UUID or alias
  return error{errc::not_found, fmt::format("lvol {} not found", name), ENODEV};
}

lvol_store& lvol_manager::store_of(const volume& v) const { return v.bdev->store(); }

result<volume*> lvol_manager::create_volume(lvol_store& s, const std::string& name, uint64_t size_bytes, bool thin,
                                            std::optional<uuid> id) {
  if (id && bdevs_.find(id->to_string()))
    return error{errc::already_exists, fmt::format("bdev {} already exists", id->to_string()), EEXIST};
  auto v = s.create_volume(name, size_bytes, thin, id);
  if (!v) return v.take_err();
  if (auto r = register_volume(**v); !r) return r.take_err();
  return v;
}

result<void> lvol_manager::delete_volume(volume& v) {
  lvol_store& s = store_of(v);
  if (auto r = s.can_delete(v); !r) return r;
  if (auto r = bdevs_.remove(v.bdev->name()); !r) return r;
  if (auto r = s.delete_volume(v); !r) {
    (void)bdevs_.add(v.bdev);  // still there
    return r;
  }
  return success();
}

result<volume*> lvol_manager::snapshot(volume& v, const std::string& name) {
  auto s = store_of(v).snapshot(v, name);
  if (!s) return s.take_err();
  if (auto r = register_volume(**s); !r) return r.take_err();
  return s;
}

result<volume*> lvol_manager::clone(volume& snap, const std::string& name) {
  auto c = store_of(snap).clone(snap, name);
  if (!c) return c.take_err();
  if (auto r = register_volume(**c); !r) return r.take_err();
  return c;
}

result<void> lvol_manager::run_long_operation(volume& v, long_operation op, bool wait) {
  lvol_store& s = store_of(v);
  if (op == long_operation::decouple_parent && !v.parent.load())
    return error{errc::invalid_argument, fmt::format("{} has no parent to decouple from", s.volume_name(v))};
  if (!s.begin_operation(v, op))
    return error{errc::busy, fmt::format("an operation runs on {} already", s.volume_name(v)), EBUSY};
  auto job = long_operation_job::make(s, v, op);
  if (wait)
    return blocking_call<void>(s.home(), [job](completion<void> done) { job->start(std::move(done)); },
                               std::nullopt, "lvol_manager::run_long_operation");
  std::erase_if(jobs_, [](auto& j) { return j->ended(); });
  jobs_.push_back(job);
  s.home().post([job] {
    job->start([](result<void> r) {
      if (!r) NVMFD_LOG_ERROR("{}", r.err().message);
    });
  });
  return success();
}

}  // namespace nvmfd::lvol
