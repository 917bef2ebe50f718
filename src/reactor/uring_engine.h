#pragma once
// uring_engine: one io_uring per reactor. Owned by its reactor and used only on that
// reactor's thread (the ring is created there). Two modes:
//  - watched (io_backend::epoll): block I/O only; an eventfd registered with the ring is one
//    of the reactor's epoll sources, and its event reaps completions.
//  - driving (io_backend::uring): the reactor waits on this ring (wait()) and reaps it on
//    every pass (reap(), from user space: no system call while nothing completed). Socket
//    I/O runs here too, with the receive buffers of recv_buffers().
// Each completion goes to its operation's uring_op::on_complete(res, flags) (uring_op.h).
//
// In flight: from get_sqe() to the completion without IORING_CQE_F_MORE, an operation and
// everything its SQE points at must stay alive; inflight() counts such operations. When the
// reactor's loop ends, stop() tells every registered uring_stop_hook (open connections end
// without notice to their owners) and waits, bounded, until nothing is in flight.
#include <liburing.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "base/result.h"
#include "reactor/io_backend.h"
#include "reactor/provided_buffers.h"
#include "reactor/reactor.h"
#include "reactor/uring_op.h"

namespace nvmfd {

// Something that keeps operations armed for as long as it lives (a multishot receive):
// told when the engine stops, it must end them (cancel) without calling anyone back.
// hooked() turns false when it is removed, or when the engine is destroyed first.
class uring_stop_hook {
 public:
  virtual void on_engine_stopping() = 0;
  bool hooked() const { return hooked_; }

 protected:
  ~uring_stop_hook() = default;

 private:
  friend class uring_engine;
  uring_stop_hook* prev_hook_ = nullptr;
  uring_stop_hook* next_hook_ = nullptr;
  bool hooked_ = false;
};

class uring_engine final : public event_handler {
 public:
  enum class mode : uint8_t { watched, driving };

  // Creates the ring on the calling thread, which must be r's (driving rings accept
  // submissions from their creator only). recv settings are used by recv_buffers().
  static result<std::unique_ptr<uring_engine>> create(reactor& r, mode m, const io_settings& recv = {},
                                                      unsigned entries = 256);
  // io_uring_queue_init with the flags of a mode: driving rings try single-issuer with
  // deferred task work, then cooperative task work, then none. Returns 0 or -errno.
  static int init_ring(io_uring& ring, unsigned entries, bool driving);
  ~uring_engine();

  mode engine_mode() const { return mode_; }
  // An SQE to fill, its user_data set to op (nullptr: a completion nobody waits for, as
  // for a cancel), or nullptr if the ring is full even after submitting what is queued.
  // Queued SQEs go to the kernel on the next flush() or wait().
  io_uring_sqe* get_sqe(uring_op* op);
  io_uring_sqe* get_sqe(uring_op& op) { return get_sqe(&op); }
  // Submits queued SQEs (no system call when none is queued; driving mode also runs the
  // kernel's pending task work in that call).
  void flush();
  // Driving mode: submits, then waits until a completion is there or timeout_ms passed
  // (-1: no limit).
  void wait(int timeout_ms);
  // Delivers the completions that are there (at most a few hundred per call); true if any.
  bool reap();
  unsigned inflight() const { return inflight_; }
  // The provided receive buffers (group 0), registered on first use; nullptr if that failed.
  provided_buffers* recv_buffers();
  // Times a multishot receive ran out of provided buffers (-ENOBUFS).
  uint64_t enobufs() const { return enobufs_; }
  void count_enobufs() { ++enobufs_; }

  void add_stop_hook(uring_stop_hook& h);
  void remove_stop_hook(uring_stop_hook& h);
  // End of the reactor's loop: tells the stop hooks, then reaps until nothing is in flight
  // or `bound` passed (reported). Operations still in flight then are abandoned.
  void stop(std::chrono::milliseconds bound);

  // event_handler (watched mode: the eventfd)
  void on_events(uint32_t events) override;

 private:
  uring_engine(reactor& r, mode m, const io_settings& recv) : reactor_(r), mode_(m), recv_settings_(recv) {}

  reactor& reactor_;
  mode mode_;
  io_settings recv_settings_;
  io_uring ring_{};
  int evfd_ = -1;
  unsigned pending_ = 0;   // SQEs queued, not submitted
  unsigned inflight_ = 0;  // operations submitted or queued whose last completion is not in
  uint64_t enobufs_ = 0;
  std::unique_ptr<provided_buffers> recv_buffers_;
  bool recv_buffers_failed_ = false;
  uring_stop_hook* hooks_ = nullptr;
  bool stopped_ = false;
};

}  // namespace nvmfd
