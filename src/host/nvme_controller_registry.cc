#include "host/nvme_controller_registry.h"

#include <algorithm>
#include <cerrno>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/log.h"
#include "host/io_command.h"
#include "proto/nqn.h"
#include "reactor/blocking_call.h"
#include "reactor/countdown.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {

namespace {

// The size of namespace nsid that the paths learnt last (the largest stamp), if any path knows it.
std::optional<uint64_t> newest_size(const std::vector<nvme_path::status>& statuses, nsid_t nsid) {
  std::optional<observed_size> best;
  for (auto& st : statuses)
    if (auto it = st.sizes.find(nsid.value); it != st.sizes.end() && (!best || it->second.stamp > best->stamp))
      best = it->second;
  if (!best) return std::nullopt;
  return best->num_blocks;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

error with_errno(errc code, int e, std::string message) { return error{code, std::move(message), e}; }

// Whether transport t is the one a filter names. Empty fields count as not given (SPDK's
// nvme_path_id_compare skips them too). why: the first field that differs.
bool filter_matches(const transport_id& t, const nvme_path_filter& f, std::string& why) {
  why.clear();
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

bool same_network_path(const transport_id& a, const transport_id& b) {
  return a.traddr == b.traddr && a.trsvcid == b.trsvcid;
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

std::vector<const remote_namespace*> usable_namespaces(const host_controller& c, const std::string& where) {
  std::vector<const remote_namespace*> out;
  for (const remote_namespace& ns : c.namespaces()) {
    std::string why;
    if (usable(ns, why))
      out.push_back(&ns);
    else
      NVMFD_LOG_WARN("{}: namespace {} skipped: {}", where, ns.nsid, why);
  }
  return out;
}

std::string where(const nvme_attach_request& r) {
  return fmt::format("{}: {} at {}:{}", r.name, r.trid.subnqn, r.trid.traddr, r.trid.trsvcid);
}

nvme_path_filter path_filter(const std::string& traddr, const std::string& trsvcid) {
  nvme_path_filter f;
  f.traddr = traddr;
  f.trsvcid = trsvcid;
  return f;
}

// A connect's error as attach reports it: with an errno for the RPC result.
error connect_error(error e) {
  if (e.code != errc::invalid_argument && e.sys_errno == 0) e.sys_errno = e.code == errc::timed_out ? ETIMEDOUT : EIO;
  return e;
}

// A bdev name taken already, as attach reports it.
error bdev_clash(const std::string& name, error e) {
  e.message = fmt::format("{}: {}", name, e.message);
  e.sys_errno = EEXIST;
  return e;
}

// done, posted to r when called: the registry's completions never run inline, so a state
// machine's next step never nests in the call that started this one.
template <class T>
completion<T> later(reactor& r, completion<T> done) {
  return [&r, done = std::move(done)](result<T> v) mutable {
    auto out = std::make_shared<result<T>>(std::move(v));
    r.post([done = std::move(done), out]() mutable { done(std::move(*out)); });
  };
}

// A path connected for an attach that failed afterwards: stopped (on the control reactor),
// then done(why).
template <class T>
void discard_then(std::unique_ptr<nvme_path> path, completion<T> done, error why) {
  std::shared_ptr<nvme_path> p(std::move(path));
  p->stop_async([p, done = std::move(done), why = std::move(why)](result<void>) mutable { done(std::move(why)); });
}

}  // namespace

std::string spdk_trtype(const transport_id& t) {
  std::string l = lower(t.trtype);
  return l == "tcp" ? "TCP" : l == "rdma" ? "RDMA" : t.trtype;
}

std::string spdk_adrfam(const transport_id& t) {
  std::string f = lower(t.adrfam);
  if (f == "ipv4") return "IPv4";
  if (f == "ipv6") return "IPv6";
  return t.adrfam;
}

nvme_controller_registry::nvme_controller_registry(reactor_pool& pool, bdev_registry& bdevs)
    : pool_(pool), bdevs_(bdevs), hostid_(uuid::random_v4()), control_(pool.control()) {
  hostnqn_ = "nqn.2014-08.org.nvmexpress:uuid:" + hostid_.to_string();
  publisher_ = registry_publisher::make(pool_, [this](const std::set<uint64_t>& ids) { return publish_tables(ids); });
}

nvme_controller_registry::~nvme_controller_registry() {
  {
    auto turn = lock_control();  // no adoption runs; those still queued find life_ gone
    life_.reset();
  }
  publisher_->stop();
  std::vector<std::unique_ptr<nvme_controller_entry>> all;
  {
    std::lock_guard lk(mu_);
    all = std::move(entries_);
  }
  for (auto& e : all) {
    for (auto& b : e->bdevs) b->shut_down(pool_);
    for (auto& p : e->paths) p->stop();
  }
}

result<void> nvme_controller_registry::set_defaults(const nvme_host_defaults& d) {
  if (!entries_.empty())
    return with_errno(errc::busy, EPERM, "bdev_nvme_set_options is not allowed once controllers are attached");
  defaults_ = d;
  return success();
}

const nvme_controller_entry* nvme_controller_registry::find(const std::string& name) const {
  for (auto& e : entries_)
    if (e->name == name) return e.get();
  return nullptr;
}

nvme_controller_entry* nvme_controller_registry::find_mutable(const std::string& name) {
  return const_cast<nvme_controller_entry*>(find(name));
}

std::vector<const nvme_controller_entry*> nvme_controller_registry::list() const {
  std::vector<const nvme_controller_entry*> out;
  for (auto& e : entries_) out.push_back(e.get());
  return out;
}

std::pair<const nvme_controller_entry*, nvme_bdev*> nvme_controller_registry::find_bdev(
    const std::string& bdev_name) const {
  for (auto& e : entries_)
    for (auto& b : e->bdevs)
      if (b->name() == bdev_name) return {e.get(), b.get()};
  return {nullptr, nullptr};
}

// --- blocking forms (threads that may block: RPC handlers, config loading, teardown) ---

result<std::vector<std::string>> nvme_controller_registry::attach(nvme_attach_request req) {
  return blocking_call<std::vector<std::string>>(
      pool_.control(),
      [this, req = std::move(req)](completion<std::vector<std::string>> done) mutable {
        attach_async(std::move(req), std::move(done));
      },
      std::nullopt, "nvme_controller_registry::attach");
}

result<void> nvme_controller_registry::detach(const std::string& name, const nvme_path_filter& filter,
                                              const std::string& owner) {
  return blocking_call<void>(
      pool_.control(), [&](completion<void> done) { detach_async(name, filter, owner, std::move(done)); },
      std::nullopt, "nvme_controller_registry::detach");
}

result<void> nvme_controller_registry::detach_path(const std::string& name, const std::string& traddr,
                                                   const std::string& trsvcid, const std::string& owner) {
  return detach(name, path_filter(traddr, trsvcid), owner);
}

result<std::vector<std::string>> nvme_controller_registry::detach_matching(const path_match& m) {
  return blocking_call<std::vector<std::string>>(
      pool_.control(), [&](completion<std::vector<std::string>> done) { detach_matching_async(m, std::move(done)); },
      std::nullopt, "nvme_controller_registry::detach_matching");
}

std::vector<std::string> nvme_controller_registry::detach_owned(const std::string& owner) {
  auto gone = blocking_call<std::vector<std::string>>(
      pool_.control(), [&](completion<std::vector<std::string>> done) { detach_owned_async(owner, std::move(done)); },
      std::nullopt, "nvme_controller_registry::detach_owned");
  return gone ? std::move(*gone) : std::vector<std::string>{};
}

// --- attach (control reactor, token held) ---

void nvme_controller_registry::attach_async(nvme_attach_request req, completion<std::vector<std::string>> done) {
  assert_on(pool_.control(), "nvme_controller_registry::attach_async");
  done = later(pool_.control(), std::move(done));
  if (req.name.empty()) return done(error{errc::invalid_argument, "name: must not be empty"});
  if (is_discovery_nqn(req.trid.subnqn))
    return done(error{
        errc::invalid_argument,
        "subnqn: the discovery subsystem has no namespaces to attach (discovery is bdev_nvme_start_discovery)"});
  if (req.opts.hostnqn.empty()) req.opts.hostnqn = hostnqn_;
  if (req.opts.hostid.is_zero()) req.opts.hostid = hostid_;
  if (nvme_controller_entry* e = find_mutable(req.name)) return add_path(*e, std::move(req), std::move(done));

  auto entry = std::make_shared<std::unique_ptr<nvme_controller_entry>>(std::make_unique<nvme_controller_entry>());
  (*entry)->name = req.name;
  (*entry)->subnqn = req.trid.subnqn;
  (*entry)->id = next_entry_id_++;
  uint64_t id = (*entry)->id;
  nvme_path::connect_async(
      pool_, std::move(req), [this, id] { mark_dirty(id); },
      [this, entry, done](result<std::unique_ptr<nvme_path>> path) mutable {
        if (!path) return done(connect_error(path.take_err()));
        add_entry(std::move(*entry), std::move(*path), std::move(done));
      });
}

void nvme_controller_registry::add_entry(std::unique_ptr<nvme_controller_entry> entry, std::unique_ptr<nvme_path> path,
                                         completion<std::vector<std::string>> done) {
  nvme_path& p = *path;
  std::string at = where(p.request());
  auto st = p.get_status();
  if (!st.ctrl)  // lost between the connect and here; the supervisor is reconnecting
    return discard_then(std::move(path), std::move(done),
                        error{errc::io_error, fmt::format("{}: the connection was lost at once: {}", at, st.last_error),
                              EIO});
  auto ctrl = st.ctrl;
  auto namespaces = usable_namespaces(*ctrl, at);
  if (namespaces.size() > p.request().max_bdevs)
    return discard_then(std::move(path), std::move(done),
                        with_errno(errc::io_error, ERANGE,
                                   fmt::format("{}: {} namespaces, more than max_bdevs ({})", at, namespaces.size(),
                                               p.request().max_bdevs)));
  std::vector<std::string> names;
  for (const remote_namespace* ns : namespaces) {
    auto b = std::make_shared<nvme_bdev>(fmt::format("{}n{}", entry->name, ns->nsid), *ns, ctrl->identity(),
                                         pool_.size());
    b->policy = defaults_.policy;
    if (auto added = bdevs_.add(b); !added) {
      for (const std::string& n : names) (void)bdevs_.remove(n);  // just added, unclaimed
      return discard_then(std::move(path), std::move(done), bdev_clash(entry->name, added.take_err()));
    }
    names.push_back(b->name());
    entry->bdevs.push_back(std::move(b));
  }
  NVMFD_LOG_INFO("{}: attached (cntlid {}), bdevs: {}", at, ctrl->cntlid(), fmt::join(names, ", "));
  entry->paths.push_back(std::move(path));
  uint64_t id = entry->id;
  {
    std::lock_guard lk(mu_);
    entries_.push_back(std::move(entry));
  }
  publisher_->publish_async(id, [names, done](result<void>) mutable { done(names); });
}

result<void> nvme_controller_registry::check_same_namespaces(const nvme_controller_entry& e, const host_controller& c,
                                                             std::vector<const remote_namespace*>& added) const {
  auto found = usable_namespaces(c, e.name);
  for (const remote_namespace* ns : found) {
    auto it = std::find_if(e.bdevs.begin(), e.bdevs.end(), [&](auto& b) { return b->nsid() == ns->nsid; });
    if (it == e.bdevs.end()) {
      added.push_back(ns);
      continue;
    }
    const remote_namespace& first = (*it)->first_namespace();
    if (first.id != ns->id || first.block_size != ns->block_size || (*it)->num_blocks() != ns->num_blocks)
      return error{errc::invalid_argument,
                   fmt::format("namespace {} differs from the one seen through the first path (UUID/NGUID {} vs {}, "
                               "{} x {} vs {} x {} blocks)",
                               ns->nsid, ns->id.to_string(), first.id.to_string(), ns->num_blocks, ns->block_size,
                               (*it)->num_blocks(), first.block_size)};
  }
  return success();
}

void nvme_controller_registry::add_path(nvme_controller_entry& e, nvme_attach_request req,
                                        completion<std::vector<std::string>> done) {
  if (req.multipath.empty() || req.multipath == "disable")
    return done(
        with_errno(errc::already_exists, EALREADY, fmt::format("A controller named {} already exists", req.name)));
  for (auto& p : e.paths) {
    auto st = p->get_status();
    bool taken = same_network_path(st.trid, req.trid);
    for (auto& alt : st.alternates) taken |= same_network_path(alt, req.trid);
    if (taken)
      return done(with_errno(
          errc::already_exists, EALREADY,
          fmt::format("A controller named {} already exists with the specified network path", req.name)));
  }
  if (req.trid.subnqn != e.subnqn)
    return done(error{errc::invalid_argument,
                      fmt::format("A controller named {} already exists for subsystem {}: another path must lead to "
                                  "the same subsystem, not {}",
                                  req.name, e.subnqn, req.trid.subnqn)});
  uint64_t id = e.id;
  nvme_path::connect_async(pool_, std::move(req), [this, id] { mark_dirty(id); },
                           [this, id, done](result<std::unique_ptr<nvme_path>> path) mutable {
                             if (!path) return done(connect_error(path.take_err()));
                             add_connected_path(id, std::move(*path), std::move(done));
                           });
}

void nvme_controller_registry::add_connected_path(uint64_t entry_id, std::unique_ptr<nvme_path> path,
                                                  completion<std::vector<std::string>> done) {
  nvme_attach_request req = path->request();
  std::string at = where(req);
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](auto& e) { return e->id == entry_id; });
  if (it == entries_.end())  // cannot happen while the caller holds the control token
    return discard_then(std::move(path), std::move(done),
                        error{errc::not_found, fmt::format("Controller {} not found", req.name)});
  nvme_controller_entry& e = **it;
  auto st = path->get_status();
  if (!st.ctrl)
    return discard_then(std::move(path), std::move(done),
                        error{errc::io_error, fmt::format("{}: the connection was lost at once: {}", at, st.last_error),
                              EIO});
  auto ctrl = st.ctrl;
  for (auto& p : e.paths)
    if (auto other = p->get_status(); other.ctrl && other.cntlid == ctrl->cntlid())
      return discard_then(std::move(path), std::move(done),
                          error{errc::invalid_argument,
                                fmt::format("{}: this is controller {} again, which {} reaches already (a path needs "
                                            "its own controller)",
                                            at, ctrl->cntlid(), e.name)});
  std::vector<const remote_namespace*> added;
  if (auto same = check_same_namespaces(e, *ctrl, added); !same) {
    error err = same.take_err();
    err.message = fmt::format("{}: {}", at, err.message);
    return discard_then(std::move(path), std::move(done), std::move(err));
  }
  auto republished = [this, entry_id, done]() mutable {
    publisher_->publish_async(entry_id, [this, entry_id, done](result<void>) mutable {
      std::vector<std::string> names;
      for (auto& e : entries_)
        if (e->id == entry_id)
          for (auto& b : e->bdevs) names.push_back(b->name());
      done(std::move(names));
    });
  };
  if (req.multipath == "failover") {
    // Passive: the transport ID is checked, then kept for the first path to fail over to.
    std::shared_ptr<nvme_path> checked(std::move(path));
    return checked->stop_async([this, checked, entry_id, trid = req.trid, at, republished](result<void>) mutable {
      for (auto& e : entries_)
        if (e->id == entry_id) {
          e->paths.front()->add_alternate(trid);
          NVMFD_LOG_INFO("{}: added as a failover transport ID of {}", at, e->name);
        }
      republished();
    });
  }
  std::vector<std::string> names;
  for (const remote_namespace* ns : added) {
    auto b = std::make_shared<nvme_bdev>(fmt::format("{}n{}", e.name, ns->nsid), *ns, ctrl->identity(), pool_.size());
    b->policy = defaults_.policy;
    if (auto ok = bdevs_.add(b); !ok) {
      for (const std::string& n : names) (void)bdevs_.remove(n);
      return discard_then(std::move(path), std::move(done), bdev_clash(e.name, ok.take_err()));
    }
    names.push_back(b->name());
    std::lock_guard lk(mu_);
    e.bdevs.push_back(std::move(b));
    std::sort(e.bdevs.begin(), e.bdevs.end(), [](auto& a, auto& b) { return a->nsid() < b->nsid(); });
  }
  NVMFD_LOG_INFO("{}: added as a path of {} (cntlid {})", at, e.name, ctrl->cntlid());
  {
    std::lock_guard lk(mu_);
    e.paths.push_back(std::move(path));
  }
  republished();
}

// --- removal (control reactor, token held) ---

result<void> nvme_controller_registry::check_unclaimed(const nvme_controller_entry& e) const {
  for (auto& b : e.bdevs)
    if (b->claimed())
      return with_errno(errc::busy, EBUSY, fmt::format("Controller {}: bdev {} is in use by {}", e.name, b->name(),
                                                       b->claimed_by()));
  return success();
}

void nvme_controller_registry::remove_entry(std::vector<std::unique_ptr<nvme_controller_entry>>::iterator it,
                                            completion<void> done) {
  if (auto free = check_unclaimed(**it); !free) return done(free.take_err());
  // Out of entries_ first (under mu_, so after any round the publisher has started on it):
  // a round after shut_down() would publish a table with paths again, whose controllers
  // and nvme_path pointers are gone once the paths stop.
  std::shared_ptr<nvme_controller_entry> gone;
  {
    std::lock_guard lk(mu_);
    gone = std::move(*it);
    entries_.erase(it);
  }
  // Already out of bdevs_ if someone else removed it (not through this registry).
  for (auto& b : gone->bdevs)
    if (bdevs_.find(b->name()) == b) (void)bdevs_.remove(b->name());
  // The bdevs go quiet on every reactor, then the paths stop, then done.
  auto stopped = [gone, done]() mutable {
    NVMFD_LOG_INFO("{}: detached from {}", gone->name, gone->subnqn);
    done(success());
  };
  auto stop_paths = [this, gone, stopped] {
    auto left = std::make_shared<countdown>(static_cast<unsigned>(gone->paths.size()), pool_.control(), stopped);
    for (auto& p : gone->paths) p->stop_async([left](result<void>) { left->arrive(); });
  };
  auto quiet = std::make_shared<countdown>(static_cast<unsigned>(gone->bdevs.size()), pool_.control(), stop_paths);
  for (auto& b : gone->bdevs) b->shut_down_async(pool_, [quiet, b] { quiet->arrive(); });
}

void nvme_controller_registry::remove_path(std::vector<std::unique_ptr<nvme_controller_entry>>::iterator it, size_t i,
                                           completion<void> done) {
  nvme_controller_entry& e = **it;
  if (e.paths.size() == 1) return remove_entry(it, std::move(done));
  std::shared_ptr<nvme_path> gone;
  {
    std::lock_guard lk(mu_);
    gone = std::move(e.paths[i]);
    e.paths.erase(e.paths.begin() + static_cast<ptrdiff_t>(i));
  }
  // No reactor sees the path once the round has ended; then its outstanding I/O fails over
  // to the others as it stops.
  publisher_->publish_async(e.id, [gone, name = e.name, done](result<void>) mutable {
    gone->stop_async([gone, name, done](result<void>) mutable {
      auto t = gone->request().trid;
      NVMFD_LOG_INFO("{}: path {}:{} removed", name, t.traddr, t.trsvcid);
      done(success());
    });
  });
}

void nvme_controller_registry::detach_async(const std::string& name, const nvme_path_filter& filter,
                                            const std::string& owner, completion<void> done) {
  assert_on(pool_.control(), "nvme_controller_registry::detach_async");
  done = later(pool_.control(), std::move(done));
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](auto& e) { return e->name == name; });
  if (it == entries_.end()) return done(error{errc::not_found, fmt::format("Controller {} not found", name)});
  nvme_controller_entry& e = **it;
  auto not_yours = [&](const nvme_path& p) {
    return with_errno(errc::busy, EPERM,
                      fmt::format("Controller {}: path {}:{} was attached by {}, not {}; only its owner removes it", name,
                                  p.request().trid.traddr, p.request().trid.trsvcid, p.request().owner, owner));
  };
  if (!filter.names_a_path()) {
    for (auto& p : e.paths)
      if (p->request().owner != owner) return done(not_yours(*p));
    return remove_entry(it, std::move(done));
  }

  std::string why;
  for (size_t i = 0; i < e.paths.size(); ++i) {
    nvme_path& p = *e.paths[i];
    auto st = p.get_status();
    bool matches = filter_matches(st.trid, filter, why);
    for (auto& alt : st.alternates) matches |= filter_matches(alt, filter, why);
    if (!matches) continue;
    if (p.request().owner != owner) return done(not_yours(p));
    for (auto& alt : st.alternates)
      if (filter_matches(alt, filter, why)) {
        p.remove_transport(alt);
        NVMFD_LOG_INFO("{}: failover transport {}:{} removed", name, alt.traddr, alt.trsvcid);
        return done(success());
      }
    if (!st.alternates.empty()) {
      p.remove_transport(st.trid);  // moves on to the next transport ID
      NVMFD_LOG_INFO("{}: path {}:{} removed; failing over to {}:{}", name, st.trid.traddr, st.trid.trsvcid,
                     st.alternates.front().traddr, st.alternates.front().trsvcid);
      return done(success());
    }
    return remove_path(it, i, std::move(done));
  }
  done(error{errc::not_found, fmt::format("Controller {} has no path with {}", name, why)});
}

void nvme_controller_registry::detach_path_async(std::string name, std::string traddr, std::string trsvcid,
                                                 std::string owner, completion<void> done) {
  detach_async(name, path_filter(traddr, trsvcid), owner, std::move(done));
}

// One removal at a time: entries_ and the paths change under each, so the scan starts over.
struct nvme_controller_registry::matching_sweep {
  path_match m;
  std::vector<std::string> gone;
  std::vector<std::string> others;  // matching paths of other owners, for the message
  completion<std::vector<std::string>> done;
};

void nvme_controller_registry::detach_matching_async(const path_match& m, completion<std::vector<std::string>> done) {
  assert_on(pool_.control(), "nvme_controller_registry::detach_matching_async");
  auto sweep = std::make_shared<matching_sweep>();
  sweep->m = m;
  sweep->done = later(pool_.control(), std::move(done));
  next_matching(sweep);
}

void nvme_controller_registry::next_matching(std::shared_ptr<matching_sweep> sweep) {
  const path_match& m = sweep->m;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    nvme_controller_entry& e = **it;
    if (m.subnqn && e.subnqn != *m.subnqn) continue;
    for (size_t i = 0; i < e.paths.size(); ++i) {
      auto req = e.paths[i]->request();
      if ((m.traddr && req.trid.traddr != *m.traddr) || (m.trsvcid && req.trid.trsvcid != *m.trsvcid)) continue;
      std::string what = fmt::format("{} {}:{} ({})", e.name, req.trid.traddr, req.trid.trsvcid, req.owner);
      if (!m.owner.empty() && req.owner != m.owner) {
        if (std::find(sweep->others.begin(), sweep->others.end(), what) == sweep->others.end())
          sweep->others.push_back(what);
        continue;
      }
      return remove_path(it, i, [this, sweep, what](result<void> r) mutable {
        if (!r) return sweep->done(r.take_err());
        sweep->gone.push_back(what);
        next_matching(sweep);
      });
    }
  }
  if (sweep->gone.empty())
    return sweep->done(error{errc::not_found, sweep->others.empty()
                                                  ? std::string("no connection matches")
                                                  : fmt::format("no connection of {} matches; other owners' left alone: {}",
                                                                m.owner, fmt::join(sweep->others, ", "))});
  sweep->done(std::move(sweep->gone));
}

// One path at a time, so that a claimed name stops only itself.
struct nvme_controller_registry::owned_sweep {
  std::string owner;
  std::vector<std::string> gone;
  completion<std::vector<std::string>> done;
};

void nvme_controller_registry::detach_owned_async(std::string owner, completion<std::vector<std::string>> done) {
  assert_on(pool_.control(), "nvme_controller_registry::detach_owned_async");
  auto sweep = std::make_shared<owned_sweep>();
  sweep->owner = std::move(owner);
  sweep->done = later(pool_.control(), std::move(done));
  next_owned(sweep);
}

void nvme_controller_registry::next_owned(std::shared_ptr<owned_sweep> sweep) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    nvme_controller_entry& e = **it;
    for (size_t i = 0; i < e.paths.size(); ++i) {
      auto req = e.paths[i]->request();
      if (req.owner != sweep->owner) continue;
      std::string what = fmt::format("{} {}:{}", e.name, req.trid.traddr, req.trid.trsvcid);  // e may go
      if (e.paths.size() == 1)
        if (auto free = check_unclaimed(e); !free) {
          NVMFD_LOG_WARN("{}: {} stays: {}", sweep->owner, what, free.err().message);
          continue;
        }
      return remove_path(it, i, [this, sweep, what](result<void> r) mutable {
        if (!r) {  // not met: the claims were checked above
          NVMFD_LOG_WARN("{}: {} stays: {}", sweep->owner, what, r.err().message);
          return sweep->done(std::move(sweep->gone));
        }
        sweep->gone.push_back(std::move(what));
        next_owned(sweep);
      });
    }
  }
  sweep->done(std::move(sweep->gone));
}

result<void> nvme_controller_registry::set_multipath_policy(const std::string& bdev_name, const multipath_policy& p) {
  auto [e, b] = find_bdev(bdev_name);
  if (!b) return error{errc::not_found, fmt::format("nvme bdev {} not found", bdev_name)};
  {
    std::lock_guard lk(mu_);
    b->policy = p;
  }
  republish(*const_cast<nvme_controller_entry*>(e));
  return success();
}

result<void> nvme_controller_registry::set_preferred(const std::string& bdev_name,
                                                    const std::function<bool(const nvme_path::status&)>& is_it,
                                                    const std::string& what) {
  auto [e, b] = find_bdev(bdev_name);
  if (!b) return error{errc::not_found, fmt::format("nvme bdev {} not found", bdev_name)};
  for (auto& p : e->paths)
    if (is_it(p->get_status())) {
      {
        std::lock_guard lk(mu_);
        b->preferred_path = p->id();
      }
      republish(*const_cast<nvme_controller_entry*>(e));
      return success();
    }
  return error{errc::not_found, fmt::format("{} has no path {}", bdev_name, what)};
}

result<void> nvme_controller_registry::set_preferred_path(const std::string& bdev_name, cntlid_t cntlid) {
  return set_preferred(
      bdev_name, [&](const nvme_path::status& st) { return st.ctrl && st.cntlid == cntlid; },
      fmt::format("connected to controller {}", cntlid));
}

result<void> nvme_controller_registry::set_preferred_path(const std::string& bdev_name, const std::string& traddr,
                                                          const std::string& trsvcid) {
  return set_preferred(
      bdev_name, [&](const nvme_path::status& st) { return st.trid.traddr == traddr && st.trid.trsvcid == trsvcid; },
      fmt::format("to {}:{}", traddr, trsvcid));
}

std::shared_ptr<const nvme_bdev_paths> nvme_controller_registry::build_table(
    const nvme_controller_entry& e, nvme_bdev& b, const std::vector<nvme_path::status>& statuses) {
  auto t = std::make_shared<nvme_bdev_paths>();
  t->policy = b.policy;
  if (!e.paths.empty())
    t->io_fail_timeout_ms = e.paths.front()->request().reconnect.fast_io_fail_timeout_sec * 1000;
  // The preferred path first, then attach order.
  std::vector<size_t> order;
  for (size_t i = 0; i < e.paths.size(); ++i)
    if (e.paths[i]->id() == b.preferred_path) order.push_back(i);
  for (size_t i = 0; i < e.paths.size(); ++i)
    if (e.paths[i]->id() != b.preferred_path) order.push_back(i);
  for (size_t i : order) {
    const nvme_path::status& st = statuses[i];
    if (st.state == path_state::failed || st.state == path_state::deleting) continue;  // given up
    nvme_bdev_path p;
    p.path = e.paths[i].get();
    p.nsid = b.nsid();
    p.stats = b.stats_for(p.path->id());
    auto ana = nvme_path::ana_state_of(st, b.anagrpid());
    p.ana = ana.value_or(ana_state::inaccessible);  // a group the controller does not list
    if (st.ctrl) {
      // Active through this controller: at its connect, or since by a namespace event.
      if (!st.sizes.count(b.nsid().value)) continue;  // not (or no longer) attached through it
      p.ctrl = st.ctrl;
      p.max_blocks_per_cmd = std::max(1u, std::min(st.ctrl->max_transfer_bytes() / b.block_size(), max_nlb_per_command));
    }
    t->paths.push_back(std::move(p));
  }
  return t;
}

void nvme_controller_registry::republish(nvme_controller_entry& e) { publisher_->publish_and_wait(e.id); }

registry_publisher::published nvme_controller_registry::publish_tables(const std::set<uint64_t>& ids) {
  registry_publisher::published out;
  std::vector<std::pair<std::shared_ptr<nvme_bdev>, uint64_t>> resized;
  {
    std::lock_guard lk(mu_);
    for (auto& e : entries_) {
      if (!ids.count(e->id)) continue;
      // Retired before the statuses are read: a controller retired later is still in them
      // and waits for the next round (its path marks the entry dirty after retiring it).
      for (auto& p : e->paths)
        for (auto& c : p->take_retired()) out.retired.push_back(std::move(c));
      std::vector<nvme_path::status> statuses;
      for (auto& p : e->paths) statuses.push_back(p->get_status());
      for (auto& b : e->bdevs) {
        b->publish(build_table(*e, *b, statuses));
        out.bdevs.push_back(b);
        if (auto n = newest_size(statuses, b->nsid()); n && *n != b->num_blocks()) resized.emplace_back(b, *n);
      }
      if (!adopting_.count(e->id) && !unadopted_locked(*e, statuses).empty()) {
        adopting_.insert(e->id);
        std::weak_ptr<int> life = life_;
        control_.acquire([this, life, id = e->id](control_queue::token turn) {
          if (life.lock()) adopt_namespaces(id, std::move(turn));
        });
      }
    }
  }
  // Outside the lock: resize observers (an nvmf target exporting the bdev) send events.
  for (auto& [b, n] : resized) {
    NVMFD_LOG_INFO("{}: the remote namespace now has {} blocks (was {})", b->name(), n, b->num_blocks());
    b->resize(n);
  }
  return out;
}

void nvme_controller_registry::set_findings_sink(findings_sink sink) {
  std::vector<std::pair<std::string, std::pair<std::vector<discovery_entry>, transport_id>>> held;
  {
    std::lock_guard lk(findings_mu_);
    findings_sink_ = sink;
    held.assign(findings_.begin(), findings_.end());
  }
  if (sink)
    for (auto& [source, view] : held) sink(source, view.first, view.second);
}

void nvme_controller_registry::report_findings(const std::string& source, std::vector<discovery_entry> entries,
                                               const transport_id& reporter) {
  findings_sink sink;
  {
    std::lock_guard lk(findings_mu_);
    if (entries.empty())
      findings_.erase(source);
    else
      findings_[source] = {entries, reporter};
    sink = findings_sink_;
  }
  if (sink) sink(source, entries, reporter);
}

std::vector<std::string> nvme_controller_registry::finding_sources() const {
  std::lock_guard lk(findings_mu_);
  std::vector<std::string> out;
  for (auto& [source, view] : findings_) out.push_back(source);
  return out;
}

void nvme_controller_registry::mark_dirty(uint64_t entry_id) { publisher_->mark_dirty(entry_id); }

// --- namespaces that appear after attach ---

std::vector<std::pair<std::shared_ptr<const remote_namespace>, std::shared_ptr<host_controller>>>
nvme_controller_registry::unadopted_locked(const nvme_controller_entry& e,
                                           const std::vector<nvme_path::status>& statuses) const {
  std::vector<std::pair<std::shared_ptr<const remote_namespace>, std::shared_ptr<host_controller>>> out;
  for (auto& st : statuses) {
    if (!st.ctrl) continue;
    for (auto& [nsid, ns] : st.identified) {
      bool known = std::any_of(e.bdevs.begin(), e.bdevs.end(), [n = nsid](auto& b) { return b->nsid().value == n; }) ||
                   std::any_of(out.begin(), out.end(), [n = nsid](auto& c) { return c.first->nsid.value == n; });
      std::string why;
      if (!known && st.sizes.count(nsid) && usable(*ns, why)) out.emplace_back(ns, st.ctrl);
    }
  }
  return out;
}

void nvme_controller_registry::adopt_namespaces(uint64_t entry_id, control_queue::token turn) {
  nvme_controller_entry* e = nullptr;
  std::vector<std::pair<std::shared_ptr<const remote_namespace>, std::shared_ptr<host_controller>>> found;
  {
    std::lock_guard lk(mu_);
    adopting_.erase(entry_id);
    for (auto& x : entries_)
      if (x->id == entry_id) e = x.get();
    if (!e || e->paths.empty()) return;
    std::vector<nvme_path::status> statuses;
    for (auto& p : e->paths) statuses.push_back(p->get_status());
    found = unadopted_locked(*e, statuses);
  }
  uint32_t max_bdevs = e->paths.front()->request().max_bdevs;
  std::vector<std::string> names;
  for (auto& [ns, ctrl] : found) {
    if (e->bdevs.size() >= max_bdevs) {
      NVMFD_LOG_WARN("{}: namespace {} appeared; not made a bdev: max_bdevs ({}) reached", e->name, ns->nsid, max_bdevs);
      continue;
    }
    auto b = std::make_shared<nvme_bdev>(fmt::format("{}n{}", e->name, ns->nsid), *ns, ctrl->identity(), pool_.size());
    b->policy = defaults_.policy;
    if (auto ok = bdevs_.add(b); !ok) {
      NVMFD_LOG_WARN("{}: namespace {} appeared; not made a bdev: {}", e->name, ns->nsid, ok.err().message);
      continue;
    }
    names.push_back(b->name());
    std::lock_guard lk(mu_);
    e->bdevs.push_back(std::move(b));
    std::sort(e->bdevs.begin(), e->bdevs.end(), [](auto& a, auto& b) { return a->nsid() < b->nsid(); });
  }
  if (names.empty()) return;
  NVMFD_LOG_INFO("{}: namespaces appeared, bdevs: {}", e->name, fmt::join(names, ", "));
  // The turn is given back once every reactor has the new bdevs' tables.
  auto held = std::make_shared<control_queue::token>(std::move(turn));
  publisher_->publish_async(entry_id, [held](result<void>) {});
}

}  // namespace nvmfd
