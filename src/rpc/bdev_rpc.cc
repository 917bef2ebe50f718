#include "rpc/bdev_rpc.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/log.h"
#include "bdev/file_bdev.h"
#include "bdev/null_bdev.h"
#include "bdev/ram_bdev.h"
#include "bdev/lvol/lvol_bdev.h"
#include "bdev/volatile_cache_bdev.h"
#include "rpc/bdev_nvme_rpc.h"
#include "rpc/bdev_rbd_rpc.h"
#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

// Reads an optional "uuid" param into id; records a param error if malformed.
std::optional<uuid> read_uuid(param_reader& p) {
  auto text = p.optional_string("uuid");
  if (!text) return std::nullopt;
  auto u = uuid::parse(*text);
  if (!u) p.fail("uuid", "expected a UUID like 01234567-89ab-cdef-0123-456789abcdef");
  return u;
}

// SPDK's metadata / protection-information params: accepted only when they ask for none.
void reject_metadata(param_reader& p) {
  if (auto md = p.optional_uint("md_size", UINT32_MAX); md && *md != 0) p.fail("md_size", "metadata is not supported");
  if (auto dif = p.optional_int("dif_type", INT32_MIN, INT32_MAX); dif && *dif != 0)
    p.fail("dif_type", "protection information is not supported");
  p.ignore({"md_interleave", "dif_is_head_of_md", "dif_pi_format"});
}

std::string next_name(const bdev_registry& r, const char* prefix) {
  for (unsigned i = 0;; ++i) {
    auto n = fmt::format("{}{}", prefix, i);
    if (!r.find(n)) return n;
  }
}

result<json> finish_create(bdev_registry& r, result<std::shared_ptr<bdev>> b) {
  if (!b) return b.take_err();
  std::string name = b.value()->name();
  if (auto a = r.add(std::move(b.value())); !a) return a.take_err();
  return json(name);
}

template <class T>
result<std::shared_ptr<bdev>> upcast(result<std::shared_ptr<T>> r) {
  if (!r) return r.take_err();
  return std::shared_ptr<bdev>(std::move(r.value()));
}

result<json> delete_bdev(bdev_registry& r, const json& params, std::string_view product) {
  param_reader p(params);
  auto name = p.required_string("name");
  if (auto f = p.finish(); !f) return f.take_err();
  auto b = r.find(name);
  if (!b || b->product_name() != product) return error{errc::not_found, fmt::format("bdev {} not found", name)};
  if (auto d = r.remove(name); !d) return d.take_err();
  return json(true);
}

json qos_json(const qos_limits& l) {
  return {{"rw_ios_per_sec", l.rw_ios_per_sec}, {"rw_mbytes_per_sec", l.rw_mbytes_per_sec},
          {"r_mbytes_per_sec", l.r_mbytes_per_sec}, {"w_mbytes_per_sec", l.w_mbytes_per_sec}};
}

json describe(const bdev& b) {
  json j = {
      {"name", b.name()},
      {"aliases", b.aliases()},
      {"product_name", b.product_name()},
      {"block_size", b.block_size()},
      {"num_blocks", b.num_blocks()},
      {"uuid", b.id().to_string()},
      {"numa_id", -1},
      {"assigned_rate_limits", qos_json(b.get_qos_limits())},
      {"claimed", b.claimed()},
      {"zoned", false},
      {"supported_io_types",
       {{"read", b.supports(bdev_op::read)}, {"write", b.supports(bdev_op::write) && !b.read_only()},
        {"unmap", b.supports(bdev_op::unmap)}, {"flush", b.supports(bdev_op::flush)}, {"reset", false},
        {"nvme_admin", false}, {"nvme_io", false}, {"write_zeroes", b.supports(bdev_op::write_zeroes)},
        {"zcopy", false}, {"compare", false}, {"compare_and_write", false}, {"abort", false}, {"copy", false}}},
      {"volatile_write_cache", b.has_volatile_cache()},
      {"driver_specific", json::object()},
  };
  if (b.claimed()) j["claim_type"] = "exclusive_write";
  if (auto* f = dynamic_cast<const file_bdev*>(&b)) {
    j["driver_specific"]["aio"] = {{"filename", f->filename()}, {"block_size_override", true},
                                   {"readonly", f->read_only()}, {"fallocate", false}, {"direct", f->direct()}};
  }
  if (auto* v = dynamic_cast<const volatile_cache_bdev*>(&b))
    j["driver_specific"]["volatile_cache"] = {{"filename", v->filename()}, {"cached_blocks", v->cached_blocks()},
                                              {"flushes", v->flushes()}};
  if (auto* r = dynamic_cast<const rbd_bdev*>(&b)) j["driver_specific"]["rbd"] = rbd_driver_specific(*r);
  if (auto* n = dynamic_cast<const nvme_bdev*>(&b)) j["driver_specific"] = nvme_bdev_driver_specific(*n);
  if (auto* l = dynamic_cast<const lvol::lvol_bdev*>(&b)) {
    const lvol::lvol_store& s = l->store();
    const lvol::volume& v = l->vol();
    json d = {{"lvol_store_uuid", s.info().id.to_string()}, {"base_bdev", s.base()->name()},
              {"thin_provision", v.thin.load()}, {"num_allocated_clusters", s.allocated_clusters(v)},
              {"snapshot", v.snapshot}, {"clone", v.parent.load() != nullptr}, {"esnap_clone", false}};
    if (auto* parent = v.parent.load()) d["base_snapshot"] = s.volume_name(*parent);
    if (v.snapshot) {
      json clones = json::array();
      for (auto* o : s.volumes())
        if (o->parent.load() == &v) clones.push_back(s.volume_name(*o));
      d["clones"] = clones;
    }
    j["driver_specific"]["lvol"] = d;
  }
  return j;
}

json bdev_config(const bdev_registry& r) {
  json calls = json::array();
  for (auto& b : r.list()) {
    if (dynamic_cast<const ram_bdev*>(b.get())) {
      calls.push_back({{"method", "bdev_malloc_create"},
                       {"params", {{"name", b->name()}, {"num_blocks", b->num_blocks()},
                                   {"block_size", b->block_size()}, {"uuid", b->id().to_string()}}}});
    } else if (dynamic_cast<const null_bdev*>(b.get())) {
      calls.push_back({{"method", "bdev_null_create"},
                       {"params", {{"name", b->name()}, {"num_blocks", b->num_blocks()},
                                   {"block_size", b->block_size()}, {"uuid", b->id().to_string()}}}});
    } else if (auto* f = dynamic_cast<const file_bdev*>(b.get())) {
      calls.push_back({{"method", "bdev_aio_create"},
                       {"params", {{"name", b->name()}, {"filename", f->filename()},
                                   {"block_size", b->block_size()}, {"readonly", f->read_only()},
                                   {"uuid", b->id().to_string()}}}});
    } else if (auto* v = dynamic_cast<const volatile_cache_bdev*>(b.get())) {
      calls.push_back({{"method", "bdev_volatile_cache_create"},
                       {"params", {{"name", b->name()}, {"filename", v->filename()},
                                   {"block_size", b->block_size()}, {"uuid", b->id().to_string()}}}});
    } else if (auto* rb = dynamic_cast<const rbd_bdev*>(b.get())) {
      calls.push_back(rbd_create_call(*rb));  // after the bdev_rbd_register_cluster calls (bdev_rbd_rpc.h)
    }
  }
  calls.push_back({{"method", "bdev_wait_for_examine"}});
  // After the examine, so that lvols exist. bdev_nvme's bdevs are created by a later
  // section, which writes their limits (bdev_nvme_rpc.cc).
  for (auto& b : r.list())
    if (!dynamic_cast<const nvme_bdev*>(b.get()))
      if (json c = qos_limit_call(*b); !c.is_null()) calls.push_back(std::move(c));
  return calls;
}

}  // namespace

json qos_limit_call(const bdev& b) {
  auto l = b.get_qos_limits();
  if (!l.any()) return nullptr;
  json p = {{"name", b.name()}};
  const json all = qos_json(l);
  for (auto& [k, v] : all.items())
    if (v != 0) p[k] = v;  // as SPDK writes it: the limits that are set
  return {{"method", "bdev_set_qos_limit"}, {"params", p}};
}

void add_bdev_methods(rpc_method_table& methods, bdev_registry& bdevs) {
  methods.add("bdev_malloc_create", [&bdevs](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.optional_string("name");
    auto block_size = p.required_uint("block_size", UINT32_MAX);
    auto num_blocks = p.required_uint("num_blocks");
    auto id = read_uuid(p);
    reject_metadata(p);
    p.ignore({"optimal_io_boundary", "physical_block_size", "numa_id"});
    if (auto f = p.finish(); !f) return f.take_err();
    return finish_create(bdevs, upcast(ram_bdev::create(name ? *name : next_name(bdevs, "Malloc"),
                                                        static_cast<uint32_t>(block_size), num_blocks, id)));
  });
  methods.add("bdev_malloc_delete", [&bdevs](const json& params) { return delete_bdev(bdevs, params, "Malloc disk"); });

  methods.add("bdev_null_create", [&bdevs](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto block_size = p.required_uint("block_size", UINT32_MAX);
    auto num_blocks = p.required_uint("num_blocks");
    auto id = read_uuid(p);
    reject_metadata(p);
    p.ignore({"physical_block_size", "preferred_write_granularity", "preferred_write_alignment", "optimal_write_size",
              "preferred_unmap_granularity", "preferred_unmap_alignment"});
    if (auto f = p.finish(); !f) return f.take_err();
    return finish_create(bdevs, upcast(null_bdev::create(name, static_cast<uint32_t>(block_size), num_blocks, id)));
  });
  methods.add("bdev_null_delete", [&bdevs](const json& params) { return delete_bdev(bdevs, params, "Null disk"); });

  methods.add("bdev_aio_create", [&bdevs](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto filename = p.required_string("filename");
    auto block_size = p.optional_uint("block_size", UINT32_MAX).value_or(0);
    auto readonly = p.optional_bool("readonly").value_or(false);
    auto id = read_uuid(p);
    p.ignore({"fallocate", "nowait"});
    if (auto f = p.finish(); !f) return f.take_err();
    return finish_create(bdevs, upcast(file_bdev::create(name, filename, static_cast<uint32_t>(block_size), readonly, id)));
  });
  methods.add("bdev_aio_delete", [&bdevs](const json& params) { return delete_bdev(bdevs, params, "AIO disk"); });

  // nvmfd's own test tool (no SPDK counterpart): a file behind a write cache that only a
  // flush writes back, for crash tests (volatile_cache_bdev.h).
  methods.add("bdev_volatile_cache_create", [&bdevs](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto filename = p.required_string("filename");
    auto block_size = p.optional_uint("block_size", UINT32_MAX).value_or(512);
    auto id = read_uuid(p);
    if (auto f = p.finish(); !f) return f.take_err();
    return finish_create(bdevs, upcast(volatile_cache_bdev::create(name, filename, static_cast<uint32_t>(block_size), id)));
  });
  methods.add("bdev_volatile_cache_delete",
              [&bdevs](const json& params) { return delete_bdev(bdevs, params, "Volatile cache disk"); });

  methods.add("bdev_get_bdevs", [&bdevs](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.optional_string("name");
    p.optional_uint("timeout");
    if (auto f = p.finish(); !f) return f.take_err();
    json out = json::array();
    for (auto& b : bdevs.list()) {
      auto aliases = b->aliases();
      if (!name || b->name() == *name || b->id().to_string() == *name ||
          std::find(aliases.begin(), aliases.end(), *name) != aliases.end())
        out.push_back(describe(*b));
    }
    if (name && out.empty()) return error{errc::not_found, fmt::format("bdev {} not found", *name)};
    return out;
  });

  // SPDK's QoS (bdev_qos.h): absent limits stay as they are, 0 removes one.
  methods.add("bdev_set_qos_limit", [&bdevs](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    constexpr uint64_t max_mbytes = UINT64_MAX / (1024 * 1024);
    auto ios = p.optional_uint("rw_ios_per_sec", UINT64_MAX - 999);
    auto rw = p.optional_uint("rw_mbytes_per_sec", max_mbytes);
    auto r = p.optional_uint("r_mbytes_per_sec", max_mbytes);
    auto w = p.optional_uint("w_mbytes_per_sec", max_mbytes);
    if (p.ok() && !ios && !rw && !r && !w)
      p.fail("rw_ios_per_sec", "no limit given (rw_ios_per_sec, rw_mbytes_per_sec, r_mbytes_per_sec or w_mbytes_per_sec)");
    if (auto f = p.finish(); !f) return f.take_err();
    auto b = bdevs.find(name);
    if (!b) return error{errc::not_found, fmt::format("bdev {} not found", name)};
    // SPDK's rule (v26.05): IOPS limits come in steps of 1000, others rounded up, logged.
    if (ios && *ios % 1000) {
      uint64_t up = (*ios / 1000 + 1) * 1000;
      NVMFD_LOG_WARN("bdev_set_qos_limit {}: rw_ios_per_sec {} is not a multiple of 1000, rounded up to {}", name, *ios, up);
      ios = up;
    }
    qos_limits l = b->get_qos_limits();
    if (ios) l.rw_ios_per_sec = *ios;
    if (rw) l.rw_mbytes_per_sec = *rw;
    if (r) l.r_mbytes_per_sec = *r;
    if (w) l.w_mbytes_per_sec = *w;
    b->set_qos_limits(l);
    return json(true);
  });

  // Block devices here are ready as soon as they are created: nothing to wait for.
  methods.add("bdev_wait_for_examine", [](const json& params) -> result<json> {
    param_reader p(params);
    if (auto f = p.finish(); !f) return f.take_err();
    return json(true);
  });

  methods.add_config_section({"bdev", {}, [&bdevs] { return bdev_config(bdevs); }});
}

}  // namespace nvmfd
