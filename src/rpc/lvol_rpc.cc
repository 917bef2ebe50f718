#include "rpc/lvol_rpc.h"

#include <fmt/format.h>

#include "bdev/lvol/lvol_bdev.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

using lvol::lvol_manager;
using lvol::lvol_store;
using lvol::volume;

constexpr uint64_t mib = 1ull << 20;

// {uuid | lvs_name}: exactly one names the store.
result<lvol_store*> store_param(param_reader& p, lvol_manager& lvols, const char* uuid_key = "uuid",
                                const char* name_key = "lvs_name") {
  auto id = p.optional_string(uuid_key);
  auto name = p.optional_string(name_key);
  if (auto f = p.finish(); !f) return f.take_err();
  if (id.has_value() == name.has_value())
    return error{errc::invalid_argument, fmt::format("give exactly one of {} and {}", uuid_key, name_key)};
  return lvols.find_store(id, name);
}

// {uuid | lvs_name} when either is given (that store), else every store.
result<std::vector<lvol_store*>> stores_param(param_reader& p, lvol_manager& lvols, const char* uuid_key,
                                              const char* name_key) {
  if (p.has(uuid_key) || p.has(name_key)) {
    auto s = store_param(p, lvols, uuid_key, name_key);
    if (!s) return s.take_err();
    return std::vector<lvol_store*>{*s};
  }
  if (auto f = p.finish(); !f) return f.take_err();
  return lvols.stores();
}

json store_json(const lvol_store& s) {
  auto i = s.info();
  return {{"uuid", i.id.to_string()},          {"name", i.name},
          {"base_bdev", i.base_bdev},          {"total_data_clusters", i.total_data_clusters},
          {"free_clusters", i.free_clusters},  {"block_size", i.block_size},
          {"cluster_size", i.cluster_size}};
}

json volume_json(const lvol_store& s, const volume& v) {
  auto i = s.info();
  std::string name = s.volume_name(v);
  json j = {{"alias", s.alias_of(v)},
          {"uuid", v.vid.to_string()},
          {"name", name},
          {"is_thin_provisioned", v.thin.load()},
          {"is_snapshot", v.snapshot},
          {"is_clone", v.parent.load() != nullptr},
          {"is_esnap_clone", false},
          {"is_degraded", false},
          {"lvs", {{"name", i.name}, {"uuid", i.id.to_string()}}}};
  // nvmfd's addition: a long operation (inflate, decouple_parent) and its progress.
  auto op = s.operation_of(v);
  if (!op.name.empty())
    j["operation"] = {{"name", op.name}, {"clusters_done", op.done}, {"clusters_total", op.total}, {"state", op.state}};
  return j;
}

// The params are complete: the volume named `name` (UUID or "lvs/lvol").
result<volume*> finish_and_find(param_reader& p, lvol_manager& lvols, const std::string& name) {
  if (auto f = p.finish(); !f) return f.take_err();
  return lvols.find_volume(name);
}

// The params are complete: op on the volume named `name`; the reply is true.
template <class Op>
result<json> on_volume(param_reader& p, lvol_manager& lvols, const std::string& name, Op op) {
  auto v = finish_and_find(p, lvols, name);
  if (!v) return v.take_err();
  if (result<void> r = op(**v); !r) return r.take_err();
  return json(true);
}

// A new volume's reply: its bdev name (the UUID), as SPDK answers.
result<json> new_volume(result<volume*> v) {
  if (!v) return v.take_err();
  return json((*v)->bdev->name());
}

void ignore_clear_method(param_reader& p) {
  p.optional_enum("clear_method", {"none", "unmap", "write_zeroes"});  // clusters always read as zeroes
}

}  // namespace

void add_lvol_methods(rpc_method_table& m, lvol_manager& lvols) {
  m.add("bdev_lvol_create_lvstore", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto bdev_name = p.required_string("bdev_name");
    auto name = p.required_string("lvs_name");
    auto cluster = p.optional_uint("cluster_sz", UINT32_MAX).value_or(4 * mib);
    ignore_clear_method(p);
    p.optional_uint("num_md_pages_per_cluster_ratio", UINT32_MAX);  // metadata is sized by the store
    p.optional_uint("md_page_size", UINT32_MAX);
    if (auto f = p.finish(); !f) return f.take_err();
    auto s = lvols.create_store(bdev_name, name, cluster);
    if (!s) return s.take_err();
    return json((*s)->info().id.to_string());
  });
  m.add("bdev_lvol_delete_lvstore", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto s = store_param(p, lvols);
    if (!s) return s.take_err();
    if (auto r = lvols.delete_store(**s); !r) return r.take_err();
    return json(true);
  });
  m.add("bdev_lvol_rename_lvstore", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto old_name = p.required_string("old_name");
    auto new_name = p.required_string("new_name");
    if (auto f = p.finish(); !f) return f.take_err();
    auto s = lvols.find_store(std::nullopt, old_name);
    if (!s) return s.take_err();
    if (auto r = lvols.rename_store(**s, new_name); !r) return r.take_err();
    return json(true);
  });
  m.add("bdev_lvol_grow_lvstore", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto s = store_param(p, lvols);
    if (!s) return s.take_err();
    if (auto r = (*s)->grow(); !r) return r.take_err();
    return json(true);
  });
  m.add("bdev_lvol_get_lvstores", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto stores = stores_param(p, lvols, "uuid", "lvs_name");
    if (!stores) return stores.take_err();
    json out = json::array();
    for (auto* s : *stores) out.push_back(store_json(*s));
    return out;
  });

  m.add("bdev_lvol_create", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("lvol_name");
    auto size_mib = p.required_uint("size_in_mib", UINT64_MAX / mib);
    bool thin = p.optional_bool("thin_provision").value_or(false);
    ignore_clear_method(p);
    auto s = store_param(p, lvols);
    if (!s) return s.take_err();
    return new_volume(lvols.create_volume(**s, name, size_mib * mib, thin, std::nullopt));
  });
  m.add("bdev_lvol_delete", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    return on_volume(p, lvols, name, [&](volume& v) { return lvols.delete_volume(v); });
  });
  m.add("bdev_lvol_resize", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto size_mib = p.required_uint("size_in_mib", UINT64_MAX / mib);
    return on_volume(p, lvols, name, [&](volume& v) { return lvols.store_of(v).resize_volume(v, size_mib * mib); });
  });
  m.add("bdev_lvol_rename", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto old_name = p.required_string("old_name");
    auto new_name = p.required_string("new_name");
    return on_volume(p, lvols, old_name, [&](volume& v) { return lvols.store_of(v).rename_volume(v, new_name); });
  });
  m.add("bdev_lvol_set_read_only", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    return on_volume(p, lvols, name, [&](volume& v) { return lvols.store_of(v).set_read_only(v); });
  });
  m.add("bdev_lvol_get_lvols", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto stores = stores_param(p, lvols, "lvs_uuid", "lvs_name");
    if (!stores) return stores.take_err();
    json out = json::array();
    for (auto* s : *stores)
      for (auto* v : s->volumes()) out.push_back(volume_json(*s, *v));
    return out;
  });

  m.add("bdev_lvol_snapshot", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("lvol_name");
    auto snap = p.required_string("snapshot_name");
    auto v = finish_and_find(p, lvols, name);
    if (!v) return v.take_err();
    return new_volume(lvols.snapshot(**v, snap));
  });
  m.add("bdev_lvol_clone", [&lvols](const json& params) -> result<json> {
    param_reader p(params);
    auto snap = p.required_string("snapshot_name");
    auto name = p.required_string("clone_name");
    auto s = finish_and_find(p, lvols, snap);
    if (!s) return s.take_err();
    return new_volume(lvols.clone(**s, name));
  });
  // Long operations: by default the reply comes when they are done (as SPDK's); with
  // nvmfd's wait_for_completion false it comes at once and bdev_lvol_get_lvols reports the
  // progress ("operation").
  auto long_op = [&lvols](lvol::long_operation op) {
    return [&lvols, op](const json& params) -> result<json> {
      param_reader p(params);
      auto name = p.required_string("name");
      bool wait = p.optional_bool("wait_for_completion").value_or(true);
      return on_volume(p, lvols, name, [&](volume& v) { return lvols.run_long_operation(v, op, wait); });
    };
  };
  m.add("bdev_lvol_inflate", long_op(lvol::long_operation::inflate));
  m.add("bdev_lvol_decouple_parent", long_op(lvol::long_operation::decouple_parent));
}

}  // namespace nvmfd
