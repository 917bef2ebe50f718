#include "bdev/rbd/rbd_cluster.h"

#include <rados/librados.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"

namespace nvmfd {

namespace {

// Client-side timeouts set unless config_param names them (seconds).
constexpr const char* default_timeouts[] = {"rados_osd_op_timeout", "rados_mon_op_timeout", "client_mount_timeout"};
constexpr const char* default_timeout_s = "30";
// Set unless config_param names it: rbd_cluster.h says why.
constexpr const char* writethrough_until_flush = "rbd_cache_writethrough_until_flush";

error rados_error(errc code, int rc, std::string what) {
  error e{code, fmt::format("{}: {}", what, std::strerror(-rc))};
  e.sys_errno = -rc;
  return e;
}

}  // namespace

result<std::shared_ptr<rbd_cluster>> rbd_cluster::connect(std::string name, rbd_cluster_options opts) {
  std::string client = "client." + (opts.user_id.empty() ? std::string("admin") : opts.user_id);
  rados_t h = nullptr;
  if (int rc = rados_create2(&h, "ceph", client.c_str(), 0); rc < 0)
    return rados_error(errc::io_error, rc, fmt::format("rados_create2 for {}", client));
  auto fail = [&](errc code, int rc, std::string what) -> error {
    rados_shutdown(h);
    return rados_error(code, rc, std::move(what));
  };
  for (const char* opt : default_timeouts)
    if (!opts.config_param.count(opt)) rados_conf_set(h, opt, default_timeout_s);
  if (!opts.config_param.count(writethrough_until_flush)) rados_conf_set(h, writethrough_until_flush, "false");
  if (!opts.config_file.empty()) {
    if (int rc = rados_conf_read_file(h, opts.config_file.c_str()); rc < 0)
      return fail(errc::invalid_argument, rc, fmt::format("config_file {}", opts.config_file));
  } else if (opts.config_param.empty()) {
    if (int rc = rados_conf_read_file(h, nullptr); rc < 0)
      return fail(errc::invalid_argument, rc, "the default Ceph config file");
  }
  for (auto& [k, v] : opts.config_param)
    if (int rc = rados_conf_set(h, k.c_str(), v.c_str()); rc < 0)
      return fail(errc::invalid_argument, rc, fmt::format("config_param {}={}", k, v));
  if (!opts.key_file.empty())
    if (int rc = rados_conf_set(h, "keyring", opts.key_file.c_str()); rc < 0)
      return fail(errc::invalid_argument, rc, fmt::format("key_file {}", opts.key_file));
  if (int rc = rados_connect(h); rc < 0)
    return fail(errc::io_error, rc, fmt::format("connecting to Ceph as {}", client));
  NVMFD_LOG_INFO("rbd: connected to Ceph as {}{}", client, name.empty() ? "" : " (cluster " + name + ")");
  return std::shared_ptr<rbd_cluster>(new rbd_cluster(std::move(name), std::move(opts), h));
}

rbd_cluster::~rbd_cluster() { rados_shutdown(handle_); }

std::string rbd_cluster::address() const {
  char* addrs = nullptr;
  if (rados_getaddrs(handle_, &addrs) < 0 || !addrs) return {};
  std::string out = addrs;
  rados_buffer_free(addrs);
  return out;
}

std::string rbd_cluster::conf_get(const std::string& option) const {
  char buf[256];
  if (rados_conf_get(handle_, option.c_str(), buf, sizeof buf) < 0) return {};
  return buf;
}

unsigned rbd_cluster::osd_op_timeout_s() const {
  std::string v = conf_get("rados_osd_op_timeout");
  char* end = nullptr;
  double s = std::strtod(v.c_str(), &end);
  return end == v.c_str() || s < 0 ? 0 : static_cast<unsigned>(s + 0.999);
}

result<std::shared_ptr<rbd_cluster>> rbd_cluster_registry::add(const std::string& name, rbd_cluster_options opts) {
  if (name.empty()) return error{errc::invalid_argument, "name: must not be empty"};
  if (clusters_.count(name)) return error{errc::already_exists, fmt::format("cluster {} already registered", name)};
  auto c = rbd_cluster::connect(name, std::move(opts));
  if (!c) return c.take_err();
  clusters_[name] = c.value();
  return c;
}

result<void> rbd_cluster_registry::remove(const std::string& name) {
  auto it = clusters_.find(name);
  if (it == clusters_.end()) return error{errc::not_found, fmt::format("cluster {} not found", name)};
  if (int n = it->second->users(); n > 0) {
    error e{errc::busy, fmt::format("cluster {} is used by {} bdev(s) (or images still closing)", name, n)};
    e.sys_errno = EBUSY;  // SPDK answers -EBUSY
    return e;
  }
  clusters_.erase(it);
  return {};
}

std::shared_ptr<rbd_cluster> rbd_cluster_registry::find(const std::string& name) const {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<rbd_cluster>> rbd_cluster_registry::list() const {
  std::vector<std::shared_ptr<rbd_cluster>> out;
  for (auto& [n, c] : clusters_) out.push_back(c);
  return out;
}

}  // namespace nvmfd
