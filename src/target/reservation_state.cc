#include "target/reservation_state.h"

#include <algorithm>
#include <cstring>

namespace nvmfd {

namespace {

constexpr nvme_status conflict = nvme_status::generic(sc_generic::reservation_conflict);
constexpr nvme_status invalid_field = nvme_status::generic(sc_generic::invalid_field);

}  // namespace

// --- view ---

bool reservation_view::registered(const uuid& host) const {
  return std::find(registrants_.begin(), registrants_.end(), host) != registrants_.end();
}

bool reservation_view::allows(const uuid& host, reservation_access access) const {
  if (type_ == reservation_type::none) return true;
  if (access == reservation_access::read && !excludes_readers(type_)) return true;
  if (admits_registrants(type_)) return registered(host);
  return host == holder_;
}

// --- state ---

reservation_registrant* reservation_state::find(const uuid& host) {
  auto it = std::find_if(registrants_.begin(), registrants_.end(), [&](auto& r) { return r.hostid == host; });
  return it == registrants_.end() ? nullptr : &*it;
}

bool reservation_state::is_holder(const uuid& host) const {
  if (type_ == reservation_type::none) return false;
  if (is_all_registrants(type_))
    return std::any_of(registrants_.begin(), registrants_.end(), [&](auto& r) { return r.hostid == host; });
  return holder_ == host;
}

std::optional<uuid> reservation_state::holder() const {
  if (type_ == reservation_type::none) return std::nullopt;
  if (is_all_registrants(type_)) return registrants_.empty() ? std::nullopt : std::optional(registrants_.front().hostid);
  return holder_;
}

std::shared_ptr<const reservation_view> reservation_state::view() const {
  if (type_ == reservation_type::none) return nullptr;
  std::vector<uuid> hosts;
  hosts.reserve(registrants_.size());
  for (auto& r : registrants_) hosts.push_back(r.hostid);
  return std::make_shared<const reservation_view>(type_, holder_, std::move(hosts));
}

void reservation_state::notify_others(const uuid& host, reservation_notice n, reservation_effects& fx) const {
  for (auto& r : registrants_)
    if (r.hostid != host) fx.notices.emplace_back(r.hostid, n);
}

void reservation_state::unregister(const uuid& host, reservation_effects& fx) {
  const bool was_holder = is_holder(host);
  std::erase_if(registrants_, [&](auto& r) { return r.hostid == host; });
  if (!was_holder) return;
  if (is_all_registrants(type_)) {
    // Every registrant holds it: it ends with the last one (Base 2.0 8.19.7).
    if (registrants_.empty()) type_ = reservation_type::none;
    return;
  }
  const reservation_type ended = type_;
  type_ = reservation_type::none;
  holder_ = {};
  // Base 2.0 8.19.7: a registrants-only reservation released by its holder's unregistering
  // is announced to the other registrants.
  if (ended == reservation_type::write_exclusive_registrants_only ||
      ended == reservation_type::exclusive_access_registrants_only)
    notify_others(host, reservation_notice::reservation_released, fx);
}

nvme_status reservation_state::add_registrant(const uuid& host, uint64_t rkey, reservation_effects& fx) {
  if (registrants_.size() >= max_registrants) return nvme_status::generic(sc_generic::internal_error);
  registrants_.push_back({host, rkey});
  bump();
  fx.changed = true;
  return nvme_status::success();
}

size_t reservation_state::preempt(const uuid& keep, std::optional<uint64_t> rkey, bool abort, reservation_effects& fx) {
  std::vector<uuid> gone;
  for (auto& r : registrants_)
    if (r.hostid != keep && (!rkey || r.rkey == *rkey)) gone.push_back(r.hostid);
  for (auto& h : gone) {
    unregister(h, fx);
    fx.notices.emplace_back(h, reservation_notice::registration_preempted);
    if (abort) fx.preempted_and_aborted.push_back(h);
  }
  return gone.size();
}

nvme_status reservation_state::register_key(const uuid& host, const reservation_register_fields& f,
                                            const reservation_register_data& d, bool ptpl_capable,
                                            reservation_effects& fx) {
  if (f.cptpl == ptpl_change::reserved) return invalid_field;
  if (f.cptpl == ptpl_change::set && !ptpl_capable) return invalid_field;
  const uint64_t crkey = d.crkey.get(), nrkey = d.nrkey.get();
  reservation_registrant* me = find(host);
  switch (static_cast<register_action>(f.action)) {
    case register_action::register_key:
      if (me) {
        // Registering again with the same key is not an error (SPDK, Linux nvmet).
        if (me->rkey != nrkey) return conflict;
        break;
      }
      if (nrkey == 0) return invalid_field;  // as SPDK: a zero key cannot be told from none
      if (nvme_status st = add_registrant(host, nrkey, fx); !st.ok()) return st;
      break;
    case register_action::unregister_key:
      if (!me || (!f.iekey && me->rkey != crkey)) return conflict;
      unregister(host, fx);
      bump();
      fx.changed = true;
      break;
    case register_action::replace_key:
      if (nrkey == 0) return invalid_field;
      if (me) {
        if (!f.iekey && me->rkey != crkey) return conflict;
        if (me->rkey != nrkey) {
          me->rkey = nrkey;
          bump();
          fx.changed = true;
        }
      } else if (f.iekey) {
        // Replace with IEKEY from a host that is not registered registers it (as SPDK).
        if (nvme_status st = add_registrant(host, nrkey, fx); !st.ok()) return st;
      } else {
        return conflict;
      }
      break;
    default:
      return invalid_field;
  }
  if (f.cptpl == ptpl_change::set || f.cptpl == ptpl_change::clear) {
    const bool on = f.cptpl == ptpl_change::set;
    if (ptpl_ != on) {
      ptpl_ = on;
      fx.changed = true;
    }
  }
  return nvme_status::success();
}

nvme_status reservation_state::acquire(const uuid& host, const reservation_acquire_fields& f,
                                       const reservation_acquire_data& d, reservation_effects& fx) {
  auto rtype = reservation_type_from(f.rtype);
  if (f.iekey || !rtype) return invalid_field;
  const auto action = static_cast<acquire_action>(f.action);
  if (f.action > static_cast<uint8_t>(acquire_action::preempt_and_abort)) return invalid_field;
  reservation_registrant* me = find(host);
  if (!me || me->rkey != d.crkey.get()) return conflict;
  const uint64_t prkey = d.prkey.get();

  if (action == acquire_action::acquire) {
    if (type_ != reservation_type::none) {
      // The holder acquiring the type it holds is not an error; anything else conflicts.
      return is_holder(host) && type_ == *rtype ? nvme_status::success() : conflict;
    }
    type_ = *rtype;
    holder_ = host;
    fx.changed = true;
    return nvme_status::success();
  }

  const bool abort = action == acquire_action::preempt_and_abort;
  if (type_ == reservation_type::none) {
    // Nothing is held: preempting removes the registrations with PRKEY.
    if (preempt(host, prkey, abort, fx) == 0) return conflict;
  } else if (is_all_registrants(type_)) {
    if (prkey == 0) {
      // Base 2.0 8.19.10.2: the host takes the reservation; every other registration goes.
      type_ = *rtype;
      holder_ = host;
      preempt(host, std::nullopt, abort, fx);
    } else if (preempt(host, prkey, abort, fx) == 0) {
      return conflict;
    }
  } else {
    const reservation_registrant* holder = find(holder_);
    const uint64_t holder_key = holder ? holder->rkey : 0;
    if (prkey == holder_key && holder_ == host) {
      // Preempting oneself changes the type.
      if (type_ != *rtype) {
        type_ = *rtype;
        notify_others(host, reservation_notice::reservation_released, fx);
      }
    } else if (prkey == holder_key) {
      const reservation_type old = type_;
      // The new holder first, so that the removals below do not end the reservation.
      type_ = *rtype;
      holder_ = host;
      preempt(host, prkey, abort, fx);
      if (old != *rtype) notify_others(host, reservation_notice::reservation_released, fx);
    } else if (prkey == 0) {
      return invalid_field;
    } else if (preempt(host, prkey, abort, fx) == 0) {
      return conflict;
    }
  }
  bump();
  fx.changed = true;
  return nvme_status::success();
}

nvme_status reservation_state::release(const uuid& host, const reservation_release_fields& f,
                                       const reservation_release_data& d, reservation_effects& fx) {
  if (f.iekey) return invalid_field;
  if (f.action > static_cast<uint8_t>(release_action::clear)) return invalid_field;
  reservation_registrant* me = find(host);
  if (!me || me->rkey != d.crkey.get()) return conflict;
  if (static_cast<release_action>(f.action) == release_action::clear) {
    notify_others(host, reservation_notice::reservation_preempted, fx);
    registrants_.clear();
    type_ = reservation_type::none;
    holder_ = {};
    bump();
    fx.changed = true;
    return nvme_status::success();
  }
  // Releasing what is not held, or held by another host, succeeds and does nothing.
  if (type_ == reservation_type::none || !is_holder(host)) return nvme_status::success();
  if (static_cast<uint8_t>(type_) != f.rtype) return invalid_field;
  const reservation_type ended = type_;
  type_ = reservation_type::none;
  holder_ = {};
  fx.changed = true;
  if (ended != reservation_type::write_exclusive && ended != reservation_type::exclusive_access)
    notify_others(host, reservation_notice::reservation_released, fx);
  return nvme_status::success();
}

std::optional<std::vector<std::byte>> reservation_state::report(bool eds) const {
  if (!eds) return std::nullopt;
  std::vector<std::byte> out(reservation_status_extended_header_size +
                             registrants_.size() * sizeof(registered_controller_extended));
  reservation_status_header h{};
  h.gen = generation_;
  h.rtype = static_cast<uint8_t>(type_);
  h.regctl = static_cast<uint16_t>(registrants_.size());
  h.ptpls = ptpl_ ? 1 : 0;
  std::memcpy(out.data(), &h, sizeof h);
  size_t at = reservation_status_extended_header_size;
  for (auto& r : registrants_) {
    registered_controller_extended e{};
    e.cntlid = cntlid_dynamic_controller;
    e.rcsts = is_holder(r.hostid) ? 1 : 0;
    e.rkey = r.rkey;
    std::memcpy(e.hostid, r.hostid.bytes.data(), 16);
    std::memcpy(out.data() + at, &e, sizeof e);
    at += sizeof e;
  }
  return out;
}

void reservation_state::restore(std::vector<reservation_registrant> regs, reservation_type type,
                                std::optional<uuid> holder, bool ptpl) {
  registrants_ = std::move(regs);
  type_ = registrants_.empty() ? reservation_type::none : type;
  holder_ = type_ != reservation_type::none && holder ? *holder : uuid{};
  if (type_ != reservation_type::none && !is_all_registrants(type_) && !holder) type_ = reservation_type::none;
  ptpl_ = ptpl;
}

}  // namespace nvmfd
