#pragma once
// target_queue: one NVMe queue pair of the target (admin or I/O), whatever transport carries
// it, as Linux's nvmet_sq and SPDK's spdk_nvmf_qpair are. The command handlers
// (command_handlers.h) work on a target_queue and a target_request only; a transport derives
// from it (tcp_qpair, tests' fake_queue) and implements the three actions at the bottom.
//
// The neutral state lives here as plain members behind non-virtual accessors, so that the
// I/O path reaches it without a virtual call; the transport calls its own (final) overrides
// directly. Only the controller calls complete() and close() through the base (AERs,
// keep-alive timeout, controller reset), all on the control path.
//
// Threading: everything runs on the owning reactor (owner()), once constructed.
// Lifetime: owned through a shared_ptr (the controller keeps a weak_ptr to each I/O queue,
// weak_from_this()): a transport hands each new queue to nvmf_target::adopt_queue, and calls
// nvmf_target::release_queue when it may be destroyed (closed, its I/O done).
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/strong_id.h"
#include "proto/nvme_command.h"
#include "target/ns_snapshot.h"
#include "target/poll_group_stats.h"
#include "target/queue_endpoint.h"
#include "target/queue_limits.h"
#include "target/target_request.h"

namespace nvmfd {

namespace auth {
class controller_auth;
struct controller_auth_config;
}  // namespace auth
class controller;
class nvmf_target;
class reactor;

class target_queue : public std::enable_shared_from_this<target_queue> {
 public:
  virtual ~target_queue();
  target_queue(const target_queue&) = delete;
  target_queue& operator=(const target_queue&) = delete;

  nvmf_target& target() const { return target_; }
  reactor& owner() const { return reactor_; }
  qid_t qid() const { return qid_; }
  bool is_admin() const { return qid_ == admin_qid; }
  uint16_t queue_size() const { return queue_size_; }
  bool connected() const { return ctrl_ != nullptr; }
  controller* ctrl() const { return ctrl_.get(); }
  const std::shared_ptr<controller>& ctrl_ptr() const { return ctrl_; }
  // Connect CATTR bit 2: the host disabled SQ flow control (SQHD need not be reported).
  bool sq_flow_control_disabled() const { return sq_flow_control_disabled_; }
  const queue_limits& limits() const { return limits_; }
  // Where the host reached the target (matches subsystem listeners).
  const queue_endpoint& local() const { return local_; }
  // The host's end, for logs: "addr:port", "[v6addr]:port", or "an unknown peer".
  const std::string& peer() const { return peer_; }
  // A secure channel (TLS with a PSK, TP 8011): the host and subsystem NQN of the PSK
  // identity the handshake was made with, and the cipher and crypto path; a Connect on this
  // queue must name the same NQNs. Null on a clear-text queue. Set before any Connect.
  struct tls_peer {
    std::string hostnqn;
    std::string subnqn;
    std::string state;  // "TLS_AES_128_GCM_SHA256, user-space"
  };
  const std::optional<tls_peer>& tls() const { return tls_; }
  // The queue the transport's connection was opened for, when the transport knows it before
  // the Connect (RDMA: the CM private data's QID and HSQSIZE): a Connect naming another qid or
  // SQSIZE is refused. SQSIZE is 0's based, as the Connect's.
  struct opened_queue {
    qid_t qid;
    uint16_t sqsize;
  };
  const std::optional<opened_queue>& opened_for() const { return opened_for_; }

  // --- in-band authentication (auth_commands.cc) ---
  // Connect found a key for the host: this queue must pass DH-HMAC-CHAP before anything
  // but AUTH_Send/AUTH_Receive runs on it. Call after bind(). A host that has not
  // authenticated within the controller's KATO (120 s without one, as SPDK) loses the
  // queue: it is closed (an admin queue ends its controller), as SPDK and Linux nvmet
  // expire an abandoned transaction, so that unauthenticated queues cannot be parked on a
  // controller.
  void require_authentication(auth::controller_auth_config cfg);
  static constexpr uint32_t default_authentication_timeout_ms = 120000;
  // The queue's authentication, or nullptr when none is required.
  auth::controller_auth* authentication() const { return auth_.get(); }
  // Authentication is required and has not succeeded (yet), or a step of it is running.
  bool awaiting_authentication() const;
  // Runs step on the target's authentication worker (the FFDHE arithmetic of an AUTH_Send
  // must not stall the I/O of the other queues on this reactor), then finish() back here;
  // its status completes req. Meanwhile authentication() belongs to the worker
  // (authentication_busy()), and req counts as in flight, as a bdev I/O does (the transport
  // keeps the queue until it is back). A queue closed meanwhile skips finish().
  void run_authentication_step(target_request& req, std::function<void(auth::controller_auth&)> step,
                               std::function<nvme_status()> finish);
  bool authentication_busy() const { return auth_busy_; }

  // --- for the command handlers ---
  // Binds this queue to a controller after a successful Connect (then on_bound()).
  void bind(std::shared_ptr<controller> c, qid_t qid, uint16_t queue_size, bool sq_flow_control_disabled);
  // The namespace table for a new command, refreshed when the subsystem changed; every call
  // is matched by one put_snapshot() (end_request does it for req.snap).
  ns_snapshot* current_snapshot();
  // s is the newest (the subsystem's namespaces have not changed since it was taken). Bound
  // queues only: one atomic load, the I/O path calls it per command.
  bool snapshot_is_current(const ns_snapshot& s) const {
    return s.generation == ns_generation_->load(std::memory_order_acquire);
  }
  void put_snapshot(ns_snapshot* s) {
    if (--s->inflight == 0 && s != snap_.get()) retire_snapshot(s);
  }
  // Submits req.io to req.ns's bdev. The bdev completes it later on this reactor, through
  // req.io.done (the transport's), which must call bdev_io_finished(req) first.
  void submit_bdev_io(target_request& req);

  // req completes later, from elsewhere (a step on another thread, a wait for other
  // queues): it counts as in flight, as a bdev I/O does, so that the transport keeps the
  // queue until finish_held(req, st) completes it, on this reactor.
  void hold(target_request& req) {
    req.in_bdev = true;
    ++inflight_io_;
    if (req.snap) ++req.snap->in_bdev;
  }
  void finish_held(target_request& req, nvme_status st);
  // Runs done (deferred, on this reactor) once no command that took its namespace snapshot
  // before `generation` has a bdev I/O outstanding: commands from then on see the newer
  // namespace table (a reservation preempted and aborted), and those still running from
  // before have finished on the device.
  void after_older_io(uint64_t generation, std::function<void()> done);

  // --- for transports ---
  void bdev_io_finished(target_request& req) {
    if (!is_admin()) poll_group_stats::bump(stats_.completed_nvme_io);
    req.in_bdev = false;
    --inflight_io_;
    if (req.snap) --req.snap->in_bdev;
    if (!older_io_waiters_.empty()) wake_older_io_waiters();
  }
  // bdev I/Os submitted and not yet finished, over all of this queue's requests.
  uint32_t inflight_io() const { return inflight_io_; }
  // A command capsule arrived: it takes a submission queue entry, whatever becomes of it
  // (Base 2.0 4.6: SQHD advances for each).
  void consume_sqe() {
    if (queue_size_ > 0) sqhd_ = static_cast<uint16_t>((sqhd_ + 1) % queue_size_);
  }
  // The completion queue entry for req with status st: CID, SQ ID, SQ head, status.
  void fill_cqe(target_request& req, nvme_status st) const {
    req.cqe.cid = req.cid();
    req.cqe.sqid = qid_.value;
    req.cqe.sqhd = sqhd_;
    req.cqe.status = st.encode();
  }
  // The command is over (its response is sent, or the queue is closing): drops its hold
  // on the namespace snapshot. The transport frees its data buffer.
  void end_request(target_request& req) {
    if (req.snap) put_snapshot(req.snap);
    req.snap = nullptr;
    req.ns = nullptr;
  }
  // The queue is closing: the controller lets go of it (the admin queue ends the
  // controller; an I/O queue frees its qid). Call it before the host can see the link
  // close, so that a host reconnecting at once finds the qid free. Idempotent.
  void unbind();

  // --- what a transport does ---
  // Completes req with status st: controller-to-host data (when st is success and
  // req.c2h_len > 0: from req.c2h_data, else req.buf) then the response (fill_cqe). The
  // request belongs to this queue. Called by the controller for AERs; a transport calls its
  // own override.
  virtual void complete(target_request& req, nvme_status st) = 0;
  // Disconnect: the queue closes once this command's response is out.
  virtual void disconnect_after_response() = 0;
  // Closes the queue (idempotent); commands in flight end without a response. Calls
  // unbind() before the host can see the link close.
  virtual void close(std::string_view why) = 0;

 protected:
  target_queue(nvmf_target& t, reactor& r, queue_limits limits);
  // Sets where the host reached us and who it is, once the transport knows.
  void set_endpoints(queue_endpoint local, std::string peer);
  void set_tls(tls_peer t) { tls_ = std::move(t); }
  void set_opened_for(opened_queue o) { opened_for_ = o; }
  // After bind(): e.g. room for queue_size() requests.
  virtual void on_bound() {}

 private:
  void retire_snapshot(ns_snapshot* s);
  void authentication_expired(uint32_t timeout_ms);
  bool older_io_done(uint64_t generation) const;
  void wake_older_io_waiters();

  nvmf_target& target_;
  reactor& reactor_;
  poll_group_stats& stats_;  // the owner reactor's
  queue_limits limits_;
  queue_endpoint local_;
  std::string peer_ = "an unknown peer";
  std::optional<tls_peer> tls_;
  std::optional<opened_queue> opened_for_;
  std::shared_ptr<controller> ctrl_;
  qid_t qid_ = admin_qid;
  uint16_t queue_size_ = 0;
  uint16_t sqhd_ = 0;
  bool sq_flow_control_disabled_ = false;
  bool unbound_ = false;
  bool auth_busy_ = false;
  uint32_t inflight_io_ = 0;
  const std::atomic<uint64_t>* ns_generation_ = nullptr;  // the bound subsystem's (bind)
  std::unique_ptr<ns_snapshot> snap_;
  std::unique_ptr<auth::controller_auth> auth_;
  std::vector<std::unique_ptr<ns_snapshot>> retired_snaps_;
  std::vector<std::pair<uint64_t, std::function<void()>>> older_io_waiters_;
};

}  // namespace nvmfd
