#include "fake_queue.h"

#include <algorithm>
#include <cstring>

#include "target/command_handlers.h"

namespace nvmfd {

struct fake_queue::fake_request final : target_request, bdev_io_callback {
  fake_queue* q = nullptr;
  std::vector<std::byte> storage;  // the data buffer: exactly what the command moves

  void on_bdev_io_done(bdev_io&) override { q->on_io_done(*this); }
  // Points buf at a zeroed buffer of n bytes (the old contents are dropped).
  void give_buffer(size_t n) {
    storage.assign(n, std::byte{0});
    buf = storage.data();
    buf_len = static_cast<uint32_t>(n);
  }
};

fake_queue::fake_queue(nvmf_target& t, reactor& r, queue_limits limits, queue_endpoint local, std::string peer)
    : target_queue(t, r, limits) {
  set_endpoints(std::move(local), std::move(peer));
}

fake_queue::~fake_queue() = default;

void fake_queue::submit(const nvme_sqe& sqe, std::span<const std::byte> data) {
  auto owned = std::make_unique<fake_request>();
  fake_request& req = *owned;
  live_.push_back(std::move(owned));
  req.q = this;
  req.queue = this;
  req.io.done = &req;
  req.io.owner = &owner();
  req.reset();
  req.cmd = sqe;
  consume_sqe();
  if (!data.empty()) {  // in-capsule: where Connect reads its data
    req.give_buffer(data.size());
    std::memcpy(req.buf, data.data(), data.size());
    req.in_capsule_len = static_cast<uint32_t>(data.size());
  }
  nvme_status st = begin_command(*this, req);
  if (!st.ok()) return complete(req, st);
  if (req.dir == data_direction::host_to_controller && req.xfer_len != req.in_capsule_len) {
    req.give_buffer(req.xfer_len);
    if (!data.empty()) std::memcpy(req.buf, data.data(), std::min<size_t>(data.size(), req.xfer_len));
  } else if (req.dir == data_direction::controller_to_host && !req.in_place) {
    req.give_buffer(req.xfer_len);
  }
  if (auto done = execute_command(*this, req)) complete(req, *done);
}

void fake_queue::on_io_done(fake_request& req) {
  bdev_io_finished(req);
  if (closed_on_reactor_) return release(req);
  if (auto st = io_step_done(*this, req)) complete(req, *st);
}

void fake_queue::complete(target_request& req, nvme_status st) {
  if (closed_on_reactor_) return release(req);
  fill_cqe(req, st);
  fake_completion c;
  c.cqe = req.cqe;
  c.status = nvme_status::decode(req.cqe.status.get());  // as the host reads it
  if (st.ok() && req.dir == data_direction::controller_to_host && req.c2h_len > 0) {
    const std::byte* from = req.c2h_data ? req.c2h_data : req.buf;
    c.data.assign(from, from + req.c2h_len);
  }
  release(req);
  std::lock_guard lk(mu_);
  completions_.push_back(std::move(c));
}

void fake_queue::release(target_request& req) {
  end_request(req);
  std::erase_if(live_, [&req](const auto& r) { return r.get() == &req; });
}

void fake_queue::disconnect_after_response() {
  std::lock_guard lk(mu_);
  disconnect_requested_ = true;
}

void fake_queue::close(std::string_view why) {
  {
    std::lock_guard lk(mu_);
    close_reasons_.emplace_back(why);
  }
  if (closed_on_reactor_) return;
  closed_on_reactor_ = true;
  unbind();
  // Commands not waiting on a bdev end now; the others when their I/O completes.
  std::vector<target_request*> idle;
  for (auto& r : live_)
    if (!r->in_bdev) idle.push_back(r.get());
  for (auto* r : idle) release(*r);
}

std::optional<fake_completion> fake_queue::take_completion(uint16_t cid) {
  std::lock_guard lk(mu_);
  auto it = std::find_if(completions_.begin(), completions_.end(),
                         [cid](const fake_completion& c) { return c.cqe.cid.get() == cid; });
  if (it == completions_.end()) return std::nullopt;
  fake_completion c = std::move(*it);
  completions_.erase(it);
  return c;
}

bool fake_queue::disconnect_requested() const {
  std::lock_guard lk(mu_);
  return disconnect_requested_;
}

std::vector<std::string> fake_queue::close_reasons() const {
  std::lock_guard lk(mu_);
  return close_reasons_;
}

bool fake_queue::closed() const {
  std::lock_guard lk(mu_);
  return !close_reasons_.empty();
}

}  // namespace nvmfd
