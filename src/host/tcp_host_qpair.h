#pragma once
// tcp_host_qpair: a host_queue (host_queue.h: threading, completion and lifetime rules) over
// one NVMe/TCP connection.
//
// Created on a control thread for a socket whose ICReq/ICResp exchange is done
// (icreq_exchange), then started on one reactor. Commands carry in-capsule data up to the
// queue's limit, else answer R2Ts with H2CData PDUs of at most MAXH2CDATA bytes; read data
// arrives in C2HData PDUs (a SUCCESS flag completes the command). A C2HTermReq or a protocol
// violation by the controller fails the queue. A completion that comes while the command's
// capsule or an H2CData PDU is still queued for the socket (a hostile or early controller, or
// io_uring reporting our send late) is held (answered) until that PDU is sent.
// Socket I/O goes through a pdu_channel (epoll or io_uring, after the reactor's backend).
//
// Lifetime: after fail(), io_uring operations may still point at the slots' PDU headers until
// the channel is quiet: the queue holds a reference to itself until then. The socket is shut
// down before failed commands complete, so a send still in flight can no longer read their
// buffers out to the wire.
#include <array>
#include <memory>
#include <vector>

#include "nvme_tcp/pdu_channel.h"
#include "nvme_tcp/pdu_reader.h"
#include "nvme_tcp/pdu_writer.h"
#include "tls/tls_session.h"
#include "host/host_queue.h"

namespace nvmfd {

struct tcp_host_qpair_params {
  qid_t qid = admin_qid;
  uint16_t queue_size = 32;        // slots (commands outstanding at most)
  bool hdgst = false;
  bool ddgst = false;
  uint32_t maxh2cdata = 0;         // from ICResp
  uint32_t cpda_bytes = 0;         // controller-requested data alignment (ICResp CPDA)
  uint32_t in_capsule_max = 0;     // in-capsule data limit in bytes (8 KiB admin; IOCCSZ for I/O)
  uint32_t io_timeout_ms = 30000;  // 0: no timeout
};

class tcp_host_qpair final : public host_queue,
                             public pdu_channel_client,
                             public pdu_reader_sink,
                             public deferred_task {
 public:
  // tls: the client side of a TLS session on fd whose handshake is done (the opener's), or null.
  tcp_host_qpair(reactor& r, int fd, const tcp_host_qpair_params& p, std::shared_ptr<tls::tls_session> tls = nullptr);
  ~tcp_host_qpair() override;

  // On the reactor: registers the socket.
  void start() override;

  // pdu_channel_client / pdu_reader_sink / deferred_task
  void on_channel_error(channel_error e) override;
  void on_channel_quiet() override;
  std::variant<std::byte*, term_error> on_pdu_header(std::span<const std::byte> header, uint32_t data_len) override;
  void on_pdu_received(std::span<const std::byte> header, bool data_digest_ok) override;
  void run_deferred() override;

 private:
  // What NVMe/TCP keeps per command slot, beside its host_request (same index).
  struct slot final : tx_pdu_done {
    tcp_host_qpair* qp = nullptr;
    host_request* req = nullptr;
    bool in_capsule = false;
    uint32_t c2h_received = 0;
    nvme_status data_status{};        // transient transport error after a bad data digest
    uint32_t h2c_pending = 0;         // bytes of the current R2T not yet queued
    uint32_t h2c_offset = 0;          // next data offset to send for the current R2T
    uint16_t ttag = 0;
    bool cmd_queued = false;          // cmd_tx is in the writer's queue
    bool h2c_queued = false;          // h2c_tx is in the writer's queue
    std::array<std::byte, 72 + 4> cmd_hdr{};
    std::array<std::byte, 24 + 4> h2c_hdr{};
    tx_pdu cmd_tx, h2c_tx;

    void on_pdu_sent(tx_pdu& p) override { qp->on_request_pdu_sent(*this, p); }
  };

  void send(host_request& req) override;
  void close_transport() override;
  void on_request_pdu_sent(slot& s, tx_pdu& p);
  void finish(host_request& req, const nvme_completion& c);
  void queue_h2c(slot& s);
  void schedule_flush();

  int fd_;
  tcp_host_qpair_params params_;
  pdu_reader reader_;
  pdu_writer writer_;
  std::shared_ptr<tls::tls_session> tls_;  // until start() hands it to the channel
  std::unique_ptr<pdu_channel> channel_;     // from start() on, owns the socket
  std::shared_ptr<host_queue> self_;         // after fail(), until the channel is quiet
  std::vector<slot> tcp_;                    // by host_request::index; never resized
  slot* rx_slot_ = nullptr;
  uint32_t rx_datal_ = 0;
  bool rx_success_ = false;
  bool flush_scheduled_ = false;
};

}  // namespace nvmfd
