#pragma once
// uring_engine: one io_uring per reactor for block I/O. Owned by its reactor and used
// only on that reactor's thread. Completions are reaped when the ring's eventfd fires
// and delivered to each operation's uring_op::on_complete(res), res being a byte count
// or -errno, as io_uring reports it.
#include <liburing.h>

#include "base/result.h"
#include "reactor/reactor.h"

namespace nvmfd {

class uring_op {
 public:
  virtual void on_complete(int res) = 0;

 protected:
  ~uring_op() = default;
};

class uring_engine final : public event_handler {
 public:
  static result<std::unique_ptr<uring_engine>> create(reactor& r, unsigned entries = 256);
  ~uring_engine();

  // Returns an SQE to fill, with user_data already pointing at op, or nullptr if the ring
  // is full even after submitting what is queued. The SQE is submitted on the next flush().
  io_uring_sqe* get_sqe(uring_op& op);
  // Submits queued SQEs. Called by the reactor before it sleeps; callers may call it too.
  void flush();
  void on_events(uint32_t events) override;

 private:
  uring_engine(reactor& r) : reactor_(r) {}
  void reap();

  reactor& reactor_;
  io_uring ring_{};
  int evfd_ = -1;
  unsigned pending_ = 0;
};

}  // namespace nvmfd
