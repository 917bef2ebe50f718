#pragma once
// uring_pdu_channel: a pdu_channel on the reactor's io_uring (io_backend::uring).
//
// Receive: one multishot recv with buffer select from the reactor's provided buffers. Each
// completion's bytes are fed to the reader (pdu_reader::feed) and the buffer is recycled at
// once. -ENOBUFS (every buffer in use) or a completion without IORING_CQE_F_MORE re-arms;
// res 0 is the end of the stream.
// Send: at most one IORING_OP_SENDMSG in flight, over the writer's queue (gather); its
// completion advances the writer by what was sent (owners of finished PDUs are told) and
// sends again if more is queued. A short send just continues from where it stopped.
// Close: shutdown(SHUT_RDWR) and a cancel of the receive; the fd is closed once the last
// completion is in (then on_channel_quiet). Contract in pdu_channel.h.
//
// The channel is a uring_stop_hook: if its reactor stops while it is open, it closes without
// telling its client.
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>

#include "nvme_tcp/pdu_channel.h"
#include "reactor/uring_engine.h"

namespace nvmfd {

class uring_pdu_channel final : public pdu_channel, private uring_stop_hook {
 public:
  // engine: the reactor's driving engine (with its receive buffers).
  uring_pdu_channel(uring_engine& engine, int fd, pdu_reader& reader, pdu_writer& writer, pdu_channel_client& client);
  ~uring_pdu_channel() override;

  result<void> start() override;
  void flush() override;
  void shutdown_write() override;
  void close() override;
  bool quiet() const override { return quiet_; }

 private:
  struct recv_op final : uring_op {
    uring_pdu_channel* ch = nullptr;
    void on_complete(int res, uint32_t flags) override { ch->on_recv(res, flags); }
  };
  struct send_op final : uring_op {
    uring_pdu_channel* ch = nullptr;
    void on_complete(int res, uint32_t flags) override { ch->on_send(res, flags); }
  };

  bool arm_recv();
  bool send_queued();
  void on_recv(int res, uint32_t flags);
  void on_send(int res, uint32_t flags);
  void cancel(uring_op& op);
  // Closed with nothing in flight: closes the fd, unhooks, and (unless abandoned) tells
  // the client. Must be the caller's last use of this.
  void settle();
  void finish();
  void on_engine_stopping() override;

  uring_engine* engine_;
  provided_buffers* buffers_;
  recv_op recv_op_;
  send_op send_op_;
  bool recv_armed_ = false;    // a receive is in flight (until a completion without F_MORE)
  bool send_inflight_ = false;
  bool started_ = false;
  bool quiet_ = false;
  bool abandoned_ = false;     // closed by the engine's stop: no more calls to the client
  std::array<iovec, pdu_writer::max_iov> iov_{};
  msghdr msg_{};
};

}  // namespace nvmfd
