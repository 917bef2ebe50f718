#include "target/subsystem.h"

namespace nvmfd {

bool subsystem::listens_on(const std::string& traddr, const std::string& trsvcid) const {
  for (auto& l : listeners)
    if (l.traddr == traddr && l.trsvcid == trsvcid) return true;
  return false;
}

void subsystem::set_namespace(nsid_t nsid, std::shared_ptr<const target_namespace> ns) {
  auto fresh = std::make_shared<namespace_table>(*table_);
  fresh->slots()[namespace_table::slot_of(nsid)] = std::move(ns);
  publish(std::move(fresh));
}

uint64_t subsystem::publish_reservation(nsid_t nsid) {
  if (const target_namespace* ns = table_->find(nsid)) {
    auto copy = std::make_shared<target_namespace>(*ns);
    copy->reservation = ns->reservations->view();
    set_namespace(nsid, std::move(copy));
  }
  return ns_generation();
}

bool is_wildcard_address(const std::string& traddr) { return traddr == "0.0.0.0" || traddr == "::"; }

bool subsystem::accepts_connection_on(const queue_endpoint& local) const {
  for (auto& l : listeners) {
    if (l.trtype != local.trtype || l.trsvcid != local.trsvcid) continue;
    // A wildcard listener (0.0.0.0 or ::) serves every local address on its port.
    if (l.traddr == local.traddr || is_wildcard_address(l.traddr)) return true;
    // An IPv4 connection on a dual-stack IPv6 socket shows as ::ffff:a.b.c.d.
    if (local.traddr.rfind("::ffff:", 0) == 0 && local.traddr.substr(7) == l.traddr) return true;
  }
  return false;
}

listen_address* subsystem::find_listener(const std::string& traddr, const std::string& trsvcid) {
  for (auto& l : listeners)
    if (l.traddr == traddr && l.trsvcid == trsvcid) return &l;
  return nullptr;
}

listen_address* subsystem::listener_for(const queue_endpoint& local) {
  auto same_transport = [&local](listen_address* l) { return l && l->trtype == local.trtype ? l : nullptr; };
  if (auto* l = same_transport(find_listener(local.traddr, local.trsvcid))) return l;
  std::string v4 = local.traddr.rfind("::ffff:", 0) == 0 ? local.traddr.substr(7) : std::string();
  if (!v4.empty())
    if (auto* l = same_transport(find_listener(v4, local.trsvcid))) return l;
  for (auto& l : listeners)
    if (l.trtype == local.trtype && l.trsvcid == local.trsvcid && is_wildcard_address(l.traddr)) return &l;
  return nullptr;
}

std::optional<cntlid_t> subsystem::allocate_cntlid() {
  if (min_cntlid > max_cntlid) return std::nullopt;
  uint32_t first = min_cntlid.value;
  uint32_t span = uint32_t{max_cntlid.value} - first + 1;
  for (uint32_t i = 0; i < span; ++i) {
    uint32_t offset = (next_cntlid_ + i) % span;
    cntlid_t c{static_cast<uint16_t>(first + offset)};
    auto it = controllers_.find(c);
    if (it == controllers_.end() || it->second.expired()) {
      next_cntlid_ = static_cast<uint16_t>((offset + 1) % span);
      return c;
    }
  }
  return std::nullopt;
}

}  // namespace nvmfd
