#include "gateway/rados_lease_store.h"

#include <rados/librados.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nvmfd::gateway {

namespace {

constexpr const char* member_lock = "member";
constexpr const char* owner_lock = "owner";
constexpr const char* lock_tag = "nvmfd";

error rados_error(int rc, std::string_view what) {
  error e{rc == -ETIMEDOUT ? errc::timed_out : errc::io_error, fmt::format("{}: {}", what, std::strerror(-rc))};
  e.sys_errno = -rc;
  return e;
}

timeval to_timeval(std::chrono::milliseconds d) {
  return {static_cast<time_t>(d.count() / 1000), static_cast<suseconds_t>((d.count() % 1000) * 1000)};
}

// The holders of lock `name` on oid (expired ones are not listed by the OSD).
struct lockers {
  std::vector<std::string> clients, cookies, addrs;
};

result<lockers> list_lockers(rados_ioctx_t io, const std::string& oid, const char* name) {
  size_t size = 1024;
  for (int attempt = 0; attempt < 8; ++attempt) {
    int exclusive = 0;
    std::string tag(256, '\0'), clients(size, '\0'), cookies(size, '\0'), addrs(size, '\0');
    size_t tag_len = tag.size(), clients_len = size, cookies_len = size, addrs_len = size;
    ssize_t n = rados_list_lockers(io, oid.c_str(), name, &exclusive, tag.data(), &tag_len, clients.data(),
                                   &clients_len, cookies.data(), &cookies_len, addrs.data(), &addrs_len);
    if (n == -ENOENT) return lockers{};
    if (n == -ERANGE) {
      size = std::max({clients_len, cookies_len, addrs_len, tag_len, size * 2});
      continue;
    }
    if (n < 0) return rados_error(static_cast<int>(n), fmt::format("listing the lockers of {}", oid));
    lockers out;
    auto split = [n](const std::string& buf, std::vector<std::string>& to) {
      const char* p = buf.data();
      for (ssize_t i = 0; i < n; ++i) {
        to.emplace_back(p);
        p += to.back().size() + 1;
      }
    };
    split(clients, out.clients);
    split(cookies, out.cookies);
    split(addrs, out.addrs);
    return out;
  }
  return error{errc::io_error, fmt::format("listing the lockers of {}: too many", oid)};
}

}  // namespace

result<std::unique_ptr<rados_lease_store>> rados_lease_store::open(std::shared_ptr<rbd_cluster> cluster,
                                                                   const std::string& pool, std::string group,
                                                                   std::string gateway_id) {
  rados_ioctx_t io = nullptr;
  int rc = rados_ioctx_create(cluster->handle(), pool.c_str(), &io);
  if (rc == -ENOENT) return error{errc::not_found, fmt::format("pool {} does not exist", pool)};
  if (rc < 0) return rados_error(rc, fmt::format("opening pool {}", pool));
  return std::unique_ptr<rados_lease_store>(
      new rados_lease_store(std::move(cluster), io, std::move(group), std::move(gateway_id)));
}

rados_lease_store::rados_lease_store(std::shared_ptr<rbd_cluster> c, rados_ioctx_t io, std::string group,
                                     std::string gw)
    : cluster_(std::move(c)), io_(io), group_(std::move(group)), gateway_id_(std::move(gw)) {
  members_oid_ = fmt::format("nvmfd.gateway.{}.members", group_);
  address_ = cluster_->address();
}

rados_lease_store::~rados_lease_store() { rados_ioctx_destroy(io_); }

std::string rados_lease_store::ana_object(uint32_t g) const { return fmt::format("nvmfd.gateway.{}.ana.{}", group_, g); }

result<void> rados_lease_store::join(std::chrono::milliseconds lease) {
  timeval d = to_timeval(lease);
  int rc = rados_lock_shared(io_, members_oid_.c_str(), member_lock, gateway_id_.c_str(), lock_tag, "nvmfd gateway", &d,
                             LIBRADOS_LOCK_FLAG_MAY_RENEW);
  if (rc < 0) return rados_error(rc, "renewing the membership");
  return success();
}

result<void> rados_lease_store::leave() {
  int rc = rados_unlock(io_, members_oid_.c_str(), member_lock, gateway_id_.c_str());
  if (rc < 0 && rc != -ENOENT) return rados_error(rc, "leaving the group");
  return success();
}

result<std::vector<member>> rados_lease_store::members() {
  auto l = list_lockers(io_, members_oid_, member_lock);
  if (!l) return l.take_err();
  std::vector<member> out;
  for (size_t i = 0; i < l->cookies.size(); ++i) out.push_back({l->cookies[i], l->addrs[i]});
  return out;
}

result<bool> rados_lease_store::acquire(uint32_t g, std::chrono::milliseconds lease) {
  timeval d = to_timeval(lease);
  int rc = rados_lock_exclusive(io_, ana_object(g).c_str(), owner_lock, gateway_id_.c_str(), "nvmfd ANA group owner",
                                &d, LIBRADOS_LOCK_FLAG_MAY_RENEW);
  if (rc == -EBUSY || rc == -EEXIST) return false;
  if (rc < 0) return rados_error(rc, fmt::format("taking ANA group {}", g));
  return true;
}

result<bool> rados_lease_store::renew(uint32_t g, std::chrono::milliseconds lease) {
  timeval d = to_timeval(lease);
  int rc = rados_lock_exclusive(io_, ana_object(g).c_str(), owner_lock, gateway_id_.c_str(), "nvmfd ANA group owner",
                                &d, LIBRADOS_LOCK_FLAG_MUST_RENEW);
  if (rc == -ENOENT || rc == -EBUSY || rc == -EEXIST) return false;
  if (rc < 0) return rados_error(rc, fmt::format("renewing ANA group {}", g));
  return true;
}

result<void> rados_lease_store::release(uint32_t g) {
  int rc = rados_unlock(io_, ana_object(g).c_str(), owner_lock, gateway_id_.c_str());
  if (rc < 0 && rc != -ENOENT) return rados_error(rc, fmt::format("releasing ANA group {}", g));
  return success();
}

result<std::string> rados_lease_store::holder(uint32_t g) {
  auto l = list_lockers(io_, ana_object(g), owner_lock);
  if (!l) return l.take_err();
  return l->cookies.empty() ? std::string() : l->cookies.front();
}

result<std::string> rados_lease_store::get_xattr(const std::string& oid, const char* name) {
  std::string buf(4096, '\0');
  int rc = rados_getxattr(io_, oid.c_str(), name, buf.data(), buf.size());
  if (rc == -ENOENT || rc == -ENODATA) return std::string();
  if (rc < 0) return rados_error(rc, fmt::format("reading {} of {}", name, oid));
  buf.resize(static_cast<size_t>(rc));
  return buf;
}

result<void> rados_lease_store::set_xattr(const std::string& oid, const char* name, const std::string& value) {
  int rc = rados_setxattr(io_, oid.c_str(), name, value.data(), value.size());
  if (rc < 0) return rados_error(rc, fmt::format("writing {} of {}", name, oid));
  return success();
}

result<std::optional<owner_record>> rados_lease_store::read_owner(uint32_t g) {
  auto v = get_xattr(ana_object(g), "owner");
  if (!v) return v.take_err();
  if (v->empty()) return std::optional<owner_record>();
  auto j = nlohmann::json::parse(*v, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return error{errc::protocol_error, fmt::format("the owner record of ANA group {} is not JSON: {}", g, *v)};
  owner_record r;
  r.gateway_id = j.value("gateway_id", "");
  r.released = j.value("released", false);
  if (auto a = j.find("addresses"); a != j.end() && a->is_array())
    for (auto& e : *a)
      if (e.is_string()) r.addresses.push_back(e.get<std::string>());
  return std::optional<owner_record>(std::move(r));
}

result<void> rados_lease_store::write_owner(uint32_t g, const owner_record& r) {
  nlohmann::json j = {{"gateway_id", r.gateway_id}, {"addresses", r.addresses}, {"released", r.released}};
  return set_xattr(ana_object(g), "owner", j.dump());
}

result<std::string> rados_lease_store::requested_owner(uint32_t g) { return get_xattr(ana_object(g), "requested"); }

result<void> rados_lease_store::request_owner(uint32_t g, const std::string& gateway_id) {
  if (gateway_id.empty()) {
    int rc = rados_rmxattr(io_, ana_object(g).c_str(), "requested");
    if (rc < 0 && rc != -ENOENT && rc != -ENODATA) return rados_error(rc, fmt::format("clearing the move of ANA group {}", g));
    return success();
  }
  return set_xattr(ana_object(g), "requested", gateway_id);
}

result<void> rados_lease_store::fence(const std::vector<std::string>& addresses) {
  for (auto& a : addresses) {
    int rc = rados_blocklist_add(cluster_->handle(), const_cast<char*>(a.c_str()), 0);
    if (rc < 0) return rados_error(rc, fmt::format("blocklisting {}", a));
  }
  int rc = rados_wait_for_latest_osdmap(cluster_->handle());
  if (rc < 0) return rados_error(rc, "waiting for the OSD map with the blocklist");
  return success();
}

}  // namespace nvmfd::gateway
