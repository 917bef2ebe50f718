#pragma once
// tcp_host_qpair: the host side of one NVMe/TCP connection (an admin or an I/O queue).
//
// Created on a control thread for a socket whose ICReq/ICResp exchange is done
// (icreq_exchange), then started on one reactor; from then on everything runs there:
// submit() is called on that reactor, completions are delivered there. Commands carry
// in-capsule data up to the queue's limit, else answer R2Ts with H2CData PDUs of at most
// MAXH2CDATA bytes; read data arrives in C2HData PDUs (a SUCCESS flag completes the
// command). A C2HTermReq, a protocol violation by the controller, a dropped connection or a
// command timeout fails the queue: every outstanding command completes with a host status
// (host_path_error, or host_aborted for the one that timed out) and the queue is dead.
// A completion that comes while the command's capsule or an H2CData PDU is still queued for
// the socket (a hostile or early controller, or io_uring reporting our send late) is held
// until that PDU is sent: the slot and the caller's buffer are never given back while the
// writer reads them.
// Socket I/O goes through a pdu_channel (epoll or io_uring, after the reactor's backend).
//
// Lifetime: a tcp_host_qpair is owned by shared_ptrs. After fail(), io_uring operations may
// still point at its command slots (PDU headers) until its channel is quiet: the queue
// holds a reference to itself until then, so the last owner may let go at any time. The
// data buffers of failed commands are the callers' again at once: the socket is shut down
// before they complete, so a send still in flight can no longer read them out to the wire.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/strong_id.h"
#include "nvme_tcp/pdu_channel.h"
#include "nvme_tcp/pdu_reader.h"
#include "nvme_tcp/pdu_writer.h"
#include "reactor/reactor.h"
#include "tls/tls_session.h"
#include "host/host_request.h"
#include "host/icreq_exchange.h"

namespace nvmfd {

class tcp_host_qpair;
struct slot_waiter;

// Told when a queue has a free slot for a waiter (or failed: then alloc() returns nullptr).
class slot_waiter_callback {
 public:
  virtual void on_slot_free(tcp_host_qpair& q, slot_waiter& w) = 0;

 protected:
  ~slot_waiter_callback() = default;
};

// An intrusive wait-list entry, owned by the caller (e.g. inside a bdev_io).
struct slot_waiter {
  slot_waiter* next = nullptr;
  slot_waiter_callback* cb = nullptr;
};

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

class tcp_host_qpair final : public pdu_channel_client,
                         public pdu_reader_sink,
                         public deferred_task,
                         public std::enable_shared_from_this<tcp_host_qpair> {
 public:
  // tls: the client side of a TLS session on fd whose handshake is done (the opener's), or null.
  tcp_host_qpair(reactor& r, int fd, const tcp_host_qpair_params& p, std::shared_ptr<tls::tls_session> tls = nullptr);
  ~tcp_host_qpair();

  // On the reactor: registers the socket. Any thread may call start_on() instead.
  void start();
  // Called when the queue fails (once), on the reactor, after outstanding commands are failed.
  void set_failure_handler(std::function<void(const std::string&)> fn) { on_failure_ = std::move(fn); }

  reactor& owner() { return reactor_; }
  qid_t qid() const { return params_.qid; }
  // Any thread (host_controller::admin() asks from a control thread).
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  uint32_t outstanding() const { return outstanding_; }
  uint16_t queue_size() const { return params_.queue_size; }
  const std::string& failure_reason() const { return failure_; }
  uint64_t stale_completions() const { return stale_completions_; }

  // --- reactor only ---
  // A free slot, or nullptr when all are in use (or the queue failed).
  host_request* alloc();
  // Queues w (FIFO, shared by every user of this queue) until a slot frees up; then
  // w.cb->on_slot_free runs on this reactor, which should alloc() and submit. When the
  // queue fails, every waiter is told too (and its alloc() returns nullptr).
  void wait_for_slot(slot_waiter& w);
  bool has_waiters() const { return wait_head_ != nullptr; }
  // Sends req.cmd (its CID is set here). data/data_len/host_to_controller describe the
  // transfer. The callback runs on this reactor, never inside submit().
  void submit(host_request& req);
  // Fails the queue (closes the socket, completes every outstanding command with errors).
  // expected: a host-initiated teardown, logged at debug level rather than as a warning.
  void fail(const std::string& why, bool expected = false);

  // pdu_channel_client / pdu_reader_sink / deferred_task
  void on_channel_error(channel_error e) override;
  void on_channel_quiet() override;
  std::variant<std::byte*, term_error> on_pdu_header(std::span<const std::byte> header, uint32_t data_len) override;
  void on_pdu_received(std::span<const std::byte> header, bool data_digest_ok) override;
  void run_deferred() override;

  void on_request_pdu_sent(host_request& req, tx_pdu& p);

 private:
  host_request* find_by_cid(uint16_t cid);
  void complete(host_request& req, const nvme_completion& c);
  void finish(host_request& req, const nvme_completion& c);
  void queue_h2c(host_request& req);
  void schedule_flush();
  void flush_now();
  void wake_waiters();
  void arm_timeout_check();
  void check_timeouts();

  reactor& reactor_;
  int fd_;
  tcp_host_qpair_params params_;
  pdu_reader reader_;
  pdu_writer writer_;
  std::shared_ptr<tls::tls_session> tls_;  // until start() hands it to the channel
  std::unique_ptr<pdu_channel> channel_;     // from start() on, owns the socket
  std::shared_ptr<tcp_host_qpair> self_;         // after fail(), until the channel is quiet
  std::vector<std::unique_ptr<host_request>> slots_;
  host_request* free_ = nullptr;
  unsigned index_bits_ = 0;
  uint32_t outstanding_ = 0;
  slot_waiter* wait_head_ = nullptr;
  slot_waiter* wait_tail_ = nullptr;
  host_request* rx_req_ = nullptr;
  uint32_t rx_datal_ = 0;
  bool rx_success_ = false;
  bool flush_scheduled_ = false;
  std::atomic<bool> failed_{false};  // written on the reactor, read from control threads too
  std::string failure_;
  timer_id timeout_timer_ = 0;
  uint64_t stale_completions_ = 0;
  std::function<void(const std::string&)> on_failure_;
};

}  // namespace nvmfd
