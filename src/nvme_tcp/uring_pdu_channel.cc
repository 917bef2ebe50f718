#include "nvme_tcp/uring_pdu_channel.h"

#include <unistd.h>

#include <cassert>
#include <cerrno>

#include "base/log.h"

namespace nvmfd {

uring_pdu_channel::uring_pdu_channel(uring_engine& engine, int fd, pdu_reader& reader, pdu_writer& writer,
                                     pdu_channel_client& client)
    : pdu_channel(fd, reader, writer, client), engine_(&engine), buffers_(engine.recv_buffers()) {
  recv_op_.ch = this;
  send_op_.ch = this;
  engine.add_stop_hook(*this);
}

uring_pdu_channel::~uring_pdu_channel() {
  if (quiet_) return;
  // Only legitimate when nothing was ever armed, or when the engine went first (its
  // reactor stopped and abandoned what was still in flight).
  assert((!recv_armed_ && !send_inflight_) || !hooked());
  if (hooked()) engine_->remove_stop_hook(*this);
  if (fd_ >= 0) ::close(fd_);
}

result<void> uring_pdu_channel::start() {
  if (!buffers_) return error{errc::io_error, "no io_uring receive buffers on this reactor"};
  started_ = true;
  if (!arm_recv()) return error{errc::io_error, "io_uring submission queue full"};
  return success();
}

bool uring_pdu_channel::arm_recv() {
  io_uring_sqe* sqe = engine_->get_sqe(recv_op_);
  if (!sqe) return false;
  io_uring_prep_recv_multishot(sqe, fd_, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = buffers_->group();
  recv_armed_ = true;
  return true;
}

void uring_pdu_channel::on_recv(int res, uint32_t flags) {
  if (!(flags & IORING_CQE_F_MORE)) recv_armed_ = false;
  if (flags & IORING_CQE_F_BUFFER) {
    auto bid = static_cast<uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
    auto bytes = buffers_->take(bid, res > 0 ? static_cast<size_t>(res) : 0);
    read_status st = read_status::would_block;
    if (!closed_ && !discarding_) st = reader_.feed(bytes);
    buffers_->recycle(bid);
    if (st == read_status::protocol_error && !closed_) {
      discarding_ = true;
      client_.on_channel_error(channel_error::protocol_error);
    }
  }
  bool rearm = res > 0 || res == -ENOBUFS;
  if (res == -ENOBUFS) engine_->count_enobufs();
  if (res == 0 && !closed_) {
    client_.on_channel_error(channel_error::peer_closed);
  } else if (res < 0 && res != -ENOBUFS && res != -ECANCELED && !closed_) {
    // A reset or another receive failure: what recv() reports on the epoll side as well.
    client_.on_channel_error(channel_error::peer_closed);
  }
  if (rearm && !recv_armed_ && !closed_ && !arm_recv()) client_.on_channel_error(channel_error::socket_error);
  settle();
}

bool uring_pdu_channel::send_queued() {
  msg_ = {};
  msg_.msg_iov = iov_.data();
  msg_.msg_iovlen = writer_.gather(iov_);
  io_uring_sqe* sqe = engine_->get_sqe(send_op_);
  if (!sqe) return false;
  io_uring_prep_sendmsg(sqe, fd_, &msg_, MSG_NOSIGNAL);
  send_inflight_ = true;
  return true;
}

void uring_pdu_channel::flush() {
  if (closed_ || send_inflight_) return;
  if (writer_.empty()) {
    client_.on_channel_drained();
    return;
  }
  if (!send_queued()) client_.on_channel_error(channel_error::send_failed);
}

void uring_pdu_channel::on_send(int res, uint32_t) {
  send_inflight_ = false;
  if (!closed_) {
    if (res < 0 && res != -EINTR && res != -EAGAIN) {
      client_.on_channel_error(channel_error::send_failed);
    } else {
      if (res > 0) writer_.advance(static_cast<size_t>(res));  // owners of sent PDUs are told
      if (!closed_) {
        if (writer_.empty())
          client_.on_channel_drained();
        else if (!send_queued())
          client_.on_channel_error(channel_error::send_failed);
      }
    }
  }
  settle();
}

void uring_pdu_channel::shutdown_write() {
  if (!closed_) ::shutdown(fd_, SHUT_WR);
}

void uring_pdu_channel::cancel(uring_op& op) {
  // SQEs are consumed in order: this cancel reaches the kernel before any operation queued
  // after it, so it can only match the operation it names.
  if (io_uring_sqe* sqe = engine_->get_sqe(nullptr)) io_uring_prep_cancel(sqe, &op, 0);
}

void uring_pdu_channel::close() {
  if (closed_) return;
  closed_ = true;
  // The shutdown ends a receive or a send waiting on the socket by itself; the cancels make
  // sure of it.
  if (started_) ::shutdown(fd_, SHUT_RDWR);
  if (recv_armed_) cancel(recv_op_);
  if (send_inflight_) cancel(send_op_);
  if (!recv_armed_ && !send_inflight_) finish();
}

void uring_pdu_channel::finish() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  quiet_ = true;
  if (hooked()) engine_->remove_stop_hook(*this);
}

void uring_pdu_channel::settle() {
  if (!closed_ || quiet_ || recv_armed_ || send_inflight_) return;
  finish();
  if (!abandoned_) client_.on_channel_quiet();  // may destroy this
}

void uring_pdu_channel::on_engine_stopping() {
  if (closed_) return;  // already closing: its client hears of the end as usual
  NVMFD_LOG_DEBUG("connection on a stopping reactor: closed");
  abandoned_ = true;
  close();
}

}  // namespace nvmfd
