// NVM command set I/O commands (NVM Command Set 1.0 section 3): Read, Write, Flush,
// Write Zeroes, Dataset Management (deallocate). Validated in prepare_io before any data
// moves; executed on the namespace's bdev; completed from io_step_done.
#include <cerrno>
#include <cstring>

#include "proto/nvme_command.h"
#include "target/command_handlers.h"
#include "target/controller.h"
#include "target/target_namespace.h"
#include "target/target_queue.h"

namespace nvmfd {

namespace {

// Dataset Management range (NVM Command Set 1.0 Figure 39).
struct dsm_range {
  le32 attributes;
  le32 nlb;
  le64 slba;
};
static_assert(sizeof(dsm_range) == 16);
static_assert(offsetof(dsm_range, nlb) == 4 && offsetof(dsm_range, slba) == 8);

constexpr uint32_t fua_bit = 1u << 30;        // CDW12 bit 30 of Read/Write/Write Zeroes
constexpr uint32_t dsm_deallocate = 1u << 2;  // CDW11 AD

uint64_t slba(const nvme_sqe& c) { return uint64_t{c.cdw10.get()} | (uint64_t{c.cdw11.get()} << 32); }
uint32_t nlb(const nvme_sqe& c) { return (c.cdw12.get() & 0xffff) + 1; }
uint32_t dsm_ranges(const nvme_sqe& c) { return (c.cdw10.get() & 0xff) + 1; }

dsm_range range_at(const target_request& req, uint32_t i) {
  return load_wire<dsm_range>(req.buf + i * sizeof(dsm_range));
}

nvme_status status_from_errno(int st, bdev_op op) {
  switch (-st) {
    case EINVAL: return nvme_status::generic(sc_generic::lba_out_of_range);
    case EPERM:
    case EROFS: return nvme_status::generic(sc_generic::namespace_is_write_protected);
    case EOPNOTSUPP: return nvme_status::generic(sc_generic::invalid_opcode);
    case ENOSPC: return nvme_status::generic(sc_generic::capacity_exceeded);
    case EBADE: return nvme_status::generic(sc_generic::reservation_conflict);  // a remote namespace's
    case EIO:
      return op == bdev_op::read ? nvme_status::media(sc_media::unrecovered_read_error)
                                 : nvme_status::media(sc_media::write_fault);
    default: return nvme_status::generic(sc_generic::internal_error, false);
  }
}

// Starts the next non-empty deallocate range; false when none is left.
bool submit_next_dsm_range(target_queue& q, target_request& req) {
  while (req.dsm_next < req.dsm_count) {
    auto r = range_at(req, req.dsm_next++);
    if (r.nlb.get() == 0) continue;
    req.io.op = bdev_op::unmap;
    req.io.offset_blocks = r.slba.get();
    req.io.num_blocks = r.nlb.get();
    req.io.buf = nullptr;
    q.submit_bdev_io(req);
    return true;
  }
  return false;
}

// The reservation group of an I/O command (NVM Command Set 1.0 Figure 8).
reservation_access access_of(io_opcode opc) {
  return opc == io_opcode::read ? reservation_access::read : reservation_access::write;
}

// May req run on its namespace through this path, for this host? ANA state, then the
// reservation (a null view, the common case, is one pointer test).
nvme_status admit(target_queue& q, target_request& req) {
  if (!req.snap->ana.empty()) {
    // Base 2.0 8.20.3: commands on an inaccessible path fail with a path-related status.
    switch (req.snap->ana[namespace_table::slot_of(req.ns->nsid)]) {
      case ana_state::inaccessible: return nvme_status::path(sc_path::ana_inaccessible);
      case ana_state::persistent_loss: return nvme_status::path(sc_path::ana_persistent_loss);
      case ana_state::change: return nvme_status::path(sc_path::ana_transition);
      default: break;
    }
  }
  const auto opc = static_cast<io_opcode>(req.cmd.opcode);
  if (req.ns->reservation && !is_reservation_command(req.cmd.opcode) &&
      !req.ns->reservation->allows(q.ctrl()->hostid(), access_of(opc)))
    return nvme_status::generic(sc_generic::reservation_conflict);
  return nvme_status::success();
}

// Between prepare and execute the namespace table may have changed (a reservation taken or
// preempted while the command's data arrived): the command moves to the newest snapshot and
// is admitted again, so that nothing from before a preemption reaches the device after it.
nvme_status readmit_if_changed(target_queue& q, target_request& req) {
  if (q.snapshot_is_current(*req.snap)) return nvme_status::success();
  ns_snapshot* fresh = q.current_snapshot();
  const target_namespace* ns = fresh->find(req.ns->nsid);
  if (!ns || ns->dev != req.ns->dev) {
    q.put_snapshot(fresh);
    return nvme_status::generic(sc_generic::invalid_namespace_or_format);
  }
  q.put_snapshot(req.snap);
  req.snap = fresh;
  req.ns = ns;
  return admit(q, req);
}

}  // namespace

nvme_status prepare_io(target_queue& q, target_request& req) {
  const auto& cmd = req.cmd;
  auto opc = static_cast<io_opcode>(cmd.opcode);
  switch (opc) {
    case io_opcode::read:
    case io_opcode::write:
    case io_opcode::flush:
    case io_opcode::write_zeroes:
    case io_opcode::dataset_management:
    case io_opcode::reservation_register:
    case io_opcode::reservation_report:
    case io_opcode::reservation_acquire:
    case io_opcode::reservation_release:
      break;
    default:
      return nvme_status::generic(sc_generic::invalid_opcode);
  }
  req.dir = static_cast<data_direction>(cmd.opcode & 0x3);
  req.snap = q.current_snapshot();
  req.ns = req.snap->find(nsid_t{cmd.nsid.get()});  // inactive, or hidden from this host
  if (!req.ns) return nvme_status::generic(sc_generic::invalid_namespace_or_format);
  if (nvme_status st = admit(q, req); !st.ok()) return st;
  if (is_reservation_command(cmd.opcode)) return prepare_reservation(q, req);
  const bdev& d = *req.ns->dev;
  uint32_t sgl_len = cmd.sgl.length.get();
  switch (opc) {
    case io_opcode::read:
    case io_opcode::write: {
      if (!d.in_range(slba(cmd), nlb(cmd))) return nvme_status::generic(sc_generic::lba_out_of_range);
      uint64_t bytes = uint64_t{nlb(cmd)} * d.block_size();
      if (bytes > q.limits().max_io_size) return nvme_status::generic(sc_generic::invalid_field);
      if (bytes != sgl_len) return nvme_status::generic(sc_generic::data_sgl_length_invalid);
      req.xfer_len = static_cast<uint32_t>(bytes);
      req.in_place = opc == io_opcode::read && d.reads_in_place(bytes);
      return nvme_status::success();
    }
    case io_opcode::write_zeroes:
      if (!d.in_range(slba(cmd), nlb(cmd))) return nvme_status::generic(sc_generic::lba_out_of_range);
      req.xfer_len = 0;
      return nvme_status::success();
    case io_opcode::dataset_management: {
      uint32_t bytes = dsm_ranges(cmd) * static_cast<uint32_t>(sizeof(dsm_range));
      if (sgl_len < bytes || sgl_len > 4096) return nvme_status::generic(sc_generic::data_sgl_length_invalid);
      req.xfer_len = sgl_len;
      return nvme_status::success();
    }
    default:  // flush
      req.xfer_len = 0;
      return nvme_status::success();
  }
}

std::optional<nvme_status> execute_io(target_queue& q, target_request& req) {
  if (nvme_status st = readmit_if_changed(q, req); !st.ok()) return st;
  if (is_reservation_command(req.cmd.opcode)) return execute_reservation(q, req);
  const auto& cmd = req.cmd;
  const bdev& d = *req.ns->dev;
  bdev_io& io = req.io;
  io.owner = &q.owner();
  io.status = 0;
  io.fua = false;
  io.buf = req.buf;
  io.offset_blocks = slba(cmd);
  io.num_blocks = nlb(cmd);
  switch (static_cast<io_opcode>(cmd.opcode)) {
    case io_opcode::read:
      io.op = bdev_op::read;
      if (req.in_place) io.buf = nullptr;  // the bdev points io.buf at its data
      req.c2h_len = req.xfer_len;
      break;
    case io_opcode::write:
      io.op = bdev_op::write;
      io.fua = (cmd.cdw12.get() & fua_bit) != 0;
      break;
    case io_opcode::flush:
      io.op = bdev_op::flush;
      io.offset_blocks = io.num_blocks = 0;
      io.buf = nullptr;
      break;
    case io_opcode::write_zeroes:
      if (!d.supports(bdev_op::write_zeroes)) return nvme_status::generic(sc_generic::invalid_opcode);
      io.op = bdev_op::write_zeroes;
      io.fua = (cmd.cdw12.get() & fua_bit) != 0;  // NVM CS 1.0 3.2.6: CDW12 bit 30, as Write
      io.buf = nullptr;
      break;
    case io_opcode::dataset_management: {
      // Only deallocate has an effect; the other attributes are hints (NVM CS 1.0 3.2.3).
      if (!(cmd.cdw11.get() & dsm_deallocate) || !d.supports(bdev_op::unmap)) return nvme_status::success();
      req.dsm_count = dsm_ranges(cmd);
      for (uint32_t i = 0; i < req.dsm_count; ++i) {
        auto r = range_at(req, i);
        if (!d.in_range(r.slba.get(), r.nlb.get())) return nvme_status::generic(sc_generic::lba_out_of_range);
      }
      req.dsm_next = 0;
      if (!submit_next_dsm_range(q, req)) return nvme_status::success();
      return std::nullopt;
    }
    default:
      return nvme_status::generic(sc_generic::invalid_opcode);
  }
  q.submit_bdev_io(req);
  return std::nullopt;
}

std::optional<nvme_status> io_step_done(target_queue& q, target_request& req) {
  const bdev_io& io = req.io;
  if (io.status != 0) return status_from_errno(io.status, io.op);
  if (io.op == bdev_op::unmap && submit_next_dsm_range(q, req)) return std::nullopt;
  auto& st = q.ctrl()->stats(q.qid());
  if (io.op == bdev_op::read) {
    st.count_read(req.xfer_len);
    req.c2h_data = io.buf;  // the pooled buffer, or the bdev's own memory (reads in place)
  } else if (io.op == bdev_op::write) {
    st.count_write(req.xfer_len);
  }
  return nvme_status::success();
}

}  // namespace nvmfd
