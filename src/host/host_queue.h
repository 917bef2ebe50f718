#pragma once
// host_queue: the host side of one NVMe queue pair (an admin or an I/O queue) to one
// controller, whatever transport carries it. Everything above the transport (host_controller,
// nvme_bdev, sync_command, queue_authenticator, nvmf_perf) works on a host_queue and its
// host_requests only; a transport derives from it (tcp_host_qpair for NVMe/TCP) and
// implements start(), send() and close_transport().
//
// The neutral state lives here as plain members behind non-virtual accessors: the slots and
// their CIDs (index and generation), the free list and the FIFO of slot waiters, the command
// deadlines and their timer, the failure. So the I/O path pays one virtual call per command
// (submit() -> send()); alloc(), completion and wake-up are not virtual.
//
// Threading: created on any thread, then started (start()) on its reactor, owner(); from
// then on everything runs there: alloc(), submit(), fail() are called there and completions
// are delivered there. failed() may be read from any thread.
//
// Completion: a command completes exactly once, through its host_callback on the reactor,
// never inside submit(): with the controller's completion, or, when the queue fails (a
// transport error, a protocol violation by the controller, a dropped connection, fail(), or
// a command past its timeout), with a host status: host_path_error, or host_aborted for the
// one that timed out. The queue is then dead: alloc() returns nullptr, commands submitted
// after the failure complete with host_path_error from the loop. A transport may hold a
// completion (slot state answered) while it still reads the slot or the caller's buffer (a
// send not done yet): the slot and the buffer are never given back while the transport
// reads them. The data buffers of failed commands are the callers' again at once: the
// transport stops reading them (shuts its connection down) before they complete.
//
// Lifetime: owned by shared_ptrs. A transport whose I/O may still point at the slots after
// fail() keeps a reference to itself until that I/O is over, so the last owner may let go at
// any time.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/strong_id.h"
#include "reactor/reactor.h"
#include "host/host_request.h"

namespace nvmfd {

struct slot_waiter;

// Told when a queue has a free slot for a waiter (or failed: then alloc() returns nullptr).
class slot_waiter_callback {
 public:
  virtual void on_slot_free(host_queue& q, slot_waiter& w) = 0;

 protected:
  ~slot_waiter_callback() = default;
};

// An intrusive wait-list entry, owned by the caller (e.g. inside a bdev_io).
struct slot_waiter {
  slot_waiter* next = nullptr;
  slot_waiter_callback* cb = nullptr;
};

class host_queue : public std::enable_shared_from_this<host_queue> {
 public:
  virtual ~host_queue();
  host_queue(const host_queue&) = delete;
  host_queue& operator=(const host_queue&) = delete;

  // On the reactor: starts the transport (registers the socket). A failure fails the queue.
  virtual void start() = 0;
  // Called when the queue fails (once), on the reactor, after outstanding commands are failed.
  void set_failure_handler(std::function<void(const std::string&)> fn) { on_failure_ = std::move(fn); }

  reactor& owner() const { return reactor_; }
  qid_t qid() const { return qid_; }
  // Any thread (host_controller::admin() asks from a control thread).
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  uint32_t outstanding() const { return outstanding_; }
  uint16_t queue_size() const { return static_cast<uint16_t>(slots_.size()); }
  const std::string& failure_reason() const { return failure_; }
  // Completions (or data) from the controller for no command or a slot's previous one.
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
  // Fails the queue (closes the connection, completes every outstanding command with errors).
  // expected: a host-initiated teardown, logged at debug level rather than as a warning.
  void fail(const std::string& why, bool expected = false);

 protected:
  // io_timeout_ms: a command's time limit when it names none (0: no limit).
  host_queue(reactor& r, qid_t qid, uint16_t queue_size, uint32_t io_timeout_ms);

  // --- the transport's part, on the reactor ---
  // Sends a submitted command (CID, deadline and state set). When the queue has failed
  // already, sends nothing and completes it later from the loop (complete_unfinished()).
  virtual void send(host_request& req) = 0;
  // From fail(), once, before the outstanding commands complete: stops reading and writing
  // the callers' buffers (shuts the connection down), keeping itself alive if it must.
  virtual void close_transport() = 0;

  // The waiting command with this CID, or nullptr (free, answered, or a stale generation).
  host_request* find_by_cid(uint16_t cid);
  // Frees the slot, then runs its callback, then wakes slot waiters.
  void complete(host_request& req, const nvme_completion& c);
  // After a failure: completes every command not free with host_path_error.
  void complete_unfinished();
  uint32_t io_timeout_ms() const { return io_timeout_ms_; }

  reactor& reactor_;
  std::vector<std::unique_ptr<host_request>> slots_;
  uint64_t stale_completions_ = 0;

 private:
  void wake_waiters();
  void arm_timeout_check();
  void check_timeouts();

  qid_t qid_;
  uint32_t io_timeout_ms_;
  host_request* free_ = nullptr;
  unsigned index_bits_ = 0;
  uint32_t outstanding_ = 0;
  slot_waiter* wait_head_ = nullptr;
  slot_waiter* wait_tail_ = nullptr;
  std::atomic<bool> failed_{false};  // written on the reactor, read from control threads too
  std::string failure_;
  timer_id timeout_timer_ = 0;
  std::function<void(const std::string&)> on_failure_;
};

}  // namespace nvmfd
