#pragma once
// fake_queue: a transport for the command handlers' unit tests, without sockets. It runs a
// command through the steps every transport runs (consume_sqe, begin_command, data in,
// execute_command, bdev completions through io_step_done) and records each completion as
// the host would see it: the CQE and the controller-to-host data.
//
// What a real transport checks about the data transfer itself (SGL descriptor types,
// in-capsule limits, R2T) is not done here: that stays the TCP transport's and its tests'.
// Data buffers are exactly xfer_len bytes (not pooled), so that a handler writing past
// them shows under AddressSanitizer.
//
// Threading: submit(), complete(), close() and the rest of target_queue on the owning
// reactor; the recorded completions, close reasons and the disconnect flag from any thread.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "target/target_queue.h"

namespace nvmfd {

// One completion as the host receives it.
struct fake_completion {
  nvme_cqe cqe{};
  nvme_status status;
  std::vector<std::byte> data;  // the c2h_len bytes sent to the host (successful commands)
};

class fake_queue final : public target_queue {
 public:
  static constexpr const char* default_traddr = "192.0.2.1";
  static constexpr const char* default_trsvcid = "4420";
  static constexpr const char* default_peer = "192.0.2.99:50000";

  fake_queue(nvmf_target& t, reactor& r, queue_limits limits = {},
             queue_endpoint local = {default_traddr, default_trsvcid}, std::string peer = default_peer);
  ~fake_queue() override;

  // Reactor thread. Runs the command; data: its host-to-controller data (Connect's 1024
  // bytes are in-capsule, as on every fabric). The completion is recorded now or later.
  void submit(const nvme_sqe& sqe, std::span<const std::byte> data = {});
  // As a transport that knows the queue at connection time (RDMA's CM private data).
  void open_for(qid_t qid, uint16_t sqsize) { set_opened_for({qid, sqsize}); }

  // --- any thread ---
  // The completion of command cid, if it has come (and forgets it).
  std::optional<fake_completion> take_completion(uint16_t cid);
  bool disconnect_requested() const;
  std::vector<std::string> close_reasons() const;
  bool closed() const;

  // target_queue
  void complete(target_request& req, nvme_status st) override;
  void disconnect_after_response() override;
  void close(std::string_view why) override;

 private:
  struct fake_request;
  void on_io_done(fake_request& req);
  void release(target_request& req);

  std::vector<std::unique_ptr<fake_request>> live_;  // reactor: commands not yet completed
  bool closed_on_reactor_ = false;

  mutable std::mutex mu_;
  std::vector<fake_completion> completions_;
  std::vector<std::string> close_reasons_;
  bool disconnect_requested_ = false;
};

}  // namespace nvmfd
