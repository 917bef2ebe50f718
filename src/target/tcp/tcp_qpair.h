#pragma once
// tcp_qpair: the target side of one NVMe/TCP connection, i.e. one queue pair (admin or I/O):
// the TCP transport's target_queue.
//
// Life: created on a reactor for an accepted socket; ICReq/ICResp; a Connect binds it to
// a controller (qid 0 creates the controller). Commands follow the parse-then-execute path:
// a capsule is validated (begin_command) before any data moves; write data arrives
// in-capsule or through R2T/H2CData; only then does the command execute; reads return
// data with C2HData. Any transport violation sends a C2HTermReq naming the field, drains,
// and closes this connection only.
//
// Socket I/O goes through a pdu_channel (epoll or io_uring, after the reactor's backend).
//
// Threading: everything here runs on the owning reactor. close() may be called from there
// only; other threads post to the reactor.
// Lifetime: after close(), the qpair is released (nvmf_target::release_queue, which
// destroys it) once its bdev I/O has completed and its channel is quiet (no io_uring
// operation refers to its requests' PDUs anymore); requests are freed then too.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/intrusive_fifo.h"
#include "nvme_tcp/pdu_channel.h"
#include "nvme_tcp/pdu_reader.h"
#include "nvme_tcp/pdu_writer.h"
#include "nvme_tcp/socket.h"
#include "reactor/reactor.h"
#include "target/target_queue.h"
#include "target/data_buffer_budget.h"
#include "target/tcp/receive_watchdog.h"
#include "target/tcp/tcp_request.h"
#include "target/tcp/tcp_transport.h"
#include "target/tcp/tcp_transport_options.h"
#include "tls/tls_session.h"

namespace nvmfd {

class tcp_qpair final : public target_queue,
                        public pdu_channel_client,
                        public pdu_reader_sink,
                        public tx_pdu_done,
                        public deferred_task {
 public:
  // buffers: the transport's data buffer budget (outlives every qpair).
  // slot: the listener's connection count this connection holds (released with the qpair).
  // tls: the server side of a TLS session on fd (a secure listener's connection), or null.
  tcp_qpair(nvmf_target& t, reactor& r, int fd, const tcp_transport_options& opts, data_buffer_budget& buffers,
            connection_slot slot = {}, std::shared_ptr<tls::tls_session> tls = nullptr);
  ~tcp_qpair() override;

  void start();

  // target_queue
  // Queues C2HData (controller-to-host commands that succeeded) and/or CapsuleResp.
  void complete(target_request& req, nvme_status st) override;
  // After a Disconnect's response is sent, the connection closes.
  void disconnect_after_response() override { close_after_send_ = true; }
  // Closes the connection (idempotent). Outstanding bdev I/O finishes, and the channel
  // becomes quiet, before the qpair is released.
  void close(std::string_view why) override;

  // Called by tcp_request when its bdev I/O is done.
  void on_io_done(tcp_request& req);

  // pdu_channel_client
  void on_channel_error(channel_error e) override;
  void on_channel_drained() override;
  void on_channel_quiet() override;
  // pdu_reader_sink
  std::variant<std::byte*, term_error> on_pdu_header(std::span<const std::byte> header, uint32_t data_len) override;
  void on_pdu_received(std::span<const std::byte> header, bool data_digest_ok) override;
  // tx_pdu_done (ICResp / C2HTermReq)
  void on_pdu_sent(tx_pdu& p) override;
  // deferred_task: flush the send queue once per loop pass (batches completions)
  void run_deferred() override;

  void release_request(tcp_request& req);

 private:
  std::variant<std::byte*, term_error> on_capsule_header(std::span<const std::byte> header, uint32_t data_len);
  std::variant<std::byte*, term_error> on_h2c_data_header(std::span<const std::byte> header, uint32_t data_len);
  void on_ic_req(std::span<const std::byte> header);
  void start_command(tcp_request& req);
  void execute(tcp_request& req);
  void send_r2t(tcp_request& req);
  void send_term_req(const term_error& e, std::span<const std::byte> bad_header);
  void schedule_flush();
  void flush_now();
  void maybe_release();
  tcp_request* alloc_request();
  bool take_buffer(target_request& req, uint32_t len);
  // The data phase of a validated command: a buffer of xfer_len from the budget (or a wait
  // for one), then the R2T or the execution.
  void start_data_phase(tcp_request& req);
  bool take_data_buffer(tcp_request& req);
  void wait_for_buffer(tcp_request& req);
  void retry_buffer_waiters();
  void arm_buffer_retry();
  void on_buffer_retry_timer();
  // Calls (this->*fn)() after delay on this reactor unless the qpair is gone by then; the
  // timer's id is kept in this->*slot while it is pending (close() cancels it).
  void schedule_self(timer_id tcp_qpair::*slot, std::chrono::milliseconds delay, void (tcp_qpair::*fn)());
  // h2c_data_timeout_ms: checks the deadlines of the R2Ts outstanding.
  void arm_h2c_timer(std::chrono::milliseconds delay);
  void check_h2c_deadlines();
  // incomplete_pdu_timeout_ms: samples the receive side every half timeout.
  void arm_receive_watchdog();
  void check_receive_stall();
  void grow_requests(uint16_t n);
  // target_queue: room for queue_size() requests.
  void on_bound() override { grow_requests(queue_size()); }

  int fd_;                                 // until start() hands it to the channel
  tcp_transport_options opts_;             // the TCP-only ones (limits() has the rest)
  socket_address peer_;                    // for this transport's own log lines
  pdu_reader reader_;
  pdu_writer writer_;
  std::shared_ptr<tls::tls_session> tls_;  // shared with the channel: the PSK identity after the handshake
  std::unique_ptr<pdu_channel> channel_;

  enum class conn_state : uint8_t { wait_ic_req, ready, terminating, closed };
  conn_state state_ = conn_state::wait_ic_req;
  bool hdgst_ = false;
  bool ddgst_ = false;
  uint32_t c2h_pda_ = 0;      // host-requested C2H data alignment, bytes (0: none)
  bool flush_scheduled_ = false;
  bool close_after_send_ = false;
  bool released_ = false;

  std::vector<std::unique_ptr<tcp_request>> requests_;
  tcp_request* free_list_ = nullptr;
  tcp_request* rx_req_ = nullptr;       // request the current PDU belongs to
  data_buffer_budget& buffers_;
  // Requests waiting for a data buffer, first come first served (linked through next_free).
  intrusive_fifo<tcp_request, &tcp_request::next_free> buffer_waiters_;
  timer_id buffer_retry_timer_ = 0;   // retries the waiters when other queues free buffers
  timer_id h2c_timer_ = 0;
  receive_watchdog watchdog_;
  timer_id watchdog_timer_ = 0;
  connection_slot slot_;

  std::array<std::byte, 128 + digest_len> icresp_hdr_{};
  tx_pdu icresp_tx_;
  // The C2HTermReq has buffers of its own: an ICResp may still be queued when it is sent.
  std::array<std::byte, sizeof(term_req_pdu)> term_hdr_{};
  std::array<std::byte, 152> term_data_{};                // TermReq data (bad header) / received H2CTermReq
  tx_pdu term_tx_;
  timer_id drain_timer_ = 0;
};

}  // namespace nvmfd
