#include "host/nvme_bdev.h"

#include <cerrno>
#include <cstring>

#include "host/io_command.h"

namespace nvmfd {

// Per-I/O state kept in bdev_io::backend_ctx.
struct nvme_bdev::io_state {
  slot_waiter waiter;         // first: on_slot_free finds the io_state from it
  bdev_io* io = nullptr;
  uint64_t done_blocks = 0;   // blocks completed by earlier chunks
  uint32_t chunk_blocks = 0;  // blocks of the chunk in flight
  dsm_range_wire range{};     // Dataset Management data of an unmap chunk
};
static_assert(sizeof(nvme_bdev::io_state) <= bdev_io::backend_ctx_size);

namespace {
int errno_for(const nvme_status& s) {
  if (s.ok()) return 0;
  if (s.sct == status_type::generic) {
    switch (s.sc) {
      case sc_generic::lba_out_of_range:
      case sc_generic::invalid_field:
      case sc_generic::invalid_namespace_or_format: return -EINVAL;
      case sc_generic::invalid_opcode: return -EOPNOTSUPP;
      case sc_generic::namespace_is_write_protected: return -EROFS;
      case sc_generic::capacity_exceeded: return -ENOSPC;
      default: break;
    }
  }
  return -EIO;
}
}  // namespace

nvme_bdev::nvme_bdev(std::string name, std::shared_ptr<host_controller> ctrl, const remote_namespace& ns,
                     unsigned)
    : bdev(std::move(name), ns.block_size, ns.num_blocks, ns.id), ctrl_(std::move(ctrl)), nsid_(ns.nsid) {
  uint32_t by_mdts = ctrl_->max_transfer_bytes() / ns.block_size;
  max_blocks_per_cmd_ = std::max(1u, std::min(by_mdts, max_nlb_per_command));
}

bool nvme_bdev::has_volatile_cache() const { return ctrl_->identity().vwc & vwc_bits::present; }

bool nvme_bdev::supports(bdev_op op) const {
  uint16_t oncs = ctrl_->identity().oncs.get();
  switch (op) {
    case bdev_op::write_zeroes: return oncs & oncs_bits::write_zeroes;
    case bdev_op::unmap: return oncs & oncs_bits::dataset_management;
    default: return true;
  }
}

void nvme_bdev::submit(bdev_io& io) {
  if (!in_range(io.offset_blocks, io.num_blocks)) return io.complete_later(-EINVAL);
  if (!supports(io.op)) return io.complete_later(-EOPNOTSUPP);
  host_qpair* q = ctrl_->io_queue(*io.owner);
  if (!q || q->failed()) return io.complete_later(-EIO);
  auto& st = io.emplace_backend_ctx<io_state>();
  st.io = &io;
  st.waiter.cb = this;
  start_or_wait(io, *q);
}

void nvme_bdev::start_or_wait(bdev_io& io, host_qpair& q) {
  // Behind earlier waiters (FIFO), or when no slot is free: wait for one.
  if (q.has_waiters() || !start_next_chunk(io, q)) q.wait_for_slot(io.backend_ctx_as<io_state>().waiter);
}

void nvme_bdev::on_slot_free(host_qpair& q, slot_waiter& w) {
  bdev_io& io = *reinterpret_cast<io_state*>(&w)->io;
  if (q.failed()) return finish(io, -EIO);
  if (!start_next_chunk(io, q)) q.wait_for_slot(w);  // taken in between: wait again
}

bool nvme_bdev::start_next_chunk(bdev_io& io, host_qpair& q) {
  host_request* r = q.alloc();
  if (!r) return false;
  auto& st = io.backend_ctx_as<io_state>();
  uint64_t slba = io.offset_blocks + st.done_blocks;
  uint64_t left = io.num_blocks - st.done_blocks;
  st.chunk_blocks = static_cast<uint32_t>(std::min<uint64_t>(left, max_blocks_per_cmd_));
  uint32_t bytes = st.chunk_blocks * block_size();
  r->cb = this;
  r->user = &io;
  r->data = nullptr;
  r->data_len = 0;
  r->host_to_controller = false;
  switch (io.op) {
    case bdev_op::read:
      r->cmd = make_rw(io_opcode::read, nsid_, slba, st.chunk_blocks);
      r->data = io.buf + st.done_blocks * block_size();
      r->data_len = bytes;
      break;
    case bdev_op::write:
      r->cmd = make_rw(io_opcode::write, nsid_, slba, st.chunk_blocks, io.fua);
      r->data = io.buf + st.done_blocks * block_size();
      r->data_len = bytes;
      r->host_to_controller = true;
      break;
    case bdev_op::flush:
      r->cmd = make_flush(nsid_);
      st.chunk_blocks = 0;
      break;
    case bdev_op::write_zeroes:
      r->cmd = make_rw(io_opcode::write_zeroes, nsid_, slba, st.chunk_blocks);
      break;
    case bdev_op::unmap:
      r->cmd = make_deallocate(nsid_, 1);
      st.range.nlb = st.chunk_blocks;
      st.range.slba = slba;
      r->data = reinterpret_cast<std::byte*>(&st.range);
      r->data_len = sizeof(st.range);
      r->host_to_controller = true;
      break;
  }
  q.submit(*r);
  return true;
}

void nvme_bdev::on_host_complete(host_request& req, const nvme_completion& c) {
  bdev_io& io = *static_cast<bdev_io*>(req.user);
  host_qpair& q = *req.qp;
  auto& st = io.backend_ctx_as<io_state>();
  if (!c.status.ok()) return finish(io, errno_for(c.status));
  st.done_blocks += st.chunk_blocks;
  if (st.done_blocks >= io.num_blocks || io.op == bdev_op::flush) return finish(io, 0);
  if (q.failed()) return finish(io, -EIO);
  start_or_wait(io, q);  // the next chunk of a split I/O
}

void nvme_bdev::finish(bdev_io& io, int status) {
  io.status = status;
  io.done->on_bdev_io_done(io);
}

}  // namespace nvmfd
