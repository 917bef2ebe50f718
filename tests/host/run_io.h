#pragma once
// run_io: one command on a host controller's I/O queue of reactor 0, waited for (10 s at most).
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "host/host_controller.h"

namespace nvmfd::test {

struct completion_waiter final : host_callback {
  std::promise<nvme_completion> p;
  void on_host_complete(host_request&, const nvme_completion& c) override { p.set_value(c); }
};

inline nvme_completion run_io(reactor_pool& pool, host_controller& c, const nvme_sqe& cmd, std::byte* data,
                              uint32_t len, bool h2c) {
  completion_waiter w;
  pool.run_on(0, [&] {
    host_queue* q = c.io_queue(pool.at(0));
    host_request* r = q->alloc();
    r->cmd = cmd;
    r->data = data;
    r->data_len = len;
    r->host_to_controller = h2c;
    r->cb = &w;
    q->submit(*r);
  });
  auto f = w.p.get_future();
  EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  return f.get();
}

}  // namespace nvmfd::test
