// Reservation commands (NVMe Base 2.0 7.3-7.6, 8.19): Register, Acquire, Release, Report, and
// the steps that follow a change of a namespace's reservation, shared with the Reservation
// Persistence feature: publish the new view to the I/O path, notify the hosts concerned,
// wait for the preempted hosts' commands on the device (preempt and abort), write the ptpl
// file durably, then complete.
//
// The rules themselves are reservation_state's; the state is changed under the target mutex,
// so the commands of all hosts on all reactors apply one at a time, in one order.
#include <cstring>

#include "base/log.h"
#include "reactor/countdown.h"
#include "target/command_handlers.h"
#include "target/controller.h"
#include "target/nvmf_target.h"
#include "target/ptpl_file.h"
#include "target/ptpl_writer.h"
#include "target/target_namespace.h"
#include "target/target_queue.h"

namespace nvmfd {

namespace {

// Largest Reservation Report transfer: the extended header and every registrant.
constexpr uint64_t max_report_bytes =
    reservation_status_extended_header_size + reservation_state::max_registrants * sizeof(registered_controller_extended);

// The command's key data, at least sizeof(D) bytes (checked in prepare_reservation).
template <class D>
D key_data(const target_request& req) {
  return load_wire<D>(req.buf);
}

// After the change is applied: the waits, then the completion with st (or the write failure).
void finish_after(target_queue& q, target_request& req, nvme_status st, reservation_change change) {
  q.hold(req);
  auto self = q.shared_from_this();
  nvmf_target& target = q.target();
  auto persist_then_complete = [self, &req, st, file = std::move(change.ptpl), number = change.ptpl_change,
                                &target]() mutable {
    if (!file) {
      self->finish_held(req, st);
      return;
    }
    target.worker().post([self, &req, st, file = std::move(file), number] {
      auto written = file->make_durable(number);
      if (!written) NVMFD_LOG_ERROR("reservation not persisted: {}", written.err().message);
      reactor& home = self->owner();
      home.post([self, &req, st, ok = written.ok()] {
        self->finish_held(req, ok ? st : nvme_status::generic(sc_generic::internal_error));
      });
    });
  };
  if (change.drain.empty()) {
    persist_then_complete();
    return;
  }
  auto cd = std::make_shared<countdown>(static_cast<unsigned>(change.drain.size()), q.owner(),
                                        std::move(persist_then_complete));
  for (auto& [index, queue] : change.drain) {
    target.reactors().at(index).post([weak = queue, gen = change.generation, cd] {
      if (auto other = weak.lock())
        other->after_older_io(gen, [cd] { cd->arrive(); });
      else
        cd->arrive();
    });
  }
}

}  // namespace

bool is_reservation_command(uint8_t opcode) {
  switch (static_cast<io_opcode>(opcode)) {
    case io_opcode::reservation_register:
    case io_opcode::reservation_report:
    case io_opcode::reservation_acquire:
    case io_opcode::reservation_release:
      return true;
    default:
      return false;
  }
}

nvme_status prepare_reservation(target_queue& q, target_request& req) {
  const uint32_t sgl_len = req.cmd.sgl.length.get();
  switch (static_cast<io_opcode>(req.cmd.opcode)) {
    case io_opcode::reservation_report: {
      auto f = decode_reservation_report(req.cmd);
      // As Linux nvmet: the SGL carries exactly NUMD + 1 dwords.
      if (sgl_len != f.length_bytes) return nvme_status::generic(sc_generic::data_sgl_length_invalid);
      if (sgl_len > max_report_bytes || sgl_len > q.limits().max_io_size)
        return nvme_status::generic(sc_generic::invalid_field);
      break;
    }
    case io_opcode::reservation_release:
      if (sgl_len < sizeof(reservation_release_data) || sgl_len > 4096)
        return nvme_status::generic(sc_generic::data_sgl_length_invalid);
      break;
    default:  // register, acquire
      if (sgl_len < sizeof(reservation_register_data) || sgl_len > 4096)
        return nvme_status::generic(sc_generic::data_sgl_length_invalid);
      break;
  }
  req.xfer_len = sgl_len;
  return nvme_status::success();
}

reservation_change reservation_changed_locked(subsystem& sub, nsid_t nsid, const target_namespace& ns,
                                              const reservation_effects& fx, bool ptpl_was_on) {
  reservation_change change;
  change.generation = sub.publish_reservation(nsid);
  // Notices go to the host's controllers that see the namespace (per-host visibility).
  for (auto& [host, notice] : fx.notices)
    for (auto& [id, weak] : sub.controllers())
      if (auto c = weak.lock(); c && c->hostid() == host && ns.visible_to(c->hostnqn()))
        c->admin_reactor().post([c, nsid, n = notice] { c->notice_reservation(nsid, n); });
  for (auto& host : fx.preempted_and_aborted)
    for (auto& [id, weak] : sub.controllers())
      if (auto c = weak.lock(); c && c->hostid() == host)
        for (auto& queue : c->io_queues()) change.drain.push_back(queue);
  if (ns.ptpl && (ns.reservations->ptpl() || ptpl_was_on)) {
    change.ptpl = ns.ptpl;
    change.ptpl_change = ns.ptpl->stage(encode_ptpl(*ns.reservations, ns.bdev_identity()));
  }
  return change;
}

std::optional<nvme_status> execute_reservation(target_queue& q, target_request& req) {
  controller& c = *q.ctrl();
  const uuid host = c.hostid();
  const nsid_t nsid = req.ns->nsid;
  const auto opc = static_cast<io_opcode>(req.cmd.opcode);
  if (opc == io_opcode::reservation_report) {
    std::optional<std::vector<std::byte>> page;
    {
      std::lock_guard lk(q.target().mu());
      page = req.ns->reservations->report(decode_reservation_report(req.cmd).eds);
    }
    // Base 2.0 7.5: 128-bit host IDs (fabrics) need the extended data structure.
    if (!page) return nvme_status::generic(sc_generic::host_identifier_inconsistent_format);
    auto out = req.data();
    size_t n = std::min(out.size(), page->size());
    std::memcpy(out.data(), page->data(), n);
    std::memset(out.data() + n, 0, out.size() - n);
    req.c2h_len = req.xfer_len;
    return nvme_status::success();
  }

  reservation_effects fx;
  nvme_status st;
  reservation_change change;
  {
    std::lock_guard lk(q.target().mu());
    auto& sub = *c.subsys();
    const target_namespace* now = sub.namespaces_snapshot()->find(nsid);
    // The namespace was removed (or replaced) since the command began.
    if (!now || now->reservations != req.ns->reservations)
      return nvme_status::generic(sc_generic::invalid_namespace_or_format);
    reservation_state& rs = *now->reservations;
    const bool ptpl_was_on = rs.ptpl();
    switch (opc) {
      case io_opcode::reservation_register:
        st = rs.register_key(host, decode_reservation_register(req.cmd), key_data<reservation_register_data>(req),
                             now->ptpl != nullptr, fx);
        break;
      case io_opcode::reservation_acquire:
        st = rs.acquire(host, decode_reservation_acquire(req.cmd), key_data<reservation_acquire_data>(req), fx);
        break;
      default:
        st = rs.release(host, decode_reservation_release(req.cmd), key_data<reservation_release_data>(req), fx);
        break;
    }
    if (!fx.changed) return st;
    change = reservation_changed_locked(sub, nsid, *now, fx, ptpl_was_on);
  }
  return complete_after_reservation_change(q, req, st, std::move(change));
}

std::optional<nvme_status> complete_after_reservation_change(target_queue& q, target_request& req, nvme_status st,
                                                             reservation_change change) {
  if (change.drain.empty() && !change.ptpl) return st;
  finish_after(q, req, st, std::move(change));
  return std::nullopt;
}

}  // namespace nvmfd
