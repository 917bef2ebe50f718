#include "host/sync_command.h"

#include <chrono>
#include <memory>

#include "reactor/blocking_call.h"
#include "reactor/reactor_assert.h"

namespace nvmfd {

namespace {

// One command in flight: owns its buffer and its continuation, and itself until the queue
// completes the command (the queue's timeout guarantees that it does).
struct host_command_op final : host_callback {
  std::vector<std::byte> buf;
  completion<sync_result> done;
  std::shared_ptr<host_command_op> self;

  void finish(const nvme_completion& c) {
    auto keep = std::move(self);
    done(sync_result{c, std::move(buf)});
  }
  void on_host_complete(host_request&, const nvme_completion& c) override { finish(c); }
};

}  // namespace

void submit_async(host_queue& q, const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c,
                  completion<sync_result> done, uint32_t timeout_ms) {
  auto op = std::make_shared<host_command_op>();
  op->buf = std::move(data);
  op->done = std::move(done);
  op->self = op;
  std::shared_ptr<host_queue> qp = q.shared_from_this();
  q.owner().post([qp, op = op.get(), cmd, h2c, timeout_ms] {
    host_request* r = qp->alloc();
    if (!r) return op->finish({nvme_status::path(sc_host::host_path_error), 0, 0});
    r->cmd = cmd;
    r->data = op->buf.empty() ? nullptr : op->buf.data();
    r->data_len = static_cast<uint32_t>(op->buf.size());
    r->host_to_controller = h2c;
    r->timeout_ms = timeout_ms;
    r->cb = op;
    qp->submit(*r);
  });
}

result<sync_result> run_sync(host_queue& q, const nvme_sqe& cmd, std::vector<std::byte> data, bool h2c,
                             uint32_t wait_ms) {
  assert_off_reactor("run_sync");
  std::shared_ptr<host_queue> qp = q.shared_from_this();
  return blocking_call<sync_result>(
      q.owner(),
      [qp, cmd, data = std::move(data), h2c](completion<sync_result> done) mutable {
        submit_async(*qp, cmd, std::move(data), h2c, std::move(done));
      },
      std::chrono::milliseconds(wait_ms), "command");
}

}  // namespace nvmfd
