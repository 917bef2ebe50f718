#include "host/nvme_controller_registry.h"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/log.h"
#include "proto/nqn.h"

namespace nvmfd {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

error with_errno(errc code, int e, std::string message) { return error{code, std::move(message), e}; }

// Whether the one path of an attached controller is the one a filter names. Empty fields
// count as not given (SPDK's nvme_path_id_compare skips them too).
bool filter_matches(const nvme_controller_entry& e, const nvme_path_filter& f, std::string& why) {
  const transport_id& t = e.request.trid;
  auto check = [&](const std::optional<std::string>& want, const std::string& have, const char* field,
                   bool fold_case) {
    if (!want || want->empty() || !why.empty()) return;
    bool same = fold_case ? lower(*want) == lower(have) : *want == have;
    if (!same) why = fmt::format("{} '{}' (the controller's is '{}')", field, *want, have);
  };
  check(f.trtype, t.trtype, "trtype", true);
  check(f.adrfam, t.adrfam, "adrfam", true);
  check(f.traddr, t.traddr, "traddr", false);
  check(f.trsvcid, t.trsvcid, "trsvcid", false);
  check(f.subnqn, t.subnqn, "subnqn", false);
  check(f.hostaddr, "", "hostaddr", false);  // no source address is ever bound
  check(f.hostsvcid, "", "hostsvcid", false);
  return why.empty();
}

// A namespace nvme_bdev can serve: a usable LBA size, and no metadata (nvme_bdev moves data
// blocks only, so an extended-LBA format would misplace every block).
bool usable(const remote_namespace& ns, std::string& why) {
  if (ns.block_size < 512 || ns.block_size > 65536 || ns.num_blocks == 0) {
    why = fmt::format("LBA size {} x {} blocks", ns.block_size, ns.num_blocks);
    return false;
  }
  if (ns.data.current_format().ms.get() != 0) {
    why = fmt::format("{} bytes of metadata per block are not supported", ns.data.current_format().ms.get());
    return false;
  }
  return true;
}

}  // namespace

std::string spdk_trtype(const transport_id& t) { return lower(t.trtype) == "tcp" ? "TCP" : t.trtype; }

std::string spdk_adrfam(const transport_id& t) {
  std::string f = lower(t.adrfam);
  if (f == "ipv4") return "IPv4";
  if (f == "ipv6") return "IPv6";
  return t.adrfam;
}

nvme_controller_registry::nvme_controller_registry(reactor_pool& pool, bdev_registry& bdevs)
    : pool_(pool), bdevs_(bdevs) {}

nvme_controller_registry::~nvme_controller_registry() {
  for (auto& e : entries_) e->ctrl->disconnect();
}

const nvme_controller_entry* nvme_controller_registry::find(const std::string& name) const {
  for (auto& e : entries_)
    if (e->request.name == name) return e.get();
  return nullptr;
}

std::vector<const nvme_controller_entry*> nvme_controller_registry::list() const {
  std::vector<const nvme_controller_entry*> out;
  for (auto& e : entries_) out.push_back(e.get());
  return out;
}

result<std::vector<std::string>> nvme_controller_registry::attach(nvme_attach_request req) {
  if (req.name.empty()) return error{errc::invalid_argument, "name: must not be empty"};
  if (const nvme_controller_entry* old = find(req.name)) {
    const transport_id& t = old->request.trid;
    if (req.multipath.empty() || req.multipath == "disable")
      return with_errno(errc::already_exists, EALREADY,
                        fmt::format("A controller named {} already exists", req.name));
    if (t.traddr == req.trid.traddr && t.trsvcid == req.trid.trsvcid)
      return with_errno(errc::already_exists, EALREADY,
                        fmt::format("A controller named {} already exists with the specified network path", req.name));
    return with_errno(errc::not_supported, EOPNOTSUPP,
                      fmt::format("A controller named {} already exists: adding a second path (multipath \"{}\") "
                                  "is not supported yet",
                                  req.name, req.multipath));
  }
  if (is_discovery_nqn(req.trid.subnqn))
    return error{errc::invalid_argument,
                 "subnqn: the discovery subsystem has no namespaces to attach (discovery is bdev_nvme_start_discovery)"};

  std::string where = fmt::format("{}: {} at {}:{}", req.name, req.trid.subnqn, req.trid.traddr, req.trid.trsvcid);
  auto connected = host_controller::connect(pool_, req.trid, req.opts);
  if (!connected) {
    error e = connected.take_err();
    e.message = fmt::format("{}: {}", where, e.message);
    if (e.code != errc::invalid_argument && e.sys_errno == 0) e.sys_errno = e.code == errc::timed_out ? ETIMEDOUT : EIO;
    return e;
  }
  auto entry = std::make_unique<nvme_controller_entry>();
  entry->ctrl = std::move(connected.value());
  host_controller& ctrl = *entry->ctrl;
  // nvme_bdev sends each I/O on its reactor's own queue: a reactor without one fails them.
  if (ctrl.io_queue_count() < pool_.size()) {
    ctrl.disconnect();
    return error{errc::invalid_argument,
                 fmt::format("{}: the controller granted {} I/O queues; nvmfd needs one per reactor ({})", where,
                             ctrl.io_queue_count(), pool_.size())};
  }
  std::vector<const remote_namespace*> usable_ns;
  for (const remote_namespace& ns : ctrl.namespaces()) {
    std::string why;
    if (usable(ns, why))
      usable_ns.push_back(&ns);
    else
      NVMFD_LOG_WARN("{}: namespace {} skipped: {}", where, ns.nsid, why);
  }
  if (usable_ns.size() > req.max_bdevs) {
    ctrl.disconnect();
    return with_errno(errc::io_error, ERANGE,
                      fmt::format("{}: {} namespaces, more than max_bdevs ({})", where, usable_ns.size(), req.max_bdevs));
  }

  std::vector<std::string> names;
  for (const remote_namespace* ns : usable_ns) {
    auto b = std::make_shared<nvme_bdev>(fmt::format("{}n{}", req.name, ns->nsid), entry->ctrl, *ns, pool_.size());
    if (auto added = bdevs_.add(b); !added) {
      for (const std::string& n : names) (void)bdevs_.remove(n);  // just added, unclaimed
      ctrl.disconnect();
      error e = added.take_err();
      e.message = fmt::format("{}: {}", req.name, e.message);
      e.sys_errno = EEXIST;
      return e;
    }
    names.push_back(b->name());
    entry->bdevs.push_back(std::move(b));
  }
  NVMFD_LOG_INFO("{}: attached (cntlid {}), bdevs: {}", where, ctrl.cntlid(), fmt::join(names, ", "));
  entry->request = std::move(req);
  entries_.push_back(std::move(entry));
  return names;
}

result<void> nvme_controller_registry::detach(const std::string& name, const nvme_path_filter& filter) {
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](auto& e) { return e->request.name == name; });
  if (it == entries_.end()) return error{errc::not_found, fmt::format("Controller {} not found", name)};
  nvme_controller_entry& e = **it;
  std::string why;
  if (!filter_matches(e, filter, why))
    return error{errc::not_found, fmt::format("Controller {} has no path with {}", name, why)};
  for (auto& b : e.bdevs)
    if (b->claimed())
      return with_errno(errc::busy, EBUSY,
                        fmt::format("Controller {}: bdev {} is in use by {}", name, b->name(), b->claimed_by()));
  for (auto& b : e.bdevs) {
    // Gone only if someone else removed it (not through this registry): nothing to do then.
    if (bdevs_.find(b->name()) == b) (void)bdevs_.remove(b->name());
  }
  e.ctrl->disconnect();
  NVMFD_LOG_INFO("{}: detached from {} at {}:{}", name, e.request.trid.subnqn, e.request.trid.traddr,
                 e.request.trid.trsvcid);
  entries_.erase(it);
  return success();
}

}  // namespace nvmfd
