#include "host/sync_command.h"

#include <condition_variable>
#include <memory>
#include <mutex>

#include "reactor/reactor_assert.h"

namespace nvmfd {

namespace {

struct sync_waiter final : host_callback {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  nvme_completion c;
  std::vector<std::byte> buf;
  std::shared_ptr<sync_waiter> self;  // alive until the queue completes the command

  void finish(const nvme_completion& x) {
    auto keep = std::move(self);
    std::lock_guard lk(mu);
    c = x;
    done = true;
    cv.notify_all();
  }
  void on_host_complete(host_request&, const nvme_completion& x) override { finish(x); }
};

}  // namespace

result<sync_result> run_sync(host_qpair& q, const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c,
                             uint32_t wait_ms) {
  assert_off_reactor("run_sync");
  auto w = std::make_shared<sync_waiter>();
  w->buf = std::move(data);
  w->self = w;
  std::shared_ptr<host_qpair> qp = q.shared_from_this();
  q.owner().post([qp, w, cmd, h2c] {
    host_request* r = qp->alloc();
    if (!r) {
      w->finish({nvme_status::path(sc_host::host_path_error), 0, 0});
      return;
    }
    r->cmd = cmd;
    r->data = w->buf.empty() ? nullptr : w->buf.data();
    r->data_len = static_cast<uint32_t>(w->buf.size());
    r->host_to_controller = h2c;
    r->cb = w.get();
    qp->submit(*r);
  });
  std::unique_lock lk(w->mu);
  if (!w->cv.wait_for(lk, std::chrono::milliseconds(wait_ms), [&] { return w->done; }))
    return error{errc::timed_out, "command timed out"};
  return sync_result{w->c, std::move(w->buf)};
}

}  // namespace nvmfd
