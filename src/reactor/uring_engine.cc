#include "reactor/uring_engine.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace nvmfd {

result<std::unique_ptr<uring_engine>> uring_engine::create(reactor& r, unsigned entries) {
  std::unique_ptr<uring_engine> e(new uring_engine(r));
  int rc = io_uring_queue_init(entries, &e->ring_, 0);
  if (rc < 0) return error::from_errno(-rc, "io_uring_queue_init");
  e->evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (e->evfd_ < 0) {
    io_uring_queue_exit(&e->ring_);
    return error::from_errno(errno, "eventfd");
  }
  rc = io_uring_register_eventfd(&e->ring_, e->evfd_);
  if (rc < 0) {
    close(e->evfd_);
    io_uring_queue_exit(&e->ring_);
    return error::from_errno(-rc, "io_uring_register_eventfd");
  }
  if (auto w = r.watch(e->evfd_, EPOLLIN, e.get()); !w) {
    close(e->evfd_);
    io_uring_queue_exit(&e->ring_);
    return w.take_err();
  }
  return e;
}

uring_engine::~uring_engine() {
  reactor_.unwatch(evfd_);
  io_uring_queue_exit(&ring_);
  close(evfd_);
}

io_uring_sqe* uring_engine::get_sqe(uring_op& op) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) {
    flush();
    sqe = io_uring_get_sqe(&ring_);
    if (!sqe) return nullptr;
  }
  io_uring_sqe_set_data(sqe, &op);
  ++pending_;
  return sqe;
}

void uring_engine::flush() {
  if (pending_ == 0) return;
  int rc = io_uring_submit(&ring_);
  if (rc >= 0) pending_ = 0;
}

void uring_engine::on_events(uint32_t) {
  uint64_t v;
  [[maybe_unused]] auto n = read(evfd_, &v, sizeof(v));
  reap();
}

void uring_engine::reap() {
  io_uring_cqe* cqe;
  while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
    auto* op = static_cast<uring_op*>(io_uring_cqe_get_data(cqe));
    int res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    if (op) op->on_complete(res);
  }
}

}  // namespace nvmfd
