#include "host/host_queue.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "base/log.h"

namespace nvmfd {

namespace {
nvme_status path_error() { return nvme_status::path(sc_host::host_path_error); }
}  // namespace

host_queue::host_queue(reactor& r, qid_t qid, uint16_t queue_size, uint32_t io_timeout_ms)
    : reactor_(r), qid_(qid), io_timeout_ms_(io_timeout_ms) {
  index_bits_ = std::max(1u, static_cast<unsigned>(std::bit_width(unsigned{queue_size} - 1)));
  for (uint16_t i = 0; i < queue_size; ++i) {
    auto s = std::make_unique<host_request>();
    s->index = i;
    s->queue = this;
    s->next_free = free_;
    free_ = s.get();
    slots_.push_back(std::move(s));
  }
}

host_queue::~host_queue() = default;

host_request* host_queue::alloc() {
  if (failed_ || !free_) return nullptr;
  host_request* r = free_;
  free_ = r->next_free;
  r->next_free = nullptr;
  r->state = host_request_state::sent;
  r->data = nullptr;
  r->data_len = 0;
  r->host_to_controller = false;
  r->cb = nullptr;
  r->user = nullptr;
  r->timeout_ms = 0;
  r->cmd = {};
  return r;
}

host_request* host_queue::find_by_cid(uint16_t cid) {
  uint16_t index = static_cast<uint16_t>(cid & ((1u << index_bits_) - 1));
  uint16_t gen = static_cast<uint16_t>(cid >> index_bits_);
  if (index >= slots_.size()) return nullptr;
  host_request* r = slots_[index].get();
  // An answered command takes no more PDUs: anything for it is stale.
  if (r->state == host_request_state::free || r->state == host_request_state::answered || r->generation != gen)
    return nullptr;
  return r;
}

void host_queue::submit(host_request& req) {
  req.generation = static_cast<uint16_t>((req.generation + 1) & ((1u << (16 - index_bits_)) - 1));
  req.cmd.cid = static_cast<uint16_t>((req.generation << index_bits_) | req.index);
  uint32_t limit_ms = req.timeout_ms ? req.timeout_ms : io_timeout_ms_;
  req.deadline = limit_ms && limit_ms != host_request::no_timeout
                     ? reactor_.now() + std::chrono::milliseconds(limit_ms)
                     : clock_type::time_point::max();
  ++outstanding_;
  req.awaited = req.timeout_ms != host_request::no_timeout;
  if (req.awaited) reactor_.add_pending();
  req.state = host_request_state::waiting;
  send(req);
  if (!failed_ && req.deadline != clock_type::time_point::max() && !timeout_timer_) arm_timeout_check();
}

void host_queue::complete(host_request& req, const nvme_completion& c) {
  req.state = host_request_state::free;
  --outstanding_;
  if (req.awaited) reactor_.remove_pending();
  host_callback* cb = req.cb;
  req.next_free = free_;
  free_ = &req;
  if (cb) cb->on_host_complete(req, c);
  wake_waiters();
}

void host_queue::complete_unfinished() {
  for (auto& s : slots_)
    if (s->state != host_request_state::free) complete(*s, {path_error(), 0, 0});
}

void host_queue::wait_for_slot(slot_waiter& w) {
  w.next = nullptr;
  if (wait_tail_)
    wait_tail_->next = &w;
  else
    wait_head_ = &w;
  wait_tail_ = &w;
}

void host_queue::wake_waiters() {
  // Each waiter takes a slot (or, on a failed queue, finds none and gives up).
  while (wait_head_ && (free_ || failed_)) {
    slot_waiter* w = wait_head_;
    wait_head_ = w->next;
    if (!wait_head_) wait_tail_ = nullptr;
    w->next = nullptr;
    w->cb->on_slot_free(*this, *w);
  }
}

void host_queue::fail(const std::string& why, bool expected) {
  if (failed_) return;
  failed_ = true;
  failure_ = why;
  if (expected)
    NVMFD_LOG_DEBUG("host queue {} closed: {}", qid_, why);
  else
    NVMFD_LOG_WARN("host queue {} failed: {}", qid_, why);
  if (timeout_timer_) reactor_.cancel(timeout_timer_);
  timeout_timer_ = 0;
  close_transport();
  auto now = reactor_.now();
  for (auto& s : slots_) {
    if (s->state == host_request_state::free) continue;
    if (s->state == host_request_state::answered) {
      complete(*s, s->answer);  // the controller's answer; the transport no longer reads the buffer
      continue;
    }
    bool timed_out = s->deadline <= now;
    complete(*s, {timed_out ? nvme_status::path(sc_host::host_aborted) : path_error(), 0, 0});
  }
  wake_waiters();
  if (on_failure_) on_failure_(why);
}

void host_queue::arm_timeout_check() {
  uint32_t base = io_timeout_ms_ ? io_timeout_ms_ : 4000;
  auto period = std::chrono::milliseconds(std::max<uint32_t>(50, std::min<uint32_t>(base / 4, 250)));
  std::weak_ptr<host_queue> weak = weak_from_this();
  timeout_timer_ = reactor_.schedule(period, [weak] {
    if (auto q = weak.lock()) {
      q->timeout_timer_ = 0;
      q->check_timeouts();
    }
  });
}

void host_queue::check_timeouts() {
  if (failed_) return;
  auto now = reactor_.now();
  for (auto& s : slots_) {
    if (s->state != host_request_state::free && s->deadline <= now) {
      fail(fmt::format("command {:#x} (opcode {:#x}) timed out after {} ms", s->cmd.cid.get(), s->cmd.opcode,
                       s->timeout_ms ? s->timeout_ms : io_timeout_ms_));
      return;
    }
  }
  for (auto& s : slots_)
    if (s->state != host_request_state::free && s->deadline != clock_type::time_point::max()) {
      arm_timeout_check();
      return;
    }
}

}  // namespace nvmfd
