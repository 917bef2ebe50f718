#include "rpc/bdev_rbd_rpc.h"

#include <fmt/format.h>

#include "rpc/param_reader.h"

namespace nvmfd {

namespace {

// A {string: string} object param (SPDK's config_param / config); records an error otherwise.
std::map<std::string, std::string> read_string_map(param_reader& p, std::string_view name) {
  std::map<std::string, std::string> out;
  const json* v = p.optional_value(name);
  if (!v) return out;
  if (!v->is_object()) {
    p.fail(name, "expected an object of strings");
    return out;
  }
  for (auto& [k, val] : v->items()) {
    if (!val.is_string()) {
      p.fail(name, fmt::format("{}: expected string", k));
      return out;
    }
    out[k] = val.get<std::string>();
  }
  return out;
}

json cluster_info(const rbd_cluster& c) {
  const auto& o = c.options();
  json j = {{"cluster_name", c.name()}};
  if (!o.user_id.empty()) j["user_id"] = o.user_id;
  if (!o.config_param.empty()) j["config_param"] = o.config_param;
  if (!o.config_file.empty()) j["config_file"] = o.config_file;
  if (!o.key_file.empty()) j["key_file"] = o.key_file;
  return j;
}

json register_call(const rbd_cluster& c) {
  json params = cluster_info(c);
  params.erase("cluster_name");
  params["name"] = c.name();
  return {{"method", "bdev_rbd_register_cluster"}, {"params", params}};
}

std::string next_rbd_name(const bdev_registry& r) {
  for (unsigned i = 0;; ++i) {
    auto n = fmt::format("Ceph{}", i);
    if (!r.find(n)) return n;
  }
}

}  // namespace

json rbd_driver_specific(const rbd_bdev& b) {
  json j = {{"pool_name", b.pool_name()}, {"rbd_name", b.rbd_name()}};
  const rbd_cluster& c = b.cluster();
  if (!c.name().empty()) {
    j["cluster_name"] = c.name();
  } else {
    if (!c.options().user_id.empty()) j["user_id"] = c.options().user_id;
    if (!c.options().config_param.empty()) j["config"] = c.options().config_param;
  }
  return j;
}

json rbd_create_call(const rbd_bdev& b) {
  json params = rbd_driver_specific(b);
  params["name"] = b.name();
  params["block_size"] = b.block_size();
  params["uuid"] = b.id().to_string();
  return {{"method", "bdev_rbd_create"}, {"params", params}};
}

void add_bdev_rbd_methods(rpc_method_table& methods, bdev_registry& bdevs, rbd_cluster_registry& clusters,
                          reactor_pool& reactors) {
  methods.add("bdev_rbd_register_cluster", [&clusters](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    rbd_cluster_options o;
    o.user_id = p.optional_string("user_id").value_or("");
    o.config_param = read_string_map(p, "config_param");
    o.config_file = p.optional_string("config_file").value_or("");
    o.key_file = p.optional_string("key_file").value_or("");
    p.ignore({"core_mask"});
    if (auto f = p.finish(); !f) return f.take_err();
    auto c = clusters.add(name, std::move(o));
    if (!c) return c.take_err();
    return json(name);
  });

  methods.add("bdev_rbd_unregister_cluster", [&clusters](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    if (auto f = p.finish(); !f) return f.take_err();
    if (auto r = clusters.remove(name); !r) return r.take_err();
    return json(true);
  });

  methods.add("bdev_rbd_get_clusters_info", [&clusters](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.optional_string("name");
    if (auto f = p.finish(); !f) return f.take_err();
    if (name) {
      auto c = clusters.find(*name);
      if (!c) return error{errc::not_found, fmt::format("cluster {} not found", *name)};
      return cluster_info(*c);
    }
    json out = json::array();
    for (auto& c : clusters.list()) out.push_back(cluster_info(*c));
    return out;
  });

  auto next_home = std::make_shared<unsigned>(0);
  methods.add("bdev_rbd_create", [&bdevs, &clusters, &reactors, next_home](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.optional_string("name");
    auto pool_name = p.required_string("pool_name");
    auto rbd_name = p.required_string("rbd_name");
    auto block_size = p.required_uint("block_size", UINT32_MAX);
    rbd_cluster_options o;
    o.user_id = p.optional_string("user_id").value_or("");
    o.config_param = read_string_map(p, "config");
    auto cluster_name = p.optional_string("cluster_name");
    std::optional<uuid> id;
    if (auto text = p.optional_string("uuid")) {
      id = uuid::parse(*text);
      if (!id) p.fail("uuid", "expected a UUID like 01234567-89ab-cdef-0123-456789abcdef");
    }
    p.ignore({"read_only"});
    if (cluster_name && (!o.user_id.empty() || !o.config_param.empty()))
      p.fail("cluster_name", "give either cluster_name or user_id/config, not both");
    if (auto f = p.finish(); !f) return f.take_err();
    std::string bdev_name = name ? *name : next_rbd_name(bdevs);
    if (bdevs.find(bdev_name)) return error{errc::already_exists, fmt::format("bdev {} already exists", bdev_name)};
    std::shared_ptr<rbd_cluster> cluster;
    if (cluster_name) {
      cluster = clusters.find(*cluster_name);
      if (!cluster) return error{errc::not_found, fmt::format("rbd cluster {} not registered", *cluster_name)};
    } else {
      auto c = rbd_cluster::connect("", std::move(o));
      if (!c) return c.take_err();
      cluster = std::move(c.value());
    }
    reactor& home = reactors.at((*next_home)++ % reactors.size());
    auto b = rbd_bdev::create(bdev_name, std::move(cluster), pool_name, rbd_name,
                              static_cast<uint32_t>(block_size), id, home);
    if (!b) return b.take_err();
    if (auto a = bdevs.add(b.value()); !a) return a.take_err();
    return json(bdev_name);
  });

  methods.add("bdev_rbd_delete", [&bdevs](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    if (auto f = p.finish(); !f) return f.take_err();
    auto b = bdevs.find(name);
    if (!b || !dynamic_cast<const rbd_bdev*>(b.get()))
      return error{errc::not_found, fmt::format("rbd bdev {} not found", name)};
    b.reset();
    if (auto d = bdevs.remove(name); !d) return d.take_err();
    return json(true);
  });

  methods.add("bdev_rbd_resize", [&bdevs](const json& params) -> result<json> {
    param_reader p(params);
    auto name = p.required_string("name");
    auto new_size_mib = p.required_uint("new_size", UINT64_MAX >> 20);
    if (auto f = p.finish(); !f) return f.take_err();
    auto b = std::dynamic_pointer_cast<rbd_bdev>(bdevs.find(name));
    if (!b) return error{errc::not_found, fmt::format("rbd bdev {} not found", name)};
    if (auto r = b->resize(new_size_mib << 20); !r) return r.take_err();
    return json(true);
  });

  methods.prepend_config("bdev", [&clusters] {
    json calls = json::array();
    for (auto& c : clusters.list()) calls.push_back(register_call(*c));
    return calls;
  });
}

}  // namespace nvmfd
