#include "target/nvmf_target.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <future>
#include <fmt/format.h>

#include "base/log.h"
#include "proto/nqn.h"
#include "reactor/countdown.h"
#include "reactor/reactor_assert.h"
#include "target/controller.h"
#include "target/ptpl_file.h"
#include "target/ptpl_writer.h"

namespace nvmfd {

namespace {
std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

error no_subsystem(const std::string& nqn) {
  return error{errc::not_found, fmt::format("subsystem {} not found", nqn)};
}
}  // namespace

nvmf_target::nvmf_target(reactor_pool& reactors)
    : reactors_(reactors), conns_(reactors.size()), drain_(reactors.size()),
      stats_(new poll_group_stats[reactors.size()]) {
  auto disc = std::make_shared<subsystem>(std::string(discovery_nqn), subsystem_kind::discovery, 0);
  disc->allow_any_host = true;
  disc->serial_number = "";
  disc->model_number = "nvmfd Discovery Controller";
  subsystems_.push_back(std::move(disc));
}

nvmf_target::~nvmf_target() {
  shutdown();
  std::map<std::pair<const subsystem*, uint32_t>, std::pair<std::shared_ptr<bdev>, uint64_t>> watches;
  {
    std::lock_guard lk(size_watch_mu_);
    watches.swap(size_watches_);
  }
  for (auto& [key, w] : watches) w.first->remove_resize_observer(w.second);
}

void nvmf_target::watch_size(const std::shared_ptr<subsystem>& s, nsid_t nsid, const std::shared_ptr<bdev>& dev) {
  std::weak_ptr<subsystem> weak = s;
  uint64_t token = dev->add_resize_observer([this, weak, nsid] {
    if (auto sub = weak.lock()) notify_resized(sub, nsid);
  });
  std::lock_guard lk(size_watch_mu_);
  size_watches_[{s.get(), nsid.value}] = {dev, token};
}

void nvmf_target::unwatch_size(const subsystem* s, nsid_t nsid) {
  std::pair<std::shared_ptr<bdev>, uint64_t> w;
  {
    std::lock_guard lk(size_watch_mu_);
    auto it = size_watches_.find({s, nsid.value});
    if (it == size_watches_.end()) return;
    w = std::move(it->second);
    size_watches_.erase(it);
  }
  w.first->remove_resize_observer(w.second);
}

void nvmf_target::notify_resized(const std::shared_ptr<subsystem>& s, nsid_t nsid) {
  std::shared_ptr<const target_namespace> ns;
  {
    std::lock_guard lk(mu_);
    auto table = s->namespaces_snapshot();
    if (!table->find(nsid)) return;
    ns = table->slots()[namespace_table::slot_of(nsid)];
    NVMFD_LOG_INFO("{} nsid {}: bdev {} resized to {} blocks", s->nqn(), nsid, ns->dev->name(), ns->dev->num_blocks());
  }
  notify_namespace_change(s, nsid, [ns](const std::string& h) { return ns->visible_to(h); });
}

reactor& nvmf_target::worker() {
  std::call_once(worker_once_, [this] { worker_ = std::make_unique<loop_thread>("target-worker"); });
  return worker_->loop();
}

void nvmf_target::shutdown() {
  assert_off_reactor("nvmf_target::shutdown");
  decltype(listeners_) ls;
  {
    std::lock_guard lk(mu_);
    ls.swap(listeners_);
  }
  ls.clear();  // unregisters from reactor 0: no connection is adopted after this
  // Every reactor (all at once) closes its connections and arrives at the countdown once its
  // connection set is empty; a closed connection leaves the set when its bdev I/O has
  // completed, so nothing in flight outlives the target. Bounded: a stuck device is
  // reported, not waited for.
  auto drained = std::make_shared<std::promise<void>>();
  auto all_drained = drained->get_future();
  auto left = std::make_shared<countdown>(reactors_.size(), reactors_.at(0), [drained] { drained->set_value(); });
  for (unsigned i = 0; i < reactors_.size(); ++i) {
    reactors_.at(i).post([this, i, left] {
      drain_[i] = left;
      for (auto& q : connections_on(i)) q->close("target shutting down");
      arrive_if_drained(i);
    });
  }
  if (all_drained.wait_for(shutdown_drain_limit) != std::future_status::ready)
    NVMFD_LOG_ERROR("shutdown: connections still wait for block-device I/O after {} s", shutdown_drain_limit.count());
}

std::vector<std::shared_ptr<target_queue>> nvmf_target::connections_on(unsigned i) const {
  std::vector<std::shared_ptr<target_queue>> all;
  all.reserve(conns_[i].size());
  for (auto& [p, sp] : conns_[i]) all.push_back(sp);
  return all;
}

void nvmf_target::arrive_if_drained(unsigned i) {
  if (!drain_[i] || !conns_[i].empty()) return;
  drain_[i]->arrive();
  drain_[i].reset();
}

void nvmf_target::changed_locked() {
  ++genctr_;
  for (auto& s : subsystems_) {
    if (s->type() != subsystem_kind::discovery) continue;
    for (auto& [id, w] : s->controllers())
      if (auto c = w.lock()) c->admin_reactor().post([c] { c->notice_discovery_log_changed(); });
  }
}

result<void> nvmf_target::add_transport(std::unique_ptr<target_transport> t) {
  std::lock_guard lk(mu_);
  if (find_transport_locked(t->name()))
    return error{errc::already_exists, fmt::format("Transport type '{}' already exists", t->name())};
  transports_.push_back(std::move(t));
  return success();
}

target_transport* nvmf_target::find_transport_locked(std::string_view trtype) const {
  auto same = [trtype](std::string_view name) {
    return std::equal(name.begin(), name.end(), trtype.begin(), trtype.end(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                  std::tolower(static_cast<unsigned char>(b)); });
  };
  for (auto& t : transports_)
    if (same(t->name())) return t.get();
  return nullptr;
}

target_transport* nvmf_target::find_transport(std::string_view trtype) const {
  std::lock_guard lk(mu_);
  return find_transport_locked(trtype);
}

std::vector<target_transport*> nvmf_target::transports() const {
  std::lock_guard lk(mu_);
  std::vector<target_transport*> out;
  for (auto& t : transports_) out.push_back(t.get());
  return out;
}

std::shared_ptr<subsystem> nvmf_target::find_locked(const std::string& nqn) const {
  for (auto& s : subsystems_)
    if (s->nqn() == nqn) return s;
  return nullptr;
}

std::shared_ptr<subsystem> nvmf_target::find_subsystem_locked(const std::string& nqn) const { return find_locked(nqn); }

std::vector<std::shared_ptr<subsystem>> nvmf_target::subsystems() const {
  std::lock_guard lk(mu_);
  return subsystems_;
}

result<std::shared_ptr<subsystem>> nvmf_target::create_subsystem(const subsystem_params& p) {
  if (auto v = validate_nqn(p.nqn); !v) return v.take_err();
  if (p.nqn == discovery_nqn) return error{errc::invalid_argument, "the discovery subsystem exists already"};
  if (p.max_namespaces == 0 || p.max_namespaces > 1024)
    return error{errc::invalid_argument, "max_namespaces must be 1..1024"};
  if (p.min_cntlid.value < 1 || p.max_cntlid.value > 0xffef || p.min_cntlid > p.max_cntlid)
    return error{errc::invalid_argument, "need 1 <= min_cntlid <= max_cntlid <= 65519"};
  if (p.serial_number.size() > 20) return error{errc::invalid_argument, "serial_number longer than 20 characters"};
  if (p.model_number.size() > 40) return error{errc::invalid_argument, "model_number longer than 40 characters"};
  for (char c : p.serial_number + p.model_number)
    if (c < 0x20 || c > 0x7e) return error{errc::invalid_argument, "serial_number/model_number must be printable ASCII"};
  std::lock_guard lk(mu_);
  if (find_locked(p.nqn)) return error{errc::already_exists, fmt::format("subsystem {} already exists", p.nqn)};
  auto s = std::make_shared<subsystem>(p.nqn, subsystem_kind::nvme, p.max_namespaces);
  if (!p.serial_number.empty()) s->serial_number = p.serial_number;
  if (!p.model_number.empty()) s->model_number = p.model_number;
  s->allow_any_host = p.allow_any_host;
  s->ana_reporting = p.ana_reporting;
  s->min_cntlid = p.min_cntlid;
  s->max_cntlid = p.max_cntlid;
  subsystems_.push_back(s);
  changed_locked();
  return s;
}

result<void> nvmf_target::delete_subsystem(const std::string& nqn) {
  std::shared_ptr<subsystem> s;
  std::vector<listen_address> ls;
  std::vector<std::shared_ptr<controller>> ctrls;
  {
    std::lock_guard lk(mu_);
    s = find_locked(nqn);
    if (!s) return no_subsystem(nqn);
    if (s->type() == subsystem_kind::discovery) return error{errc::invalid_argument, "cannot delete the discovery subsystem"};
    std::erase(subsystems_, s);
    ls = s->listeners;
    for (auto& [id, w] : s->controllers())
      if (auto c = w.lock()) ctrls.push_back(c);
    changed_locked();
  }
  for (auto& ns : s->namespaces_snapshot()->slots())
    if (ns) {
      ns->dev->release();
      unwatch_size(s.get(), ns->nsid);
    }
  disconnect_controllers(ctrls, "subsystem deleted");
  for (auto& a : ls) stop_listening_if_unused(a);
  return success();
}

result<void> nvmf_target::ensure_listening(const listen_address& a) {
  auto key = std::make_tuple(a.trtype, a.traddr, a.trsvcid);
  target_transport* transport;
  {
    std::lock_guard lk(mu_);
    if (listeners_.count(key)) return success();
    transport = find_transport_locked(a.trtype);
  }
  if (!transport) return error{errc::invalid_argument, fmt::format("no transport '{}'", a.trtype)};
  auto l = transport->listen(a);
  if (!l) return l.take_err();
  std::lock_guard lk(mu_);
  listeners_.emplace(key, std::move(l.value()));
  port_id_locked(a);
  return success();
}

void nvmf_target::stop_listening_if_unused(const listen_address& a) {
  std::unique_ptr<transport_listener> victim;
  {
    std::lock_guard lk(mu_);
    for (auto& s : subsystems_)
      if (s->listens_on(a.traddr, a.trsvcid)) return;
    auto it = listeners_.find({a.trtype, a.traddr, a.trsvcid});
    if (it == listeners_.end()) return;
    victim = std::move(it->second);
    listeners_.erase(it);
  }
  victim.reset();
}

uint16_t nvmf_target::port_id_locked(const listen_address& a) {
  auto key = std::make_pair(a.traddr, a.trsvcid);
  auto it = port_ids_.find(key);
  if (it != port_ids_.end()) return it->second;
  uint16_t id = static_cast<uint16_t>(port_ids_.size() + 1);
  port_ids_.emplace(key, id);
  return id;
}

result<void> nvmf_target::add_listener(const std::string& nqn, const listen_address& a) {
  listen_address norm = a;
  {
    std::lock_guard lk(mu_);
    auto* transport = find_transport_locked(a.trtype);
    if (!transport && !transport_type_named(a.trtype))
      return error{errc::invalid_argument, fmt::format("trtype '{}' is not supported", a.trtype)};
    if (!transport)
      return error{errc::invalid_argument,
                   fmt::format("create the {} transport first (nvmf_create_transport)", upper(a.trtype))};
    norm.trtype = transport->name();
    auto s = find_locked(nqn);
    if (!s) return no_subsystem(nqn);
    if (s->listens_on(a.traddr, a.trsvcid))
      return error{errc::already_exists, fmt::format("{} already listens on {}:{}", nqn, a.traddr, a.trsvcid)};
    // One port is either TLS or clear text for every subsystem on it (a secure listener
    // only accepts TLS).
    for (auto& other : subsystems_)
      for (auto& l : other->listeners)
        if (l.trtype == norm.trtype && l.traddr == a.traddr && l.trsvcid == a.trsvcid &&
            l.secure_channel != a.secure_channel)
          return error{errc::invalid_argument,
                       fmt::format("{}:{} is already a {} listener (of {})", a.traddr, a.trsvcid,
                                   l.secure_channel ? "secure_channel" : "clear-text", other->nqn())};
  }
  if (auto r = ensure_listening(norm); !r) return r;
  std::unique_lock lk(mu_);
  auto s = find_locked(nqn);
  if (!s) return no_subsystem(nqn);
  if (ana_manager_)
    for (uint32_t g = 1; g <= s->max_namespaces(); ++g)
      if (auto st = ana_manager_->state_of(nqn, g); st && *st != ana_state::optimized) norm.ana_states[g] = *st;
  s->listeners.push_back(norm);
  changed_locked();
  lk.unlock();
  notify_discovery_listener_observers(nqn);
  return success();
}

result<void> nvmf_target::remove_listener(const std::string& nqn, const listen_address& a) {
  std::vector<std::shared_ptr<controller>> ctrls;
  {
    std::lock_guard lk(mu_);
    auto s = find_locked(nqn);
    if (!s) return no_subsystem(nqn);
    auto it = std::find(s->listeners.begin(), s->listeners.end(), a);
    if (it == s->listeners.end())
      return error{errc::not_found, fmt::format("{} has no listener {}:{}", nqn, a.traddr, a.trsvcid)};
    s->listeners.erase(it);
    // An admin Connect resolves its listener under mu() and fails without one, so no
    // controller can join the removed listener after this.
    for (auto& [id, w] : s->controllers())
      if (auto c = w.lock(); c && c->connected_through(a.traddr, a.trsvcid)) ctrls.push_back(c);
    changed_locked();
  }
  disconnect_controllers(ctrls, "listener removed");
  stop_listening_if_unused(a);
  notify_discovery_listener_observers(nqn);
  return success();
}

void nvmf_target::add_discovery_listener_observer(discovery_listener_observer o) {
  discovery_listener_observers_.push_back(std::move(o));
}

void nvmf_target::notify_discovery_listener_observers(const std::string& nqn) {
  if (nqn != discovery_nqn) return;
  for (auto& o : discovery_listener_observers_) o();
}

result<nsid_t> nvmf_target::add_namespace(const std::string& nqn, const namespace_params& p) {
  std::shared_ptr<subsystem> s;
  std::shared_ptr<const target_namespace> added;
  nsid_t nsid;
  {
    std::lock_guard lk(mu_);
    s = find_locked(nqn);
    if (!s) return no_subsystem(nqn);
    if (s->type() == subsystem_kind::discovery) return error{errc::invalid_argument, "the discovery subsystem has no namespaces"};
    if (p.dev->claimed())
      return error{errc::busy, fmt::format("bdev {} is already in use by {}", p.dev->name(), p.dev->claimed_by())};
    auto old = s->namespaces_snapshot();
    nsid = p.nsid;
    if (nsid.value == 0) {
      for (nsid_t i{1}; i <= old->max_nsid(); ++i.value)
        if (!old->find(i)) {
          nsid = i;
          break;
        }
      if (nsid.value == 0) return error{errc::invalid_argument, fmt::format("{} has no free namespace ID", nqn)};
    } else if (nsid > old->max_nsid()) {
      return error{errc::invalid_argument, fmt::format("nsid {} is above max_namespaces {}", nsid, old->max_nsid())};
    } else if (old->find(nsid)) {
      return error{errc::already_exists, fmt::format("nsid {} already exists in {}", nsid, nqn)};
    }
    // ANA group IDs run 1..ANAGRPMAX, which is max_namespaces (as in SPDK).
    if (p.anagrpid > old->max_nsid().value)
      return error{errc::invalid_argument,
                   fmt::format("anagrpid {} is above max_namespaces {}", p.anagrpid, old->max_nsid())};
    if (auto a = admit_locked(nqn, p.anagrpid ? p.anagrpid : nsid.value, *p.dev); !a) return a.take_err();
    auto ns = std::make_shared<target_namespace>();
    ns->nsid = nsid;
    ns->dev = p.dev;
    ns->id = p.id ? *p.id : (p.dev->id().is_zero() ? uuid::random_v4() : p.dev->id());
    ns->nguid = p.nguid ? *p.nguid : ns->id.bytes;
    ns->eui64 = p.eui64;
    ns->anagrpid = p.anagrpid ? p.anagrpid : nsid.value;
    ns->auto_visible = !p.no_auto_visible;
    if (!p.ptpl_file.empty()) {
      if (auto r = check_ptpl_file_unused_locked(p.ptpl_file); !r) return r.take_err();
      if (auto r = restore_reservation(*ns, p.ptpl_file); !r) return r.take_err();
    }
    s->set_namespace(nsid, ns);
    p.dev->claim(fmt::format("{} nsid {}", nqn, nsid));
    added = ns;
  }
  watch_size(s, nsid, p.dev);
  notify_namespace_change(s, nsid, [added](const std::string& h) { return added->visible_to(h); });
  return nsid;
}

result<void> nvmf_target::check_ptpl_file_unused_locked(const std::string& ptpl_file) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path wanted = fs::weakly_canonical(ptpl_file, ec);
  for (auto& sub : subsystems_)
    for (auto& ns : sub->namespaces_snapshot()->slots()) {
      if (!ns || !ns->ptpl) continue;
      std::error_code ec2;
      if (fs::weakly_canonical(ns->ptpl->path(), ec2) == wanted)
        return error{errc::already_exists, fmt::format("ptpl_file {} is already the reservation file of {} nsid {}",
                                                       ptpl_file, sub->nqn(), ns->nsid)};
    }
  return success();
}

result<void> nvmf_target::restore_reservation(target_namespace& ns, const std::string& ptpl_file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = fs::path(ptpl_file).parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec))
    return error{errc::invalid_argument, fmt::format("ptpl_file {}: directory {} does not exist", ptpl_file, dir.string())};
  auto rec = load_ptpl_file(ptpl_file, ns.bdev_identity());
  if (!rec) return rec.take_err();
  ns.ptpl = std::make_shared<ptpl_writer>(ptpl_file);
  if (*rec) {
    auto& r = **rec;
    ns.reservations->restore(r.registrants, r.rtype, r.holder, r.ptpl);
    ns.reservation = ns.reservations->view();
    NVMFD_LOG_INFO("nsid {}: reservation restored from {}: {} registrant(s), type {}", ns.nsid, ptpl_file,
                   r.registrants.size(), static_cast<int>(r.rtype));
  }
  return success();
}

result<void> nvmf_target::remove_namespace(const std::string& nqn, nsid_t nsid) {
  found_namespace f;
  {
    std::lock_guard lk(mu_);
    auto found = find_namespace_locked(nqn, nsid);
    if (!found) return found.take_err();
    f = std::move(*found);
    f.ns->dev->release();
    f.s->set_namespace(nsid, nullptr);
  }
  unwatch_size(f.s.get(), nsid);
  // Only the hosts that could see it are told.
  notify_namespace_change(f.s, nsid, [ns = f.ns](const std::string& h) { return ns->visible_to(h); });
  return success();
}

result<nvmf_target::found_namespace> nvmf_target::find_namespace_locked(const std::string& nqn, nsid_t nsid) const {
  auto s = find_locked(nqn);
  if (!s) return no_subsystem(nqn);
  auto table = s->namespaces_snapshot();
  if (!table->find(nsid)) return error{errc::not_found, fmt::format("{} has no namespace {}", nqn, nsid)};
  return found_namespace{std::move(s), table->slots()[namespace_table::slot_of(nsid)]};
}

result<void> nvmf_target::ns_add_host(const std::string& nqn, nsid_t nsid, const std::string& hostnqn) {
  if (auto v = validate_nqn(hostnqn); !v) return v.take_err();
  return change_visibility(nqn, nsid, hostnqn, true);
}

result<void> nvmf_target::ns_remove_host(const std::string& nqn, nsid_t nsid, const std::string& hostnqn) {
  return change_visibility(nqn, nsid, hostnqn, false);
}

result<void> nvmf_target::change_visibility(const std::string& nqn, nsid_t nsid, const std::string& hostnqn, bool add) {
  std::shared_ptr<subsystem> s;
  {
    std::lock_guard lk(mu_);
    auto found = find_namespace_locked(nqn, nsid);
    if (!found) return found.take_err();
    s = found->s;
    if (found->ns->auto_visible)
      return error{errc::invalid_argument,
                   fmt::format("namespace {} of {} is visible to every host (added without no_auto_visible)", nsid, nqn)};
    auto copy = std::make_shared<target_namespace>(*found->ns);
    auto& hosts = copy->visible_hosts;
    auto it = std::lower_bound(hosts.begin(), hosts.end(), hostnqn);
    const bool listed = it != hosts.end() && *it == hostnqn;
    if (add && listed)
      return error{errc::already_exists, fmt::format("namespace {} of {} is visible to {} already", nsid, nqn, hostnqn)};
    if (!add && !listed)
      return error{errc::not_found, fmt::format("namespace {} of {} is not visible to {}", nsid, nqn, hostnqn)};
    if (add)
      hosts.insert(it, hostnqn);
    else
      hosts.erase(it);
    s->set_namespace(nsid, std::move(copy));
  }
  notify_namespace_change(s, nsid, [&hostnqn](const std::string& h) { return h == hostnqn; });
  return success();
}

void nvmf_target::notify_namespace_change(const std::shared_ptr<subsystem>& s, nsid_t nsid,
                                          const std::function<bool(const std::string& hostnqn)>& concerns) {
  std::vector<std::shared_ptr<controller>> ctrls;
  {
    std::lock_guard lk(mu_);
    for (auto& [id, w] : s->controllers())
      if (auto c = w.lock(); c && concerns(c->hostnqn())) ctrls.push_back(c);
  }
  for (auto& c : ctrls)
    c->admin_reactor().post([c, nsid] { c->notice_namespaces_changed({nsid}); });
}

result<void> nvmf_target::set_ana_state(const std::string& nqn, const listen_address& a, ana_state st,
                                        std::optional<uint32_t> anagrpid) {
  std::lock_guard lk(mu_);
  auto s = find_locked(nqn);
  if (!s) return no_subsystem(nqn);
  if (s->type() == subsystem_kind::discovery) return error{errc::invalid_argument, "the discovery subsystem has no ANA groups"};
  auto* l = s->find_listener(a.traddr, a.trsvcid);
  if (!l) return error{errc::not_found, fmt::format("{} has no listener {}:{}", nqn, a.traddr, a.trsvcid)};
  uint32_t max = s->max_namespaces();
  if (anagrpid && (*anagrpid == 0 || *anagrpid > max))
    return error{errc::invalid_argument, fmt::format("anagrpid must be 1..{}", max)};
  uint32_t first = anagrpid ? *anagrpid : 1, last = anagrpid ? *anagrpid : max;
  if (anagrpid && managed_ana_state_locked(nqn, *anagrpid))
    return error{errc::invalid_argument, fmt::format("ANA group {} of {} is managed by {}", *anagrpid, nqn, ana_manager_->name)};
  bool changed = false;
  for (uint32_t g = first; g <= last; ++g) {
    if (l->state_of(g) == st || managed_ana_state_locked(nqn, g)) continue;
    changed = true;
    if (st == ana_state::optimized) {
      l->ana_states.erase(g);
    } else {
      l->ana_states[g] = st;
    }
  }
  if (!changed) return success();
  ++l->ana_chgcnt;
  s->republish();
  notify_ana_change_locked(*s, l);
  return success();
}

void nvmf_target::set_ana_manager(std::optional<ana_manager> m) {
  std::lock_guard lk(mu_);
  ana_manager_ = std::move(m);
}

std::optional<ana_state> nvmf_target::managed_ana_state_locked(const std::string& nqn, uint32_t anagrpid) const {
  if (!ana_manager_) return std::nullopt;
  return ana_manager_->state_of(nqn, anagrpid);
}

result<void> nvmf_target::admit_locked(const std::string& nqn, uint32_t anagrpid, const bdev& dev) const {
  if (!ana_manager_ || !ana_manager_->admit) return success();
  return ana_manager_->admit(nqn, anagrpid, dev);
}

size_t nvmf_target::apply_managed_ana_state(uint32_t anagrpid, ana_state st) {
  std::lock_guard lk(mu_);
  size_t changed = 0;
  for (auto& s : subsystems_) {
    if (s->type() != subsystem_kind::nvme || anagrpid == 0 || anagrpid > s->max_namespaces()) continue;
    for (auto& l : s->listeners) {
      if (l.state_of(anagrpid) == st) continue;
      if (st == ana_state::optimized)
        l.ana_states.erase(anagrpid);
      else
        l.ana_states[anagrpid] = st;
      ++l.ana_chgcnt;
      ++changed;
      s->republish();
      notify_ana_change_locked(*s, &l);
    }
  }
  return changed;
}

result<void> nvmf_target::set_ns_ana_group(const std::string& nqn, nsid_t nsid, uint32_t anagrpid) {
  std::lock_guard lk(mu_);
  auto found = find_namespace_locked(nqn, nsid);
  if (!found) return found.take_err();
  auto& s = found->s;
  if (anagrpid == 0 || anagrpid > s->max_namespaces())
    return error{errc::invalid_argument, fmt::format("anagrpid must be 1..{}", s->max_namespaces())};
  if (found->ns->anagrpid == anagrpid) return success();
  if (auto a = admit_locked(nqn, anagrpid, *found->ns->dev); !a) return a;
  auto moved = std::make_shared<target_namespace>(*found->ns);
  moved->anagrpid = anagrpid;
  s->set_namespace(nsid, std::move(moved));
  for (auto& l : s->listeners) ++l.ana_chgcnt;
  notify_ana_change_locked(*s, nullptr);
  return success();
}

void nvmf_target::notify_ana_change_locked(subsystem& s, const listen_address* a) {
  for (auto& [id, w] : s.controllers()) {
    auto c = w.lock();
    if (!c) continue;
    if (a && !c->connected_through(a->traddr, a->trsvcid)) continue;
    c->admin_reactor().post([c] { c->notice_ana_changed(); });
  }
}

result<std::vector<listen_address>> nvmf_target::listeners(const std::string& nqn) const {
  std::lock_guard lk(mu_);
  auto s = find_locked(nqn);
  if (!s) return no_subsystem(nqn);
  return s->listeners;
}

result<void> nvmf_target::add_host(const std::string& nqn, const std::string& hostnqn,
                                   std::optional<subsystem::host_psk> psk) {
  if (auto v = validate_nqn(hostnqn); !v) return v.take_err();
  std::lock_guard lk(mu_);
  auto s = find_locked(nqn);
  if (!s) return no_subsystem(nqn);
  // The discovery subsystem allows every host; a host listed there is one with keys to
  // authenticate with (SPDK: nvmf_subsystem_add_host on the discovery NQN with --dhchap-key).
  if (!s->hosts.insert(hostnqn).second)
    return error{errc::already_exists, fmt::format("host {} is already allowed on {}", hostnqn, nqn)};
  if (psk) s->host_psks[hostnqn] = std::move(*psk);
  changed_locked();
  return success();
}

result<void> nvmf_target::remove_host(const std::string& nqn, const std::string& hostnqn) {
  std::vector<std::shared_ptr<controller>> ctrls;
  {
    std::lock_guard lk(mu_);
    auto s = find_locked(nqn);
    if (!s) return no_subsystem(nqn);
    if (!s->hosts.erase(hostnqn))
      return error{errc::not_found, fmt::format("host {} is not on the allow list of {}", hostnqn, nqn)};
    s->host_keys.erase(hostnqn);
    s->host_psks.erase(hostnqn);
    changed_locked();
    if (!s->allow_any_host)
      for (auto& [id, w] : s->controllers())
        if (auto c = w.lock(); c && c->hostnqn() == hostnqn) ctrls.push_back(c);
  }
  // SPDK disconnects the removed host's controllers; so do we.
  disconnect_controllers(ctrls, "host removed from the allow list");
  return success();
}

result<void> nvmf_target::set_allow_any_host(const std::string& nqn, bool allow) {
  std::lock_guard lk(mu_);
  auto s = find_locked(nqn);
  if (!s) return no_subsystem(nqn);
  if (s->type() == subsystem_kind::discovery && !allow)
    return error{errc::invalid_argument, "the discovery subsystem allows every host"};
  if (s->allow_any_host == allow) return success();
  s->allow_any_host = allow;
  changed_locked();
  return success();
}

result<void> nvmf_target::add_referral(const discovery_referral& r) {
  if (auto v = validate_nqn(r.subnqn); !v) return v.take_err();
  std::lock_guard lk(mu_);
  for (auto& have : referrals_)
    if (have.same_as(r)) return success();
  referrals_.push_back(r);
  changed_locked();
  return success();
}

result<void> nvmf_target::remove_referral(const discovery_referral& r) {
  std::lock_guard lk(mu_);
  auto it = std::find_if(referrals_.begin(), referrals_.end(), [&r](auto& have) { return have.same_as(r); });
  if (it == referrals_.end())
    return error{errc::not_found, fmt::format("no referral to {}:{} for {}", r.address.traddr, r.address.trsvcid,
                                              r.subnqn)};
  referrals_.erase(it);
  changed_locked();
  return success();
}

std::vector<discovery_referral> nvmf_target::referrals() const {
  std::lock_guard lk(mu_);
  return referrals_;
}

result<void> nvmf_target::add_registration(const discovery_registration& r) {
  if (auto v = validate_nqn(r.subnqn); !v) return v.take_err();
  if (is_discovery_nqn(r.subnqn))
    return error{errc::invalid_argument, "subnqn: a registration names an NVM subsystem (a discovery service is a referral)"};
  std::lock_guard lk(mu_);
  for (auto& have : registrations_)
    if (have == r) return success();
  registrations_.push_back(r);
  changed_locked();
  return success();
}

result<void> nvmf_target::remove_registration(const discovery_registration& r) {
  std::lock_guard lk(mu_);
  auto it = std::find(registrations_.begin(), registrations_.end(), r);
  if (it == registrations_.end())
    return error{errc::not_found, fmt::format("no registration of {} at {}:{} by {}", r.subnqn, r.address.traddr,
                                              r.address.trsvcid, r.source)};
  registrations_.erase(it);
  changed_locked();
  return success();
}

void nvmf_target::set_registrations(const std::string& source, std::vector<discovery_registration> regs) {
  std::lock_guard lk(mu_);
  std::vector<discovery_registration> kept, before;
  for (auto& r : registrations_) (r.source == source ? before : kept).push_back(r);
  for (auto& r : regs) r.source = source;
  if (before == regs) return;  // nothing new: no new generation, no notice
  kept.insert(kept.end(), regs.begin(), regs.end());
  registrations_ = std::move(kept);
  changed_locked();
}

void nvmf_target::set_found_referrals(const std::string& source, std::vector<discovery_referral> refs) {
  std::lock_guard lk(mu_);
  auto it = found_referrals_.find(source);
  auto same = [](const std::vector<discovery_referral>& a, const std::vector<discovery_referral>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!a[i].same_as(b[i])) return false;
    return true;
  };
  if (refs.empty()) {
    if (it == found_referrals_.end()) return;
    found_referrals_.erase(it);
  } else {
    if (it != found_referrals_.end() && same(it->second, refs)) return;
    found_referrals_[source] = std::move(refs);
  }
  changed_locked();
}

std::vector<std::string> nvmf_target::found_referral_sources() const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (auto& [src, refs] : found_referrals_) out.push_back(src);
  return out;
}

std::vector<discovery_registration> nvmf_target::registrations() const {
  std::lock_guard lk(mu_);
  return registrations_;
}

void nvmf_target::set_discovery_filter(const discovery_filter& f) {
  std::lock_guard lk(mu_);
  if (disc_filter_ == f) return;
  disc_filter_ = f;
  changed_locked();
}

discovery_filter nvmf_target::current_discovery_filter() const {
  std::lock_guard lk(mu_);
  return disc_filter_;
}

result<std::vector<controller_info>> nvmf_target::controllers(const std::string& nqn) const {
  std::lock_guard lk(mu_);
  auto s = find_locked(nqn);
  if (!s) return no_subsystem(nqn);
  std::vector<controller_info> out;
  for (auto& [id, w] : s->controllers())
    if (auto c = w.lock())
      out.push_back({c->cntlid(), c->hostnqn(), c->hostid(), c->io_queue_count(), c->secure_channel});
  return out;
}

void nvmf_target::disconnect_controllers(const std::vector<std::shared_ptr<controller>>& ctrls, const char* why) {
  if (ctrls.empty()) return;
  auto doomed = [&ctrls](const target_queue& q) {
    return std::any_of(ctrls.begin(), ctrls.end(), [&q](auto& c) { return c == q.ctrl_ptr(); });
  };
  // Admin queues first: closing one ends its controller, which then takes no new I/O
  // queue (controller::register_io_queue). Then the I/O queues that had joined.
  for (bool admin_only : {true, false}) {
    for (unsigned i = 0; i < reactors_.size(); ++i) {
      reactors_.run_on(i, [&, i] {
        std::vector<std::shared_ptr<target_queue>> victims;
        for (auto& [p, sp] : conns_[i])
          if (doomed(*sp) && (!admin_only || sp->is_admin())) victims.push_back(sp);
        for (auto& q : victims) q->close(why);
      });
    }
  }
}

void nvmf_target::adopt_queue(std::shared_ptr<target_queue> q) {
  unsigned idx = q->owner().index();
  conns_[idx].emplace(q.get(), std::move(q));
}

void nvmf_target::release_queue(target_queue* q) {
  unsigned idx = q->owner().index();
  q->owner().post([this, idx, q] {
    conns_[idx].erase(q);
    arrive_if_drained(idx);
  });
}

}  // namespace nvmfd
