#include "reactor/uring_engine.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "base/log.h"
#include "base/tick_clock.h"

namespace nvmfd {

namespace {
constexpr unsigned reap_batch = 32;
constexpr unsigned reap_max_batches = 8;  // per reap(): the loop's other work gets its turn
constexpr uint16_t recv_group = 0;
}  // namespace

int uring_engine::init_ring(io_uring& ring, unsigned entries, bool driving) {
  io_uring_params p{};
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
  // Multishot receives post a completion per arrival: a CQ well larger than the SQ.
  p.cq_entries = entries * 16;
  if (!driving) {
    p.flags = 0;  // completions must post without us entering the kernel: the eventfd tells
    return io_uring_queue_init_params(entries, &ring, &p);
  }
  // Deferred task work runs only when we enter the kernel to wait or to fetch events: no
  // interrupts while the reactor works or polls. TASKRUN_FLAG makes pending work visible to
  // the user-space reap (liburing enters the kernel then, and only then).
  const unsigned choices[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      0,
  };
  int rc = -EINVAL;
  unsigned base = p.flags;
  for (unsigned extra : choices) {
    io_uring_params q{};
    q.flags = base | extra;
    q.cq_entries = p.cq_entries;
    rc = io_uring_queue_init_params(entries, &ring, &q);
    if (rc != -EINVAL) return rc;
  }
  return rc;
}

result<std::unique_ptr<uring_engine>> uring_engine::create(reactor& r, mode m, const io_settings& recv,
                                                           unsigned entries) {
  std::unique_ptr<uring_engine> e(new uring_engine(r, m, recv));
  int rc = init_ring(e->ring_, entries, m == mode::driving);
  if (rc < 0) return error::from_errno(-rc, "io_uring_queue_init");
  if (m == mode::driving) {
    // Entering the kernel by a registered index spares the fd lookup of every call; where
    // the kernel cannot, the plain fd is used.
    (void)io_uring_register_ring_fd(&e->ring_);
    return e;
  }
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
  while (hooks_) remove_stop_hook(*hooks_);
  if (evfd_ >= 0) reactor_.unwatch(evfd_);
  io_uring_queue_exit(&ring_);
  if (evfd_ >= 0) close(evfd_);
  // A receive still armed could write into the buffers until the ring is gone: when stop()
  // could not bring everything in, keep their memory rather than risk that.
  if (inflight_ > 0 && recv_buffers_) (void)recv_buffers_.release();
}

io_uring_sqe* uring_engine::get_sqe(uring_op* op) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (!sqe) {
    flush();
    sqe = io_uring_get_sqe(&ring_);
    if (!sqe) return nullptr;
  }
  io_uring_sqe_set_data(sqe, op);
  ++pending_;
  ++inflight_;
  return sqe;
}

void uring_engine::flush() {
  if (pending_ == 0) return;
  // Driving: the same system call runs the task work pending (completions to post), which
  // the reap would otherwise enter the kernel for.
  int rc = mode_ == mode::driving ? io_uring_submit_and_get_events(&ring_) : io_uring_submit(&ring_);
  if (rc >= 0) pending_ = 0;
}

void uring_engine::wait(int timeout_ms) {
  if (timeout_ms < 0) {
    io_uring_submit_and_wait(&ring_, 1);
  } else {
    __kernel_timespec ts{timeout_ms / 1000, static_cast<long long>(timeout_ms % 1000) * 1'000'000};
    io_uring_cqe* cqe = nullptr;
    io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  pending_ = 0;  // SUBMIT_ALL: everything queued went in (a failed SQE completes with an error)
}

bool uring_engine::reap() {
  struct completion {
    uring_op* op;
    int res;
    uint32_t flags;
  };
  bool any = false;
  for (unsigned round = 0; round < reap_max_batches; ++round) {
    io_uring_cqe* cqes[reap_batch];
    unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, reap_batch);
    if (n == 0) break;
    // Copy the batch out and release the CQ slots before any callback runs: a callback may
    // queue and submit more work.
    completion batch[reap_batch];
    for (unsigned i = 0; i < n; ++i)
      batch[i] = {static_cast<uring_op*>(io_uring_cqe_get_data(cqes[i])), cqes[i]->res, cqes[i]->flags};
    io_uring_cq_advance(&ring_, n);
    for (unsigned i = 0; i < n; ++i) {
      if (!(batch[i].flags & IORING_CQE_F_MORE)) --inflight_;
      tick_clock::start_batch();
      if (batch[i].op) batch[i].op->on_complete(batch[i].res, batch[i].flags);
    }
    any = true;
    if (n < reap_batch) break;
  }
  return any;
}

void uring_engine::on_events(uint32_t) {
  uint64_t v;
  [[maybe_unused]] auto n = read(evfd_, &v, sizeof(v));
  reap();
}

provided_buffers* uring_engine::recv_buffers() {
  if (!recv_buffers_ && !recv_buffers_failed_) {
    auto b = provided_buffers::create(ring_, recv_group, recv_settings_.recv_buffers, recv_settings_.recv_buffer_size);
    if (b) {
      recv_buffers_ = std::move(b.value());
    } else {
      recv_buffers_failed_ = true;
      NVMFD_LOG_ERROR("reactor {}: receive buffers: {}", reactor_.index(), b.err().message);
    }
  }
  return recv_buffers_.get();
}

void uring_engine::add_stop_hook(uring_stop_hook& h) {
  if (h.hooked_) return;
  h.hooked_ = true;
  h.prev_hook_ = nullptr;
  h.next_hook_ = hooks_;
  if (hooks_) hooks_->prev_hook_ = &h;
  hooks_ = &h;
}

void uring_engine::remove_stop_hook(uring_stop_hook& h) {
  if (!h.hooked_) return;
  if (h.prev_hook_)
    h.prev_hook_->next_hook_ = h.next_hook_;
  else
    hooks_ = h.next_hook_;
  if (h.next_hook_) h.next_hook_->prev_hook_ = h.prev_hook_;
  h.prev_hook_ = h.next_hook_ = nullptr;
  h.hooked_ = false;
}

void uring_engine::stop(std::chrono::milliseconds bound) {
  if (stopped_) return;
  stopped_ = true;
  // A hook may unhook itself (closing); it touches no other hook.
  for (uring_stop_hook* h = hooks_; h;) {
    uring_stop_hook* next = h->next_hook_;
    h->on_engine_stopping();
    h = next;
  }
  auto deadline = std::chrono::steady_clock::now() + bound;
  while (inflight_ > 0 && std::chrono::steady_clock::now() < deadline) {
    if (mode_ == mode::driving) {
      wait(50);
    } else {
      flush();
      __kernel_timespec ts{0, 50'000'000};
      io_uring_cqe* cqe = nullptr;
      io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
    }
    reap();
  }
  if (inflight_ > 0)
    NVMFD_LOG_ERROR("reactor {}: {} io_uring operation(s) still in flight at stop", reactor_.index(), inflight_);
}

}  // namespace nvmfd
